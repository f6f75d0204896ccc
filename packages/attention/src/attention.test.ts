import { CpuBackend, attentionForward, channelMeanCpu } from '@fpsattn/kernels';
import { computeScale, encodeFp8, reciprocalScale } from '@fpsattn/fp8';
import type { AttentionPlan } from '@fpsattn/scheduler';
import { bruteForceTileId, bruteForceTokenMask } from '@fpsattn/tiling/testing';
import { describe, expect, it } from 'vitest';
import { attention } from './attention';
import { AttentionGeometryCache } from './attention-geometry';
import { ATTENTION_ERROR_CODES, AttentionInputError, AttentionPlanError } from './errors';
import { attentionErrorStats, rasterAttentionReference, unitBf16 } from './testing';

const backend = new CpuBackend();
const cache = new AttentionGeometryCache();

/**
 * The declared tolerance of the composed op against the raster float64 reference with the same Q/K/V quantization,
 * as a relative L2 error: what remains is the op's P quantization (BF16: 8 significant bits; E4M3 with the fixed
 * scale 448: 4 bits, coarse for small p) and the BF16 output (alone about 1.7e-3 on O(1) values). Measured on these
 * inputs (see the log lines): BF16 modes 1.7e-3, FP8 modes 6.7e-3 to 9.3e-3; the bounds leave a factor of about 2.
 * The exact plumbing (order, padding, groups, scales, scatter) is pinned bit for bit by the test after these.
 */
const TOLERANCE = { 'dense-bf16': 4e-3, 'sparse-bf16': 4e-3, 'fp8-dense': 2e-2, 'fp8-sparse': 2e-2 } as const;

interface Case {
  name: string;
  grid: [number, number, number];
  batch: number;
  heads: number;
  headDim: number;
  plan?: AttentionPlan;
  plans?: AttentionPlan[];
  kSmoothing?: boolean;
}

const clamped = (tiles: [number, number, number]) => ({ kind: 'clamped' as const, tiles });
const sparseTile: [number, number, number] = [2, 3, 4];

const cases: Case[] = [
  { name: 'dense-bf16, 70 tokens (one partial block)', grid: [2, 5, 7], batch: 1, heads: 2, headDim: 64, plan: { mode: 'dense-bf16' } },
  { name: 'dense-bf16, 270 tokens, batch 2, heads 1, headDim 128', grid: [3, 9, 10], batch: 2, heads: 1, headDim: 128, plan: { mode: 'dense-bf16' } },
  { name: 'fp8-dense per tensor, ragged', grid: [3, 9, 10], batch: 2, heads: 2, headDim: 64, plan: { mode: 'fp8-dense', granularity: { kind: 'tensor' } } },
  { name: 'fp8-dense per token', grid: [3, 9, 10], batch: 1, heads: 2, headDim: 64, plan: { mode: 'fp8-dense', granularity: { kind: 'token' } } },
  { name: 'fp8-dense per 3D tile (tile-major order)', grid: [3, 9, 10], batch: 2, heads: 2, headDim: 64, plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [2, 4, 3] } } },
  { name: 'fp8-dense per tile, K smoothing', grid: [3, 9, 10], batch: 2, heads: 2, headDim: 64, plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 3, 5] } }, kSmoothing: true },
  { name: 'sparse-bf16, clamped window, partial tiles', grid: [3, 9, 10], batch: 2, heads: 2, headDim: 64, plan: { mode: 'sparse-bf16', sparsity: { tile: sparseTile, window: clamped([1, 3, 3]) } } },
  { name: 'sparse-bf16, seed window, heads 1', grid: [4, 7, 9], batch: 1, heads: 1, headDim: 128, plan: { mode: 'sparse-bf16', sparsity: { tile: sparseTile, window: { kind: 'seed', tokens: [4, 6, 8] } } } },
  {
    name: 'fp8-sparse, quantization tile = attention tile',
    grid: [3, 9, 10],
    batch: 2,
    heads: 2,
    headDim: 64,
    plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: sparseTile }, sparsity: { tile: sparseTile, window: clamped([2, 1, 3]) } },
  },
  {
    name: 'fp8-sparse, finer quantization slabs [1, 3, 4], K smoothing',
    grid: [3, 9, 10],
    batch: 1,
    heads: 2,
    headDim: 64,
    plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 3, 4] }, sparsity: { tile: sparseTile, window: clamped([1, 3, 3]) } },
    kSmoothing: true,
  },
  {
    // The paper's early phase: quantization tiles coarser than the attention tile (here 2 x 3 attention tiles each, and
    // partial at the edges), so each group is several runs of the tile-major order (quantizeRows' two-pass path).
    name: 'fp8-sparse, coarser quantization tiles [3, 6, 8] over [2, 3, 4] attention tiles (straddling them along t), K smoothing',
    grid: [3, 9, 10],
    batch: 2,
    heads: 2,
    headDim: 64,
    plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [3, 6, 8] }, sparsity: { tile: sparseTile, window: clamped([1, 3, 3]) } },
    kSmoothing: true,
  },
  {
    name: 'fp8-sparse per token and per tensor',
    grid: [3, 9, 10],
    batch: 2,
    heads: 1,
    headDim: 64,
    plan: { mode: 'fp8-sparse', granularity: { kind: 'tensor' }, sparsity: { tile: sparseTile, window: clamped([1, 1, 1]) } },
  },
  {
    name: 'fp8-sparse, per-head windows (one dense head)',
    grid: [3, 9, 10],
    batch: 2,
    heads: 3,
    headDim: 64,
    plans: [
      { mode: 'fp8-sparse', granularity: { kind: 'token' }, sparsity: { tile: sparseTile, window: clamped([1, 3, 3]) } },
      { mode: 'fp8-sparse', granularity: { kind: 'token' }, sparsity: { tile: sparseTile, window: { kind: 'seed', tokens: [2, 6, 8] } } },
      { mode: 'fp8-dense', granularity: { kind: 'token' } },
    ],
  },
  {
    name: 'sparse-bf16, per-head windows',
    grid: [2, 6, 8],
    batch: 1,
    heads: 2,
    headDim: 64,
    plans: [
      { mode: 'sparse-bf16', sparsity: { tile: [1, 3, 4], window: clamped([1, 1, 1]) } },
      { mode: 'sparse-bf16', sparsity: { tile: [1, 3, 4], window: clamped([2, 2, 2]) } },
    ],
  },
];

function inputs(c: Case, seed: number) {
  const n = c.grid[0] * c.grid[1] * c.grid[2];
  const cols = c.heads * c.headDim;
  const length = c.batch * n * cols;
  const bits = [unitBf16({ length, seed, cols }), unitBf16({ length, seed: seed + 1, cols, kLike: true }), unitBf16({ length, seed: seed + 2, cols })];
  const tensor = (b: Uint16Array, name: string) => backend.fromArray(b, [c.batch, n, cols], 'bf16', { name });
  return { bits, q: tensor(bits[0]!, 'q'), k: tensor(bits[1]!, 'k'), v: tensor(bits[2]!, 'v') };
}

describe('attention (CPU backend) against a raster float64 reference with the same Q/K/V quantization', () => {
  it.each(cases)('$name', (c) => {
    const { bits, q, k, v } = inputs(c, 11);
    const out = attention({ q, k, v, grid: c.grid, plan: c.plan, plans: c.plans, headDim: c.headDim, kSmoothing: c.kSmoothing, cache });
    expect(out.shape).toEqual(q.shape);
    const expected = rasterAttentionReference({ q: bits[0]!, k: bits[1]!, v: bits[2]!, batch: c.batch, grid: c.grid, headDim: c.headDim, plan: c.plan, plans: c.plans, kSmoothing: c.kSmoothing });
    const stats = attentionErrorStats(out.downloadSync(), expected);
    const mode = (c.plan ?? c.plans![0]!).mode;
    console.log(`attention ${c.name}: relL2 ${stats.relL2.toExponential(2)}, cosine ${stats.cosine.toFixed(6)}, maxAbs ${stats.maxAbs.toExponential(2)}`);
    expect(stats.relL2).toBeLessThan(TOLERANCE[mode]);
    out.dispose();
  });

  // Q and K go per row here (kScale), whichever K path the op takes: where the geometry has kBlockGroups, the op's
  // kBlockScale path must give the per-row path's output bit for bit.
  it.each([
    {
      name: 'fp8-sparse, finer quantization slabs [1, 3, 4], K smoothing: K per row',
      grid: [3, 9, 10],
      plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 3, 4] }, sparsity: { tile: sparseTile, window: clamped([1, 3, 3]) } },
      kSmoothing: true,
      kPerBlock: false,
    },
    {
      name: 'fp8-sparse, quantization tile = attention tile (one ragged block each), K smoothing: K per block',
      grid: [3, 9, 10],
      plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: sparseTile }, sparsity: { tile: sparseTile, window: clamped([1, 3, 3]) } },
      kSmoothing: true,
      kPerBlock: true,
    },
    {
      name: 'fp8-sparse, quantization tile = attention tile of 180 tokens (blocks of 128 and 52 rows, a last tile of 90 and an empty block): K per block',
      grid: [3, 9, 10],
      plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [2, 9, 10] }, sparsity: { tile: [2, 9, 10], window: clamped([1, 1, 1]) } },
      kSmoothing: false,
      kPerBlock: true,
    },
    {
      name: 'fp8-sparse per tensor, padding between tiles: K per block',
      grid: [3, 9, 10],
      plan: { mode: 'fp8-sparse', granularity: { kind: 'tensor' }, sparsity: { tile: sparseTile, window: clamped([1, 1, 3]) } },
      kSmoothing: true,
      kPerBlock: true,
    },
    {
      name: 'fp8-dense per tensor, raster with a last partial block: K per block',
      grid: [3, 9, 10],
      plan: { mode: 'fp8-dense', granularity: { kind: 'tensor' } },
      kSmoothing: false,
      kPerBlock: true,
    },
    {
      name: 'fp8-dense per token: K per row',
      grid: [3, 9, 10],
      plan: { mode: 'fp8-dense', granularity: { kind: 'token' } },
      kSmoothing: false,
      kPerBlock: false,
    },
  ] as { name: string; grid: [number, number, number]; plan: AttentionPlan; kSmoothing: boolean; kPerBlock: boolean }[])(
    '$name: equals, bit for bit, attentionForward on operands quantized token by token with per-row scales (order, padding, groups, scales, scatter)',
    ({ grid, plan, kSmoothing, kPerBlock }) => {
      const c: Case = { name: 'plumbing', grid, batch: 2, heads: 2, headDim: 64, plan, kSmoothing };
      const { bits, q, k, v } = inputs(c, 21);
      const out = attention({ q, k, v, grid, plan, headDim: 64, kSmoothing, cache }).downloadSync();

      const g = cache.get({ backend, grid, plan });
      expect(g.kBlockGroups !== null).toBe(kPerBlock); // the path the op took
      const [B, H, D, cols, npad] = [2, 2, 64, 128, g.npad];
      const n = grid[0] * grid[1] * grid[2];
      const dims = { frames: grid[0], height: grid[1], width: grid[2] };
      const granularity = (plan as Extract<AttentionPlan, { mode: 'fp8-sparse' }>).granularity;
      const unitOf = (t: number) => (granularity.kind === 'tile' ? bruteForceTileId({ grid: dims, tile: granularity.tile, token: t }) : granularity.kind === 'token' ? t : 0);
      const slotOf = new Int32Array(n);
      g.host.slotToToken.forEach((t, s) => t >= 0 && (slotOf[t] = s));
      const value = (x: Uint16Array, i: number) => new Float32Array(new Uint32Array([x[i]! << 16]).buffer)[0]!;
      const qCodes = new Uint8Array(B * npad * cols);
      const kCodes = new Uint8Array(B * npad * cols);
      const qScale = new Float32Array(B * H * npad).fill(1);
      const kScale = new Float32Array(B * H * npad).fill(1);
      const vCodesT = new Uint8Array(B * cols * npad);
      const vScale = new Float32Array(B * cols);
      for (let b = 0; b < B; b++) {
        const mean = kSmoothing ? channelMeanCpu(bits[1]!.subarray(b * n * cols, (b + 1) * n * cols), n, cols) : null;
        for (const [x, codes, scales, smooth] of [[bits[0]!, qCodes, qScale, null], [bits[1]!, kCodes, kScale, mean]] as const) {
          for (let h = 0; h < H; h++) {
            const val = (t: number, d: number) => {
              const raw = value(x, (b * n + t) * cols + h * D + d);
              return smooth ? Math.fround(raw - smooth[h * D + d]!) : raw;
            };
            const amax = new Map<number, number>();
            for (let t = 0; t < n; t++) {
              const unit = unitOf(t);
              for (let d = 0; d < D; d++) amax.set(unit, Math.max(amax.get(unit) ?? 0, Math.abs(val(t, d))));
            }
            for (let t = 0; t < n; t++) {
              const scale = computeScale({ amax: amax.get(unitOf(t))!, format: 'e4m3' });
              const slot = slotOf[t]!;
              scales[(b * H + h) * npad + slot] = scale;
              for (let d = 0; d < D; d++) {
                codes[(b * npad + slot) * cols + h * D + d] = encodeFp8({ value: Math.fround(val(t, d) * reciprocalScale(scale)), format: 'e4m3' });
              }
            }
          }
        }
        for (let ch = 0; ch < cols; ch++) {
          let amax = 0;
          for (let t = 0; t < n; t++) amax = Math.max(amax, Math.abs(value(bits[2]!, (b * n + t) * cols + ch)));
          const scale = computeScale({ amax, format: 'e4m3' });
          vScale[b * cols + ch] = scale;
          for (let t = 0; t < n; t++) {
            vCodesT[(b * cols + ch) * npad + slotOf[t]!] = encodeFp8({ value: Math.fround(value(bits[2]!, (b * n + t) * cols + ch) * reciprocalScale(scale)), format: 'e4m3' });
          }
        }
      }
      const padded = attentionForward({
        q: backend.fromArray(qCodes, [B, npad, cols], 'e4m3'),
        k: backend.fromArray(kCodes, [B, npad, cols], 'e4m3'),
        v: backend.fromArray(vCodesT, [B, cols, npad], 'e4m3'),
        qScale: backend.fromArray(qScale, [B, H, npad], 'f32'),
        kScale: backend.fromArray(kScale, [B, H, npad], 'f32'),
        vScale: backend.fromArray(vScale, [B, cols], 'f32'),
        blockValidRows: g.blockValidRows,
        rowPtr: g.blockLists?.rowPtr ?? null,
        colIdx: g.blockLists?.colIdx ?? null,
        headDim: D,
      }).downloadSync();
      const expected = new Uint16Array(B * n * cols);
      for (let b = 0; b < B; b++) for (let t = 0; t < n; t++) expected.set(padded.subarray((b * npad + slotOf[t]!) * cols, (b * npad + slotOf[t]!) * cols + cols), (b * n + t) * cols);
      expect(out.some((x) => x !== 0)).toBe(true);
      expect(out).toEqual(expected);
    },
  );

  it('is off by far more than the tolerance when the plan differs (the comparison can fail)', () => {
    const c = cases[6]!;
    const { bits, q, k, v } = inputs(c, 12);
    const out = attention({ q, k, v, grid: c.grid, plan: c.plan, headDim: c.headDim, cache });
    const other = rasterAttentionReference({ q: bits[0]!, k: bits[1]!, v: bits[2]!, batch: c.batch, grid: c.grid, headDim: c.headDim, plan: { mode: 'dense-bf16' } });
    expect(attentionErrorStats(out.downloadSync(), other).relL2).toBeGreaterThan(10 * TOLERANCE['sparse-bf16']);
  });

  it('uses the softmax scale it is given (default 1 / sqrt(headDim))', () => {
    const c = cases[0]!;
    const { bits, q, k, v } = inputs(c, 19);
    const ref = (softmaxScale?: number) =>
      rasterAttentionReference({ q: bits[0]!, k: bits[1]!, v: bits[2]!, batch: c.batch, grid: c.grid, headDim: c.headDim, plan: c.plan, softmaxScale });
    const sharp = attention({ q, k, v, grid: c.grid, plan: c.plan, headDim: c.headDim, softmaxScale: 0.5, cache }).downloadSync();
    expect(attentionErrorStats(sharp, ref(0.5)).relL2).toBeLessThan(TOLERANCE['dense-bf16']);
    expect(attentionErrorStats(sharp, ref()).relL2).toBeGreaterThan(10 * TOLERANCE['dense-bf16']);
  });

  it('writes into out, and returns the same results through a warm cache', () => {
    const c = cases[4]!;
    const { q, k, v } = inputs(c, 13);
    const first = attention({ q, k, v, grid: c.grid, plan: c.plan, headDim: c.headDim, cache });
    const out = backend.empty(q.shape, 'bf16');
    const hits = cache.stats().hits;
    expect(attention({ q, k, v, grid: { frames: 3, height: 9, width: 10 }, plan: c.plan, headDim: c.headDim, cache, out })).toBe(out);
    expect(cache.stats().hits).toBe(hits + 1);
    expect(out.downloadSync()).toEqual(first.downloadSync());
  });

  it('writes into out in raster order too (no permutation: tokens a multiple of the block)', () => {
    const grid: [number, number, number] = [1, 8, 16];
    const c: Case = { name: 'identity', grid, batch: 2, heads: 1, headDim: 64, plan: { mode: 'fp8-dense', granularity: { kind: 'token' } } };
    const { bits, q, k, v } = inputs(c, 14);
    const out = backend.empty(q.shape, 'bf16');
    expect(attention({ q, k, v, grid, plan: c.plan, headDim: 64, cache, out })).toBe(out);
    const expected = rasterAttentionReference({ q: bits[0]!, k: bits[1]!, v: bits[2]!, batch: 2, grid, headDim: 64, plan: c.plan });
    expect(attentionErrorStats(out.downloadSync(), expected).relL2).toBeLessThan(TOLERANCE['fp8-dense']);
  });

  it('spreads a NaN in one key only to the query rows whose window holds it', () => {
    const c = cases[6]!;
    const { bits, q, k, v } = inputs(c, 15);
    const n = 270;
    const cols = 128;
    const poisoned = bits[1]!.slice();
    poisoned[(0 * n + 0) * cols + 3] = 0x7fc0; // batch 0, token 0 (tile 0), head 0
    const kNaN = backend.fromArray(poisoned, [2, n, cols], 'bf16');
    const out = attention({ q, k: kNaN, v, grid: c.grid, plan: c.plan, headDim: 64, cache }).downloadSync();
    const clean = attention({ q, k, v, grid: c.grid, plan: c.plan, headDim: 64, cache }).downloadSync();
    const isNaN = (bitsOf: number) => (bitsOf & 0x7fff) > 0x7f80;
    const mask = rasterMaskRow(c, 0);
    for (let i = 0; i < n; i++) {
      const row = out.subarray(i * cols, i * cols + 64);
      expect([...row].every(isNaN), `query ${i}`).toBe(mask[i] === 1);
      expect(out.subarray(i * cols + 64, (i + 1) * cols)).toEqual(clean.subarray(i * cols + 64, (i + 1) * cols)); // head 1
    }
    expect(out.subarray(n * cols)).toEqual(clean.subarray(n * cols)); // batch 1
  });

  describe('errors name the tensor, the dimension and the rule', () => {
    const MESSAGES: Record<string, string> = {
      "k with another token count": "attention: k dimension 1 is 69: expected 70 like q [1, 70, 128]: q, k and v have one shape",
      "q not of the grid": "attention: q dimension 1 is 70: expected 80 tokens, one per token of the grid 2x5x8",
      "columns not whole heads": "attention: q dimension 2 is 96: expected heads * headDim columns, a positive multiple of headDim 64",
      "a head dim the kernel lacks": "attention: q dimension 2 is split into heads of 32: headDim is one of 64, 128",
      "v of another dtype": "attention: v is of dtype f32: q, k and v are BF16 ([batch, tokens, heads * headDim])",
      "a 2-D q": "attention: q is of shape [70, 128]: expected 3 dimensions [batch, tokens, heads * headDim]",
      "an out of another shape": "attention: out dimension 0 is 2: expected 1: out has q's shape [1, 70, 128]",
      "a q that is no tensor": "attention: q is 1,2,3: expected a BF16 Tensor of @fpsattn/kernels",
      "a k on another backend": "attention: k is on another cpu backend: q, k, v (and out) live on one backend",
      "an out on another backend": "attention: out is on another cpu backend: q, k, v (and out) live on one backend",
      "an empty batch": "attention: q dimension 0 is 0: the batch holds at least one item",
      "a v with another column count": "attention: v dimension 2 is 64: expected 128 like q [1, 70, 128]: q, k and v have one shape",
    };
    const c = cases[0]!;
    const base = () => {
      const { q, k, v } = inputs(c, 16);
      return { q, k, v, grid: c.grid, plan: c.plan, headDim: 64, cache };
    };
    it.each([
      ['k with another token count', { k: backend.empty([1, 69, 128], 'bf16') }, { tensor: 'k', dimension: 1 }],
      ['q not of the grid', { grid: [2, 5, 8] }, { tensor: 'q', dimension: 1, message: 'attention: q dimension 1 is 70: expected 80 tokens, one per token of the grid 2x5x8' }],
      ['columns not whole heads', { q: backend.empty([1, 70, 96], 'bf16'), k: backend.empty([1, 70, 96], 'bf16'), v: backend.empty([1, 70, 96], 'bf16') }, { tensor: 'q', dimension: 2 }],
      ['a head dim the kernel lacks', { headDim: 32 }, { tensor: 'q', dimension: 2 }],
      ['v of another dtype', { v: backend.empty([1, 70, 128], 'f32') }, { tensor: 'v', dimension: null }],
      ['a 2-D q', { q: backend.empty([70, 128], 'bf16') }, { tensor: 'q', dimension: null }],
      ['an out of another shape', { out: backend.empty([2, 70, 128], 'bf16') }, { tensor: 'out', dimension: 0 }],
      ['a q that is no tensor', { q: [1, 2, 3] }, { tensor: 'q', dimension: null }],
      ['a k on another backend', { k: new CpuBackend().empty([1, 70, 128], 'bf16') }, { tensor: 'k', dimension: null }],
      ['an out on another backend', { out: new CpuBackend().empty([1, 70, 128], 'bf16') }, { tensor: 'out', dimension: null }],
      ['an empty batch', { q: backend.empty([0, 70, 128], 'bf16'), k: backend.empty([0, 70, 128], 'bf16'), v: backend.empty([0, 70, 128], 'bf16') }, { tensor: 'q', dimension: 0 }],
      ['a v with another column count', { v: backend.empty([1, 70, 64], 'bf16') }, { tensor: 'v', dimension: 2 }],
    ])('%s', (_, change, fields) => {
      let error: unknown;
      try {
        attention({ ...base(), ...(change as object) });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(AttentionInputError);
      expect(error).toMatchObject({ ...fields, code: ATTENTION_ERROR_CODES.INVALID_INPUT });
      expect((error as Error).message).toMatch(/^attention: /);
      expect((error as Error).message).toBe(MESSAGES[_]);
    });

    it('reads the head dim off per-head plans', () => {
      const { q, k, v } = inputs(c, 18);
      const plans: AttentionPlan[] = [{ mode: 'dense-bf16' }, { mode: 'dense-bf16' }];
      expect(attention({ q, k, v, grid: c.grid, plans, cache }).downloadSync()).toEqual(attention({ q, k, v, grid: c.grid, plan: plans[0], headDim: 64, cache }).downloadSync());
    });

    it('plans that do not match the heads', () => {
      const { q, k, v } = inputs(c, 17);
      expect(() => attention({ q, k, v, grid: c.grid, plans: [{ mode: 'dense-bf16' }], headDim: 64, cache })).toThrow(AttentionPlanError);
      expect(() => attention({ q, k, v, grid: c.grid, plans: [{ mode: 'dense-bf16' }], headDim: 64, cache })).toThrow(/plans is 1 plans: expected one plan per head: q has 2 heads/);
    });
  });
});

/** Which query tokens of case c may attend key token `key` (the tiling package's token-level brute force). */
function rasterMaskRow(c: Case, key: number): Uint8Array {
  const { sparsity } = c.plan as Extract<AttentionPlan, { mode: 'sparse-bf16' }>;
  const n = c.grid[0] * c.grid[1] * c.grid[2];
  const mask = bruteForceTokenMask({ grid: { frames: c.grid[0], height: c.grid[1], width: c.grid[2] }, tile: sparsity.tile, window: sparsity.window });
  return Uint8Array.from({ length: n }, (_, i) => mask[i * n + key]!);
}
