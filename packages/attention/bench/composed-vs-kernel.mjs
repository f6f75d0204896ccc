// The composed op (gather -> quantize -> attend -> scatter) against the attention kernel alone on prepared inputs of
// the same geometry, at Wan-1.3B 720p (21x45x80 tokens, 12 heads of 128, batch 1 and 2), for every mode. The issue's
// floor: the composed call within 15% of the kernel alone. CUDA events, warm-up, median of --reps.
// Usage (GPU machine, after the build): node bench/composed-vs-kernel.mjs [--reps 10] [--out composed.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as K from '@fpsattn/kernels';
import { planCost } from '@fpsattn/scheduler';
import { attention, attentionGeometry } from '../dist/index.js';

const { values: args } = parseArgs({ options: { reps: { type: 'string', default: '10' }, out: { type: 'string' }, 'dry-run': { type: 'boolean' } } });
const REPS = Number(args.reps);
// --dry-run: the same script on the CPU backend at a tiny grid (host timers), to check it before spending GPU time.
const DRY = args['dry-run'] === true;
let backend;
try {
  ({ backend } = K.loadBackend({ backend: DRY ? 'cpu' : 'cuda' }));
} catch (error) {
  if (error?.code !== 'FPSATTN_BACKEND_UNAVAILABLE') throw error;
  console.log(`composed-vs-kernel: skipped, no usable CUDA device here:\n  ${error.tried.join('\n  ')}`);
  process.exit(0);
}
const addon = backend.addon;
const GRID = DRY ? [3, 10, 16] : [21, 45, 80];
const N = GRID[0] * GRID[1] * GRID[2];
const HEADS = DRY ? 2 : 12;
const D = 128;
const COLS = HEADS * D;
const TILE = [3, 5, 8];
// 7x9x10 tiles; a clamped 5x5x5-tile window covers 125 of 630 tiles: about 20% of the real token pairs.
const WINDOW = { kind: 'clamped', tiles: DRY ? [1, 1, 1] : [5, 5, 5] };
const PLANS = {
  'dense-bf16': { mode: 'dense-bf16' },
  'sparse-bf16': { mode: 'sparse-bf16', sparsity: { tile: TILE, window: WINDOW } },
  'fp8-dense': { mode: 'fp8-dense', granularity: { kind: 'tile', tile: TILE } },
  'fp8-sparse': { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: TILE }, sparsity: { tile: TILE, window: WINDOW } },
};

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
}
function time(fn, reps = REPS, warmup = 2) {
  if (DRY) {
    const t0 = performance.now();
    fn();
    return performance.now() - t0;
  }
  for (let i = 0; i < warmup; i++) fn();
  const ev = Array.from({ length: reps + 1 }, () => addon.eventCreate());
  addon.eventRecord(ev[0]);
  for (let i = 0; i < reps; i++) {
    fn();
    addon.eventRecord(ev[i + 1]);
  }
  addon.synchronizeSync();
  const ms = [];
  for (let i = 0; i < reps; i++) ms.push(addon.eventElapsed(ev[i], ev[i + 1]));
  for (const e of ev) addon.eventDestroy(e);
  return median(ms);
}

let seed = 0x9e3779b9;
const rand = () => {
  seed ^= seed << 13;
  seed ^= seed >>> 17;
  seed ^= seed << 5;
  return (seed >>> 0) / 2 ** 32;
};
/** BF16 bits of uniform(-1, 1) values (never zeros: zeros run faster than real data). */
function bf16Random(n) {
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = rand() * 2 - 1;
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) out[i] = (u[i] + 0x7fff + ((u[i] >>> 16) & 1)) >>> 16;
  return out;
}
/** E4M3 codes of magnitude <= 1.875 (exponent field <= 7), random sign: no NaN codes. */
function e4m3Random(n) {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = ((rand() * 64) | 0) | (rand() < 0.5 ? 0x80 : 0);
  return out;
}

const results = [];
for (const batch of DRY ? [1] : [1, 2]) {
  const q = backend.fromArray(bf16Random(batch * N * COLS), [batch, N, COLS], 'bf16', { name: 'q' });
  const k = backend.fromArray(bf16Random(batch * N * COLS), [batch, N, COLS], 'bf16', { name: 'k' });
  const v = backend.fromArray(bf16Random(batch * N * COLS), [batch, N, COLS], 'bf16', { name: 'v' });
  const out = backend.empty([batch, N, COLS], 'bf16', { name: 'out' });
  for (const [mode, plan] of Object.entries(PLANS)) {
    const g = attentionGeometry({ backend, grid: GRID, plan });
    const fp8 = g.dtype === 'e4m3';
    const npad = g.npad;
    const dt = fp8 ? 'e4m3' : 'bf16';
    const mk = (shape, name) => (fp8 ? backend.fromArray(e4m3Random(shape.reduce((a, b) => a * b)), shape, 'e4m3', { name }) : backend.fromArray(bf16Random(shape.reduce((a, b) => a * b)), shape, 'bf16', { name }));
    const qp = mk([batch, npad, COLS], 'qp');
    const kp = mk([batch, npad, COLS], 'kp');
    const vp = fp8 ? mk([batch, COLS, npad], 'vT') : mk([batch, npad, COLS], 'vp');
    const ones = (shape) => backend.fromArray(new Float32Array(shape.reduce((a, b) => a * b)).fill(1), shape, 'f32');
    const qs = fp8 ? ones([batch, HEADS, npad]) : null;
    // K's scales as the composed call hands them: per key block when the geometry has kBlockGroups, else per row
    // (the kernel's two FP8 paths differ in speed, so the kernel alone must take the composed call's path).
    const perBlock = fp8 && g.kBlockGroups !== null;
    const ks = fp8 && !perBlock ? ones([batch, HEADS, npad]) : null;
    const kbs = perBlock ? ones([batch, HEADS, npad / g.blockRows]) : null;
    const vs = fp8 ? ones([batch, COLS]) : null;
    const kout = backend.empty([batch, npad, COLS], 'bf16', { name: 'kout' });
    const kernelMs = time(() =>
      K.attentionForward({ q: qp, k: kp, v: vp, qScale: qs, ...(perBlock ? { kBlockScale: kbs } : { kScale: ks }), vScale: vs, blockValidRows: g.blockValidRows, rowPtr: g.blockLists?.rowPtr ?? null, colIdx: g.blockLists?.colIdx ?? null, headDim: D, out: kout }),
    );
    const composedMs = time(() => attention({ q, k, v, grid: GRID, plan, kSmoothing: fp8, out }));
    const density = planCost({ plan, grid: GRID, blockRows: g.blockRows }).density;
    const tflops = (4 * D * N * N * density * HEADS * batch) / (composedMs * 1e-3) / 1e12;
    const ktflops = (4 * D * N * N * density * HEADS * batch) / (kernelMs * 1e-3) / 1e12;
    const row = { batch, mode, dtype: dt, kScales: !fp8 ? null : perBlock ? 'per-block' : 'per-row', density, kernelMs, composedMs, overhead: composedMs / kernelMs - 1, kernelTflops: ktflops, composedTflops: tflops };
    results.push(row);
    console.log(
      `B${batch} ${mode.padEnd(12)} ${(row.kScales ?? '').padEnd(9)} density ${(100 * density).toFixed(2)}%  kernel ${kernelMs.toFixed(2)} ms (${ktflops.toFixed(0)} TFLOP/s)  composed ${composedMs.toFixed(2)} ms (${tflops.toFixed(0)})  overhead ${(100 * row.overhead).toFixed(1)}%`,
    );
    for (const t of [qp, kp, vp, qs, ks, kbs, vs, kout]) t?.dispose();
  }
  for (const t of [q, k, v, out]) t.dispose();
}
if (args.out) writeFileSync(args.out, JSON.stringify({ device: DRY ? 'cpu (dry run)' : backend.device.name, results }, null, 2));
