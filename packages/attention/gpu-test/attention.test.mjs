// GPU suite of the composed op: attention() on the CUDA backend against the same call on the CPU backend (whose
// attentionForward is the float64 twin of the kernel's math) and against the raster float64 reference, for every mode,
// on soft-attention BF16 inputs (unit-size values, O(1) scores) with 20-50x outlier channels in K. Rule (FlashAttention's, per op info.exactness): the
// CUDA output's relative L2 error against the raster reference is at most 2x the CPU twin's (+ 1e-4), and CUDA and
// the twin agree within accumulation noise. Outputs are poisoned (NaN bytes) before every run.
// Needs Node, the built dist/ of fp8, tiling, scheduler, kernels, attention, and the .node. Run: node --test gpu-test/
// FPSATTN_GPU_TEST_SIZE=small (3x10x16 tokens, default) | medium (6x20x24); FPSATTN_GPU_TEST_ON_CPU=1: dry run on CPU.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CpuBackend, attentionForward, loadBackend } from '@fpsattn/kernels';
import { AttentionGeometryCache, attention } from '../dist/index.js';
import { attentionErrorStats, rasterAttentionReference, unitBf16 } from '../dist/testing.js';

const SIZE = process.env.FPSATTN_GPU_TEST_SIZE ?? 'small';
const GRID = { small: [3, 10, 16], medium: [6, 20, 24] }[SIZE];
if (!GRID) throw new Error(`FPSATTN_GPU_TEST_SIZE must be small or medium, got ${SIZE}`);
const HEAD_DIM = 128;
const HEADS = 2;
const COLS = HEADS * HEAD_DIM;
const N = GRID[0] * GRID[1] * GRID[2];

let gpu = null;
let skipReason = null;
try {
  if (process.env.FPSATTN_GPU_TEST_ON_CPU === '1') gpu = new CpuBackend();
  else {
    const loaded = loadBackend({ backend: 'auto', fresh: true });
    if (loaded.backend.name === 'cuda') gpu = loaded.backend;
    else skipReason = `no usable CUDA device: ${loaded.fallbackReason}`;
  }
} catch (e) {
  skipReason = `backend load failed: ${e.message}`;
}
if (skipReason) console.log(`# attention GPU suite skipped: ${skipReason}`);
const cpu = new CpuBackend();

const tile = [3, 5, 8];
const clamped = { kind: 'clamped', tiles: [1, 1, 1] };
const PLANS = [
  ['dense-bf16', { plan: { mode: 'dense-bf16' } }],
  ['sparse-bf16', { plan: { mode: 'sparse-bf16', sparsity: { tile, window: clamped } } }],
  ['fp8-dense per tensor', { plan: { mode: 'fp8-dense', granularity: { kind: 'tensor' } } }],
  ['fp8-dense per token', { plan: { mode: 'fp8-dense', granularity: { kind: 'token' } } }],
  ['fp8-dense per tile', { plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile } }, kSmoothing: true }],
  ['fp8-sparse per tile', { plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile }, sparsity: { tile, window: clamped } } }],
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
        await gpu.synchronize();
        const gpuBits = await outGpu.download();
        const cpuBits = on(cpu, cpuCache).downloadSync();
        const reference = rasterAttentionReference({ q: bits.q, k: bits.k, v: bits.v, batch, grid: GRID, headDim: HEAD_DIM, ...options });
        const gpuErr = attentionErrorStats(gpuBits, reference);
        const cpuErr = attentionErrorStats(cpuBits, reference);
        const agree = attentionErrorStats(gpuBits, bf16ToF64(cpuBits));
        console.log(
          `# ${name}, batch ${batch}: vs float64 relL2 gpu ${gpuErr.relL2.toExponential(2)} cpu twin ${cpuErr.relL2.toExponential(2)}; ` +
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
