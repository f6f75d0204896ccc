// GPU suite of the composed op: attention() on the CUDA backend against the same call on the CPU backend (whose
// attentionForward is the float64 twin of the kernel's math) and against the raster float64 reference, for every mode,
// on soft-attention BF16 inputs (unit-size values, O(1) scores) with 20-50x outlier channels in K. Rule (FlashAttention's, per op info.exactness): the
// CUDA output's relative L2 error against the raster reference is at most 2x the CPU twin's (+ 1e-4), and CUDA and
// the twin agree within accumulation noise. Outputs are poisoned (NaN bytes) before every run.
// Needs Node, the built dist/ of fp8, tiling, scheduler, kernels, attention, and the .node. Run: node --test gpu-test/
// FPSATTN_GPU_TEST_SIZE=small (3x10x16 tokens, default) | medium (6x20x24); FPSATTN_GPU_TEST_ON_CPU=1: dry run on CPU.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CpuBackend, attentionForward, channelMean, expandRowScales, gatherRows, quantizeRows, quantizeV } from '@fpsattn/kernels';
import { gpuTestBackend } from '@fpsattn/kernels/testing';
import { AttentionGeometryCache, attention } from '../dist/index.js';
import { attentionErrorStats, rasterAttentionReference, unitBf16 } from '../dist/testing.js';

const SIZE = process.env.FPSATTN_GPU_TEST_SIZE ?? 'small';
const GRID = { small: [3, 10, 16], medium: [6, 20, 24] }[SIZE];
if (!GRID) throw new Error(`FPSATTN_GPU_TEST_SIZE must be small or medium, got ${SIZE}`);
const HEAD_DIM = 128;
const HEADS = 2;
const COLS = HEADS * HEAD_DIM;
const N = GRID[0] * GRID[1] * GRID[2];

const { backend: gpu, skipReason } = gpuTestBackend({ suite: 'attention GPU suite', dryRun: true });
const cpu = new CpuBackend();

const tile = [3, 5, 8];
const clamped = { kind: 'clamped', tiles: [1, 1, 1] };
const PLANS = [
  ['dense-bf16', { plan: { mode: 'dense-bf16' } }],
  ['sparse-bf16', { plan: { mode: 'sparse-bf16', sparsity: { tile, window: clamped } } }],
  ['fp8-dense per tensor', { plan: { mode: 'fp8-dense', granularity: { kind: 'tensor' } } }],
  ['fp8-dense per token', { plan: { mode: 'fp8-dense', granularity: { kind: 'token' } } }],
  ['fp8-dense per tile', { plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile } }, kSmoothing: true }],
  // 40-token tiles would pad to 3.2x the rows: the compact tile-major order with per-row K scales instead.
  ['fp8-dense per small tile', { plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 5, 8] } }, kSmoothing: true }],
  ['fp8-sparse per tile', { plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile }, sparsity: { tile, window: clamped } } }],
  // Coarser quantization tiles than the attention tile (the paper's early phase): groups of several runs of rows.
  ['fp8-sparse coarse quantization tiles', { plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [3, 10, 16] }, sparsity: { tile, window: clamped } }, kSmoothing: true }],
  ['fp8-sparse per tile, K smoothing', { plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile }, sparsity: { tile, window: clamped } }, kSmoothing: true }],
  [
    'fp8-sparse per-head windows',
    {
      plans: [
        { mode: 'fp8-sparse', granularity: { kind: 'tensor' }, sparsity: { tile, window: clamped } },
        { mode: 'fp8-sparse', granularity: { kind: 'tensor' }, sparsity: { tile, window: { kind: 'seed', tokens: [6, 10, 16] } } },
      ],
    },
  ],
];

/** Soft-attention inputs; K with a channel offset and 20-50x outlier channels (unitBf16 of ./testing). */
function inputs(batch, seed) {
  const length = batch * N * COLS;
  return { q: unitBf16({ length, seed, cols: COLS }), k: unitBf16({ length, seed: seed + 1, cols: COLS, kLike: true }), v: unitBf16({ length, seed: seed + 2, cols: COLS }) };
}

const bf16ToF64 = (bits) => Float64Array.from(bits, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]);

describe(`attention on ${gpu?.name ?? 'no device'} (${SIZE}: ${N} tokens, ${HEADS} heads of ${HEAD_DIM})`, { skip: skipReason ?? false }, () => {
  const gpuCache = new AttentionGeometryCache();
  const cpuCache = new AttentionGeometryCache();
  for (const batch of [1, 2]) {
    for (const [name, options] of PLANS) {
      test(`${name}, batch ${batch}`, async () => {
        const bits = inputs(batch, 100 + batch);
        const on = (be, cache) => {
          const t = (b, n) => be.fromArray(b, [batch, N, COLS], 'bf16', { name: n });
          const out = be.empty([batch, N, COLS], 'bf16', { name: 'out' }).fillBytes(0xff); // poisoned: NaN bits
          return attention({ q: t(bits.q, 'q'), k: t(bits.k, 'k'), v: t(bits.v, 'v'), grid: GRID, headDim: HEAD_DIM, cache, out, ...options });
        };
        const outGpu = on(gpu, gpuCache);
        const kPath = gpuCache.get({ backend: gpu, grid: GRID, plan: options.plan, plans: options.plans }).kBlockGroups === null ? 'K per row' : 'K per block';
        await gpu.synchronize();
        const gpuBits = await outGpu.download();
        const cpuBits = on(cpu, cpuCache).downloadSync();
        const reference = rasterAttentionReference({ q: bits.q, k: bits.k, v: bits.v, batch, grid: GRID, headDim: HEAD_DIM, ...options });
        const gpuErr = attentionErrorStats(gpuBits, reference);
        const cpuErr = attentionErrorStats(cpuBits, reference);
        const agree = attentionErrorStats(gpuBits, bf16ToF64(cpuBits));
        console.log(
          `# ${name}, batch ${batch} (${(options.plan ?? options.plans[0]).mode.startsWith('fp8') ? kPath : 'bf16'}): vs float64 relL2 gpu ${gpuErr.relL2.toExponential(2)} cpu twin ${cpuErr.relL2.toExponential(2)}; ` +
            `gpu vs twin relL2 ${agree.relL2.toExponential(2)} cosine ${agree.cosine.toFixed(7)} maxAbs ${agree.maxAbs.toExponential(2)}`,
        );
        assert.ok(gpuBits.every((b) => (b & 0x7fff) <= 0x7f80), 'every output row is written and finite');
        const { referenceErrorFactor } = attentionForward.info.exactness.tolerance;
        assert.ok(gpuErr.relL2 <= referenceErrorFactor * cpuErr.relL2 + 1e-4, `gpu error ${gpuErr.relL2} > ${referenceErrorFactor} x twin error ${cpuErr.relL2}`);
        assert.ok(agree.cosine > 0.9999, `gpu vs twin cosine ${agree.cosine}`);
      });
    }
  }
});

// The FP8 plans above cover both ways the op hands K's scales to the kernel: kScale per key row ('token'
// granularity, a tile-major dense plan whose 120-token quantization tiles straddle blocks) and kBlockScale per key
// block ('tensor', and a sparse plan whose quantization tile is the attention tile).
test('the FP8 plans cover both K-scale paths (per row and per key block)', () => {
  const cache = new AttentionGeometryCache();
  const paths = PLANS.filter(([, o]) => (o.plan ?? o.plans[0]).mode.startsWith('fp8')).map(([name, o]) => [name, cache.get({ backend: cpu, grid: GRID, plan: o.plan, plans: o.plans }).kBlockGroups !== null]);
  const byName = Object.fromEntries(paths);
  assert.equal(byName['fp8-dense per token'], false);
  assert.equal(byName['fp8-dense per tile'], true);
  assert.equal(byName['fp8-dense per small tile'], false);
  assert.equal(byName['fp8-dense per tensor'], true);
  assert.equal(byName['fp8-sparse per tile'], true);
  assert.equal(byName['fp8-sparse per-head windows'], true);
  cache.clear();
});

// Diagnostics that split a composed-op disagreement in two: (1) every preparation step (gather with V amax, channel
// mean, quantizeRows, expandRowScales, quantizeV) must give the same bytes on CUDA as on the CPU (they are bit-exact
// ops); (2) attentionForward alone, on byte-identical prepared operands, CUDA against the float64 twin.
describe(`attention preparation and kernel alone on ${gpu?.name ?? 'no device'}`, { skip: skipReason ?? false }, () => {
  const fp8Plans = PLANS.filter(([, o]) => (o.plan ?? o.plans[0]).mode.startsWith('fp8'));
  for (const [name, options] of fp8Plans) {
    test(`${name}: preparation bit-exact, then attentionForward alone`, async () => {
      const batch = 2;
      const bits = inputs(batch, 300);
      const prepare = (be) => {
        const g = new AttentionGeometryCache().get({ backend: be, grid: GRID, plan: options.plan, plans: options.plans });
        const t = (b) => be.fromArray(b, [batch * N, COLS], 'bf16');
        const [q, k, v] = [t(bits.q), t(bits.k), t(bits.v)];
        const G = g.quantGroups.groupCount;
        const pad = (x, amax) => {
          const dst = be.empty([batch * g.npad, COLS], 'bf16');
          for (let b = 0; b < batch; b++) gatherRows({ src: x.sliceRows(b * N, N), map: g.rowMap, out: dst.sliceRows(b * g.npad, g.npad), amax: amax?.sliceRows(b, 1).reshape([COLS]) });
          return dst;
        };
        const vAmax = be.empty([batch, COLS], 'f32');
        const [qp, kp, vp] = [pad(q), pad(k), pad(v, vAmax)];
        const means = options.kSmoothing ? [0, 1].map((b) => channelMean({ x: k.sliceRows(b * N, N) })) : [undefined, undefined];
        const quant = (xp, mean) => {
          const codes = be.empty([batch * g.npad, COLS], 'e4m3');
          const table = be.empty([batch * G, HEADS], 'f32');
          for (let b = 0; b < batch; b++) {
            quantizeRows({ x: xp.sliceRows(b * g.npad, g.npad), groups: g.quantGroups, headDim: HEAD_DIM, format: 'e4m3', mean: mean[b], out: { codes: codes.sliceRows(b * g.npad, g.npad), scales: table.sliceRows(b * G, G) } });
          }
          return { codes, table, perRow: expandRowScales({ scales: table, groups: g.quantGroups }) };
        };
        const qq = quant(qp, [undefined, undefined]);
        const kq = quant(kp, means);
        // K's per-block scales [batch, heads, numBlocks] where every block's real rows share a group (the op's path then).
        const kBlockScale = g.kBlockGroups === null ? null : expandRowScales({ scales: kq.table, groups: g.kBlockGroups });
        const vCodes = be.empty([batch * COLS, g.npad], 'e4m3');
        const vScales = be.empty([batch, COLS], 'f32');
        for (let b = 0; b < batch; b++) {
          quantizeV({ v: vp.sliceRows(b * g.npad, g.npad), format: 'e4m3', amax: vAmax.sliceRows(b, 1).reshape([COLS]), tokenStride: g.npad, out: { codesT: vCodes.sliceRows(b * COLS, COLS), scales: vScales.sliceRows(b, 1).reshape([COLS]) } });
        }
        const tensors = { qp, kp, vp, vAmax, qCodes: qq.codes, qTable: qq.table, qScale: qq.perRow, kCodes: kq.codes, kTable: kq.table, kScale: kq.perRow, vCodes, vScales };
        return { g, tensors: kBlockScale === null ? tensors : { ...tensors, kBlockScale } };
      };
      const onGpu = prepare(gpu);
      await gpu.synchronize();
      const onCpu = prepare(cpu);
      for (const [key, t] of Object.entries(onCpu.tensors)) {
        const a = new Uint8Array(t.downloadSync().buffer);
        const b = new Uint8Array((await onGpu.tensors[key].download()).buffer);
        const first = a.findIndex((x, i) => x !== b[i]);
        assert.equal(first, -1, `${key}: CUDA and CPU bytes differ first at byte ${first}`);
      }
      // attentionForward alone on the same bytes: K's scales per row, and per key block where the geometry allows.
      const run = (be, prep, perBlock = false) => {
        const { g, tensors: p } = prep;
        return attentionForward({
          q: p.qCodes.reshape([batch, g.npad, COLS]),
          k: p.kCodes.reshape([batch, g.npad, COLS]),
          v: p.vCodes.reshape([batch, COLS, g.npad]),
          qScale: p.qScale,
          ...(perBlock ? { kBlockScale: p.kBlockScale } : { kScale: p.kScale }),
          vScale: p.vScales,
          blockValidRows: g.blockValidRows,
          rowPtr: g.blockLists?.rowPtr ?? null,
          colIdx: g.blockLists?.colIdx ?? null,
          headDim: HEAD_DIM,
        });
      };
      const gpuOut = run(gpu, onGpu);
      await gpu.synchronize();
      const gpuBits = await gpuOut.download();
      const cpuBits = run(cpu, onCpu).downloadSync();
      const agree = attentionErrorStats(gpuBits, bf16ToF64(cpuBits));
      console.log(`# ${name}: attentionForward alone, CUDA vs twin relL2 ${agree.relL2.toExponential(2)} cosine ${agree.cosine.toFixed(7)} maxAbs ${agree.maxAbs.toExponential(2)}`);
      assert.ok(agree.cosine > 0.9999, `attentionForward alone: CUDA vs twin cosine ${agree.cosine}`);
      if (onCpu.g.kBlockGroups !== null) {
        const gpuBlockOut = run(gpu, onGpu, true);
        await gpu.synchronize();
        const gpuBlockBits = await gpuBlockOut.download();
        const cpuBlockBits = run(cpu, onCpu, true).downloadSync();
        // The twin gives the per-row result bit for bit; the kernel's block path agrees with the twin like its row path.
        assert.deepEqual(cpuBlockBits, cpuBits, 'twin: kBlockScale and the per-row kScale give the same bits');
        assert.ok(gpuBlockBits.every((b) => (b & 0x7fff) <= 0x7f80), 'kBlockScale: every output is finite');
        const agreeBlock = attentionErrorStats(gpuBlockBits, bf16ToF64(cpuBlockBits));
        const rowVsBlock = attentionErrorStats(gpuBlockBits, bf16ToF64(gpuBits));
        console.log(
          `# ${name}: attentionForward alone with kBlockScale, CUDA vs twin relL2 ${agreeBlock.relL2.toExponential(2)} cosine ${agreeBlock.cosine.toFixed(7)}; ` +
            `CUDA block vs row path relL2 ${rowVsBlock.relL2.toExponential(2)}`,
        );
        assert.ok(agreeBlock.cosine > 0.9999, `attentionForward alone with kBlockScale: CUDA vs twin cosine ${agreeBlock.cosine}`);
        assert.ok(agreeBlock.relL2 <= 2 * agree.relL2 + 1e-4, `kBlockScale path: CUDA vs twin relL2 ${agreeBlock.relL2} > 2 x the per-row path's ${agree.relL2}`);
      }
    });
  }
});
