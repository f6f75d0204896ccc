// Cross-attention (a separate key geometry: Lq != Lk) in the float64 twin and attentionForward's CPU backend, against a
// straightforward per-row float64 loop written from docs/attention-contract.md. Operands are exact on purpose (BF16
// values k/64, E4M3 codes): every dot product is exact in float64, so the scores, the exponentials and the rounded P
// agree bit for bit with the twin's block kernels, and only the order of the P V and row sums differs (1e-12).
import { InvalidArgumentError, ShapeMismatchError, bf16BitsToFloat32, decodeFp8Array, encodeFp8Array, float32ToBf16Bits } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeCudaBackend } from '../../_test/fake-addon';
import { CpuBackend } from '../../cpu/backend';
import { seededRandom } from '../../testing';
import { ATTENTION, attentionForward } from './attention-forward';
import { ATTENTION_P_SCALE, type AttentionDType, type AttentionReferenceOptions, attentionReference, float64ToBf16Bits } from './reference';
import { ATTENTION_TILE_POLICY } from './tile-policy';

const R = ATTENTION_TILE_POLICY.blockN;
const backend = new CpuBackend();

interface CrossCase {
  batch: number;
  heads: number;
  headDim: number;
  queries: number[]; // valid rows per query block
  keys: number[]; // valid rows per key block
  /** [listHeads, numBlocks + 1] offsets and key block ids (< keys.length); null: dense. */
  lists: { rowPtr: number[]; colIdx: number[] } | null;
}

const packed = (n: number) => Array.from({ length: Math.ceil(n / R) }, (_, b) => Math.min(R, n - b * R));

/** Exact operands: BF16 values k/64 (|k| <= 192) or decoded E4M3 codes; padding rows hold large garbage (1e4), and
 * per-row K scales of padding keys are garbage too: a padding key that leaked into a sum would show. */
function operands(c: CrossCase, dtype: AttentionDType, kScales: 'row' | 'block', seed: number) {
  const rnd = seededRandom(seed);
  const hd = c.heads * c.headDim;
  const numBlocks = c.queries.length;
  const keyBlocks = c.keys.length;
  const npad = numBlocks * R;
  const keyNpad = keyBlocks * R;
  const e4m3 = decodeFp8Array({ codes: Uint8Array.from({ length: 256 }, (_, i) => i), format: 'e4m3' });
  const value = () => (dtype === 'bf16' ? Math.round((rnd() * 2 - 1) * 192) / 64 : (e4m3[Math.floor(rnd() * 0x7e) | (rnd() < 0.5 ? 0x80 : 0)] as number));
  const rows = (valid: number[]) => {
    const a = new Float64Array(c.batch * valid.length * R * hd);
    for (let b = 0; b < c.batch; b++)
      for (let r = 0; r < valid.length * R; r++)
        for (let j = 0; j < hd; j++) a[(b * valid.length * R + r) * hd + j] = r % R < (valid[Math.floor(r / R)] as number) ? value() : 1e4;
    return a;
  };
  const scale = () => Math.fround(0.02 * (0.5 + rnd()));
  const fp8 = dtype === 'e4m3';
  const kBlockScale = fp8 && kScales === 'block' ? Float64Array.from({ length: c.batch * c.heads * keyBlocks }, scale) : null;
  const kScale = fp8 && kScales === 'row' ? Float64Array.from({ length: c.batch * c.heads * keyNpad }, (_, i) => ((i % keyNpad) % R < (c.keys[Math.floor((i % keyNpad) / R)] as number) ? scale() : 1e6)) : null;
  const o: AttentionReferenceOptions = {
    dtype,
    batch: c.batch,
    heads: c.heads,
    headDim: c.headDim,
    numBlocks,
    keyBlocks,
    keyValidRows: Int32Array.from(c.keys),
    q: rows(c.queries),
    k: rows(c.keys),
    v: rows(c.keys),
    qScale: fp8 ? Float64Array.from({ length: c.batch * c.heads * npad }, scale) : null,
    kScale,
    kBlockScale,
    vScale: fp8 ? Float64Array.from({ length: c.batch * hd }, scale) : null,
    blockValidRows: Int32Array.from(c.queries),
    rowPtr: c.lists ? Int32Array.from(c.lists.rowPtr) : null,
    colIdx: c.lists ? Int32Array.from(c.lists.colIdx) : null,
    softmaxScale: 1 / Math.sqrt(c.headDim),
  };
  return { o, npad, keyNpad, numBlocks, keyBlocks, hd };
}

/** The contract's math, one query row at a time, in the plainest order (block-streaming over the listed key blocks). */
function straightforward(o: AttentionReferenceOptions, pRounding: 'kernel' | 'none'): Float64Array {
  const { batch, heads, headDim: D, numBlocks } = o;
  const keyValid = o.keyValidRows as Int32Array;
  const keyBlocks = keyValid.length;
  const npad = numBlocks * R;
  const keyNpad = keyBlocks * R;
  const hd = heads * D;
  const fp8 = o.dtype === 'e4m3';
  const out = new Float64Array(batch * npad * hd);
  const listHeads = o.rowPtr ? o.rowPtr.length / (numBlocks + 1) : 1;
  const f32 = new Float32Array(1);
  const code = new Uint8Array(1);
  const e4m3 = decodeFp8Array({ codes: Uint8Array.from({ length: 256 }, (_, i) => i), format: 'e4m3' });
  const roundP = (p: number) => {
    if (pRounding === 'none') return fp8 ? p * ATTENTION_P_SCALE : p;
    if (!fp8) return bf16BitsToFloat32(float32ToBf16Bits(p));
    f32[0] = p * ATTENTION_P_SCALE;
    encodeFp8Array({ input: f32, format: 'e4m3', out: code });
    return e4m3[code[0] as number] as number;
  };
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let qb = 0; qb < numBlocks; qb++) {
        let blocks = Array.from({ length: keyBlocks }, (_, kb) => kb);
        if (o.rowPtr && o.colIdx) {
          const base = (listHeads === 1 ? 0 : h) * (numBlocks + 1);
          blocks = Array.from(o.colIdx.subarray(o.rowPtr[base + qb]!, o.rowPtr[base + qb + 1]!));
        }
        for (let i = 0; i < o.blockValidRows[qb]!; i++) {
          const row = qb * R + i;
          const qs = fp8 ? o.qScale![(b * heads + h) * npad + row]! : 1;
          let m = Number.NEGATIVE_INFINITY;
          let l = 0;
          const acc = new Float64Array(D);
          for (const kb of blocks) {
            const n = keyValid[kb]!;
            if (n === 0) continue;
            const s: number[] = [];
            for (let j = 0; j < n; j++) {
              const key = kb * R + j;
              let dot = 0;
              for (let c = 0; c < D; c++) dot += o.q[(b * npad + row) * hd + h * D + c]! * o.k[(b * keyNpad + key) * hd + h * D + c]!;
              const ks = !fp8 ? 1 : o.kBlockScale ? o.kBlockScale[(b * heads + h) * keyBlocks + kb]! : o.kScale![(b * heads + h) * keyNpad + key]!;
              s.push(((dot * qs) * ks) * o.softmaxScale);
            }
            const mNew = Math.max(m, ...s);
            const alpha = m === Number.NEGATIVE_INFINITY ? 0 : Math.exp(m - mNew);
            l *= alpha;
            for (let c = 0; c < D; c++) acc[c]! *= alpha;
            for (let j = 0; j < n; j++) {
              const p = Math.exp(s[j]! - mNew);
              l += p;
              const pq = roundP(p);
              for (let c = 0; c < D; c++) acc[c]! += pq * o.v[(b * keyNpad + kb * R + j) * hd + h * D + c]!;
            }
            m = mNew;
          }
          if (l === 0) continue;
          for (let c = 0; c < D; c++) {
            const at = (b * npad + row) * hd + h * D + c;
            out[at] = fp8 ? (acc[c]! / (ATTENTION_P_SCALE * l)) * o.vScale![b * hd + h * D + c]! : acc[c]! / l;
          }
        }
      }
  return out;
}

function expectClose(actual: Float64Array, expected: Float64Array, rel: number): void {
  expect(actual.length).toBe(expected.length);
  let scale = 0;
  let err = 0;
  for (let i = 0; i < expected.length; i++) {
    scale = Math.max(scale, Math.abs(expected[i]!));
    err = Math.max(err, Math.abs(actual[i]! - expected[i]!));
  }
  expect(scale).toBeGreaterThan(0);
  expect(err).toBeLessThanOrEqual(rel * scale);
}

const cases: [string, CrossCase][] = [
  ['300 queries x 16 keys, B2 H1', { batch: 2, heads: 1, headDim: 64, queries: packed(300), keys: [16], lists: null }],
  ['300 queries x 16 keys, B2 H3', { batch: 2, heads: 3, headDim: 32, queries: packed(300), keys: [16], lists: null }],
  ['1000 queries x 200 keys (ragged last key block), B2 H3', { batch: 2, heads: 3, headDim: 16, queries: packed(1000), keys: packed(200), lists: null }],
  ['700 queries x 512 keys, B2 H1', { batch: 2, heads: 1, headDim: 32, queries: packed(700), keys: packed(512), lists: null }],
  [
    // 3 query blocks, 4 key blocks (one with no valid row, one ragged); per-head lists with an empty list
    'per-head lists over 4 key blocks, B2 H3',
    {
      batch: 2,
      heads: 3,
      headDim: 16,
      queries: [128, 128, 44],
      keys: [128, 0, 77, 128],
      // head 0: [0, 3] [2] [];  head 1: [0, 1, 2, 3] [3] [1];  head 2: [] [0, 2] [3]
      lists: { rowPtr: [0, 2, 3, 3, 3, 7, 8, 9, 9, 9, 11, 12], colIdx: [0, 3, 2, 0, 1, 2, 3, 3, 1, 0, 2, 3] },
    },
  ],
];

describe('cross-attention (separate key geometry) in the float64 twin', () => {
  it.each(cases)('%s: bf16 and e4m3 (per-row and per-block K scales) equal the straightforward loop', (_, c) => {
    for (const [dtype, kScales] of [['bf16', 'row'], ['e4m3', 'row'], ['e4m3', 'block']] as const) {
      const { o } = operands(c, dtype, kScales, 7);
      const twin = attentionReference(o);
      expectClose(twin, straightforward(o, 'kernel'), 1e-12);
      expectClose(attentionReference({ ...o, pRounding: 'none' }), straightforward(o, 'none'), 1e-12);
    }
  }, 120_000);

  it('with the queries\' own geometry given as keys, equals the self-attention call bit for bit', () => {
    const c: CrossCase = { batch: 2, heads: 2, headDim: 16, queries: [128, 40], keys: [128, 40], lists: null };
    for (const dtype of ['bf16', 'e4m3'] as const) {
      const { o } = operands(c, dtype, 'row', 3);
      const { keyValidRows: _k, keyBlocks: _b, ...self } = o;
      expect(attentionReference(o)).toEqual(attentionReference(self));
    }
  });

  it('rejects key block ids past keyBlocks, bad key valid rows and mismatched key operands', () => {
    const c: CrossCase = { batch: 1, heads: 1, headDim: 16, queries: [128, 128], keys: [16], lists: { rowPtr: [0, 1, 2], colIdx: [0, 1] } };
    const { o } = operands(c, 'bf16', 'row', 1);
    expect(() => attentionReference(o)).toThrow(/colIdx\[1\].*0\.\.0 \(keyBlocks\)/);
    const dense = { ...o, rowPtr: null, colIdx: null };
    expect(() => attentionReference({ ...dense, keyValidRows: Int32Array.of(129) })).toThrow(InvalidArgumentError);
    expect(() => attentionReference({ ...dense, keyValidRows: Int32Array.of(129) })).toThrow(/keyValidRows\[0\]/);
    expect(() => attentionReference({ ...dense, keyBlocks: 2 })).toThrow(/'keyValidRows'.*keyBlocks 2/);
    expect(() => attentionReference({ ...dense, keyValidRows: new Int32Array(0), keyBlocks: undefined })).toThrow(ShapeMismatchError);
    expect(() => attentionReference({ ...dense, k: o.q })).toThrow(/'k'.*\[1, 128, 16\]/);
    const fp8 = operands(c, 'e4m3', 'row', 1).o;
    expect(() => attentionReference({ ...fp8, rowPtr: null, colIdx: null, kScale: fp8.qScale })).toThrow(/'kScale'.*\[1, 1, 128\]/);
  });
});

// ------------------------------------------------------------------------------------------------- the op
/** The twin's operands as op tensors: BF16 bits, or E4M3 codes with V^T at a token stride past keyNpad. */
function opTensors(c: CrossCase, dtype: AttentionDType, kScales: 'row' | 'block', seed: number) {
  const g = operands(c, dtype, kScales, seed);
  const { o, npad, keyNpad, hd } = g;
  const fp8 = dtype === 'e4m3';
  const stride = keyNpad + 32;
  const data = (x: ArrayLike<number>, rows: number) =>
    fp8
      ? backend.fromArray(encodeFp8Array({ input: Float32Array.from(x, (y) => (Math.abs(y) > 448 ? 448 : y)), format: 'e4m3' }), [c.batch, rows, hd], 'e4m3')
      : backend.fromArray(Uint16Array.from(x, (y) => float32ToBf16Bits(y)), [c.batch, rows, hd], 'bf16');
  let v;
  if (fp8) {
    const codes = encodeFp8Array({ input: Float32Array.from(o.v, (y) => (Math.abs(y) > 448 ? 448 : y)), format: 'e4m3' });
    const vt = new Uint8Array(c.batch * hd * stride).fill(0x7e); // garbage past keyNpad
    for (let b = 0; b < c.batch; b++) for (let r = 0; r < keyNpad; r++) for (let j = 0; j < hd; j++) vt[(b * hd + j) * stride + r] = codes[(b * keyNpad + r) * hd + j]!;
    v = backend.fromArray(vt, [c.batch, hd, stride], 'e4m3');
  } else v = data(o.v, keyNpad);
  const f32 = (x: ArrayLike<number> | null | undefined, shape: number[]) => (x ? backend.fromArray(Float32Array.from(x), shape, 'f32') : null);
  const t = {
    q: data(o.q, npad),
    k: data(o.k, keyNpad),
    v,
    qScale: f32(o.qScale, [c.batch, c.heads, npad]),
    vScale: f32(o.vScale, [c.batch, hd]),
    ...(o.kBlockScale ? { kBlockScale: f32(o.kBlockScale, [c.batch, c.heads, g.keyBlocks])! } : { kScale: f32(o.kScale, [c.batch, c.heads, keyNpad]) }),
    blockValidRows: backend.fromArray(Int32Array.from(c.queries), [g.numBlocks], 'i32'),
    keyBlockValidRows: backend.fromArray(Int32Array.from(c.keys), [g.keyBlocks], 'i32'),
    rowPtr: c.lists ? backend.fromArray(Int32Array.from(c.lists.rowPtr), [c.lists.rowPtr.length / (g.numBlocks + 1), g.numBlocks + 1], 'i32') : null,
    colIdx: c.lists ? backend.fromArray(Int32Array.from(c.lists.colIdx), [c.lists.colIdx.length], 'i32') : null,
    headDim: c.headDim,
  };
  // What the twin sees after the op's conversions (E4M3: the garbage 1e4 saturates to 448; values are codes already).
  const twin: AttentionReferenceOptions = {
    ...o,
    q: fp8 ? Float64Array.from(o.q, (y) => (Math.abs(y) > 448 ? Math.sign(y) * 448 : y)) : o.q,
    k: fp8 ? Float64Array.from(o.k, (y) => (Math.abs(y) > 448 ? Math.sign(y) * 448 : y)) : o.k,
    v: fp8 ? Float64Array.from(o.v, (y) => (Math.abs(y) > 448 ? Math.sign(y) * 448 : y)) : o.v,
    ...(fp8 ? { qScale: Float64Array.from(Float32Array.from(o.qScale!)), vScale: Float64Array.from(Float32Array.from(o.vScale!)) } : {}),
  };
  return { t, twin, g };
}

describe('attentionForward with keyBlockValidRows (CPU backend)', () => {
  it.each([
    ['bf16', 'row', cases[0]![1]],
    ['e4m3', 'row', cases[2]![1]],
    ['e4m3', 'block', cases[4]![1]],
    ['bf16', 'row', cases[4]![1]],
  ] as const)('%s (%s K scales) is the twin rounded to BF16', (dtype, kScales, twinCase) => {
    const c = { ...twinCase, headDim: 64 }; // the op takes head dims 64 and 128
    const { t, twin, g } = opTensors(c, dtype, kScales, 11);
    const out = attentionForward(t as never);
    expect(out.shape).toEqual([c.batch, g.npad, g.hd]);
    expect(out.downloadSync()).toEqual(float64ToBf16Bits(attentionReference(twin)));
  }, 120_000);

  it('keys given with the queries\' own geometry give the self-attention result bit for bit', () => {
    const c: CrossCase = { batch: 1, heads: 2, headDim: 64, queries: [128, 9], keys: [128, 9], lists: null };
    const { t } = opTensors(c, 'e4m3', 'block', 5);
    const { keyBlockValidRows: _, ...self } = t;
    expect(attentionForward(t as never).downloadSync()).toEqual(attentionForward(self as never).downloadSync());
  }, 60_000);

  describe('rejects key operands that do not fit the key geometry, naming the tensor', () => {
    const c: CrossCase = { batch: 2, heads: 2, headDim: 64, queries: [128, 128], keys: [16], lists: null };
    const fp8 = () => opTensors(c, 'e4m3', 'row', 2).t;
    const bf16 = () => opTensors(c, 'bf16', 'row', 2).t;
    const named = (shape: number[], dtype: 'f32' | 'i32' | 'bf16' | 'e4m3', name: string, be = backend) => be.empty(shape, dtype, { name }) as never;
    it.each([
      ['keyBlockValidRows of another dtype', () => ({ ...bf16(), keyBlockValidRows: named([1], 'f32', 'kv') }), ShapeMismatchError, "Shape mismatch for 'keyBlockValidRows': expected dtype i32, got dtype f32 ('kv')"],
      [
        'a 2-D keyBlockValidRows',
        () => ({ ...bf16(), keyBlockValidRows: named([1, 1], 'i32', 'kv') }),
        ShapeMismatchError,
        "Shape mismatch for 'keyBlockValidRows': expected [keyBlocks] with keyBlocks >= 1 (real rows of each key block of ATTENTION_TILE_POLICY.blockN rows), got [1, 1] ('kv')",
      ],
      ['an empty keyBlockValidRows', () => ({ ...bf16(), keyBlockValidRows: named([0], 'i32', 'kv') }), ShapeMismatchError, /'keyBlockValidRows'.*keyBlocks >= 1/],
      ['keyBlockValidRows of another backend', () => ({ ...bf16(), keyBlockValidRows: named([1], 'i32', 'kv', new CpuBackend()) }), InvalidArgumentError, /'keyBlockValidRows'.*another cpu backend/],
      ['k with the query rows', () => ({ ...bf16(), k: named([2, 256, 128], 'bf16', 'kk') }), ShapeMismatchError, "Shape mismatch for 'k': expected [2, 128, 128] (keyNpad = 1 key blocks * 128), got [2, 256, 128] ('kk')"],
      [
        'k of another length without keyBlockValidRows',
        () => ({ ...bf16(), keyBlockValidRows: undefined }),
        ShapeMismatchError,
        /^Shape mismatch for 'k': expected \[2, 256, 128\] \(q's shape; keys of another length need keyBlockValidRows\), got \[2, 128, 128\]/,
      ],
      ['bf16 v with the query rows', () => ({ ...bf16(), v: named([2, 256, 128], 'bf16', 'vv') }), ShapeMismatchError, "Shape mismatch for 'v': expected [2, 128, 128], got [2, 256, 128] ('vv')"],
      [
        'an e4m3 V^T shorter than keyNpad',
        () => ({ ...fp8(), v: named([2, 128, 112], 'e4m3', 'vt') }),
        ShapeMismatchError,
        /^Shape mismatch for 'v': expected V\^T codes \[2, 128, vTokenStride\] with vTokenStride >= 128 \(keyNpad = 1 key blocks \* 128\) and a multiple of 16/,
      ],
      ['a kScale over the query rows', () => ({ ...fp8(), kScale: named([2, 2, 256], 'f32', 'ks') }), ShapeMismatchError, "Shape mismatch for 'kScale': expected [2, 2, 128], got [2, 2, 256] ('ks')"],
      ['a kBlockScale over the query blocks', () => ({ ...fp8(), kScale: null, kBlockScale: named([2, 2, 2], 'f32', 'kbs') }), ShapeMismatchError, "Shape mismatch for 'kBlockScale': expected [2, 2, 1], got [2, 2, 2] ('kbs')"],
      [
        'e4m3 without K scales',
        () => ({ ...fp8(), kScale: null }),
        InvalidArgumentError,
        "Invalid argument 'kScale': e4m3 attention needs kScale (float32 [2, 2, 128], per key row) or kBlockScale (float32 [2, 2, 1], per key block of 128 rows)",
      ],
    ] as const)('%s', (_, options, type, message) => {
      let error: unknown;
      try {
        attentionForward(options() as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(type);
      if (typeof message === 'string') expect((error as Error).message).toBe(message);
      else expect((error as Error).message).toMatch(message);
    });

    it('the output keeps the query geometry', () => {
      expect(() => attentionForward({ ...bf16(), out: backend.empty([2, 128, 128], 'bf16') } as never)).toThrow(/'out'.*\[2, 256, 128\]/);
    });
  });
});

describe('attentionForward with keyBlockValidRows (CUDA side, fake addon)', () => {
  it('sends keyValidRows, keyBlocks and keyNpad; and null, 0, 0 without separate keys', () => {
    const { backend: cuda, addon, opCalls } = fakeCudaBackend();
    (addon as unknown as Record<string, unknown>).attention = (params: Record<string, unknown>) => void opCalls.push({ name: 'attention', params });
    const e4m3 = (shape: number[]) => cuda.empty(shape, 'e4m3');
    const f32 = (shape: number[]) => cuda.empty(shape, 'f32');
    const keyBlockValidRows = cuda.fromArray(Int32Array.of(128, 128, 128, 128), [4], 'i32');
    const common = { q: e4m3([2, 3 * R, 256]), qScale: f32([2, 2, 3 * R]), vScale: f32([2, 256]), blockValidRows: cuda.fromArray(Int32Array.of(R, R, 44), [3], 'i32'), headDim: 128 };
    attentionForward({ ...common, k: e4m3([2, 4 * R, 256]), v: e4m3([2, 256, 4 * R + 16]), kBlockScale: f32([2, 2, 4]), keyBlockValidRows });
    attentionForward({ ...common, k: e4m3([2, 3 * R, 256]), v: e4m3([2, 256, 3 * R]), kBlockScale: f32([2, 2, 3]) });
    const [cross, self] = opCalls.map((c) => c.params);
    expect(Object.keys(cross!)).toEqual(Object.keys(ATTENTION.fields));
    const handle = (t: { storage: unknown }) => (t.storage as { handle: number }).handle;
    expect(cross).toMatchObject({ numBlocks: 3, npad: 3 * R, keyBlocks: 4, keyNpad: 4 * R, vTokenStride: 4 * R + 16, keyValidRows: { handle: handle(keyBlockValidRows), byteLength: 16 } });
    expect(self).toMatchObject({ numBlocks: 3, npad: 3 * R, keyBlocks: 0, keyNpad: 0, keyValidRows: null, vTokenStride: 3 * R });
  });
});
