// Memory-bound kernel benchmark at Wan-1.3B 720p shapes (75,600 tokens x 1,536 channels BF16) on the CUDA backend,
// against the device-to-device copy bandwidth measured in the same process (bytes read + bytes written), plus the
// caching allocator's cost for 1,000 alloc/free cycles of step-sized tensors against one attention layer's time
// (--sdpa FILE: JSON from bench/sdpa_720p.py run on the same card).
// Usage: node bench/gpu-bench.mjs [--sdpa sdpa.json] [--out bench.json] [--reps 30]
import { readFileSync, writeFileSync, existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { createTileLayout, createTilePermutation } from '@fpsattn/tiling';
import * as K from '../dist/index.js';
import * as T from '../dist/testing.js';

const { values: args } = parseArgs({ options: { sdpa: { type: 'string' }, out: { type: 'string' }, reps: { type: 'string', default: '30' } } });
const REPS = Number(args.reps);
let backend;
try {
  ({ backend } = K.loadBackend({ backend: 'cuda' }));
} catch (error) {
  if (error?.code !== 'FPSATTN_BACKEND_UNAVAILABLE') throw error;
  // A benchmark of CUDA kernels has nothing to measure without a device: say why and leave `npm run bench` green.
  console.log(`gpu-bench: skipped, no usable CUDA device here:\n  ${error.tried.join('\n  ')}`);
  process.exit(0);
}
const addon = backend.addon;
const dev = backend.device;
const GRID = [21, 45, 80];
const ROWS = 75_600;
const COLS = 1_536;
const HEAD_DIM = 128;
const BF16_BYTES = ROWS * COLS * 2;
const FP8_BYTES = ROWS * COLS;

/** Enqueues warmup + reps back to back with an event between each, then reads the per-rep times (median, min). */
function time(fn, reps = REPS, warmup = 3) {
  for (let i = 0; i < warmup; i++) fn();
  const events = Array.from({ length: reps + 1 }, () => addon.eventCreate());
  addon.eventRecord(events[0]);
  for (let i = 0; i < reps; i++) {
    fn();
    addon.eventRecord(events[i + 1]);
  }
  const ms = [];
  for (let i = 0; i < reps; i++) ms.push(addon.eventElapsed(events[i], events[i + 1]));
  for (const e of events) addon.eventDestroy(e);
  ms.sort((a, b) => a - b);
  return { median: ms[Math.floor(reps / 2)], min: ms[0], max: ms[reps - 1] };
}

// Allocator: 1,000 alloc/free cycles of step-sized tensors.
function allocBench(label, fn, cycles = 1000) {
  // Warm up (JIT-compiled code, as in a denoising loop that repeats every step), then 21 rounds of `cycles`; median
  // (a round that meets a garbage-collection pause is an outlier, which the median ignores; p90 is reported too).
  for (let i = 0; i < 20 * cycles; i++) fn();
  const before = backend.memoryStats();
  const rounds = [];
  for (let r = 0; r < 21; r++) {
    const t0 = performance.now();
    for (let i = 0; i < cycles; i++) fn();
    rounds.push(performance.now() - t0);
  }
  const after = backend.memoryStats();
  rounds.sort((a, b) => a - b);
  const ms = rounds[10];
  return { label, cycles, totalMs: ms, roundsMs: rounds, usPerCycle: (ms * 1000) / cycles, cudaMallocCalls: after.cudaMallocCalls - before.cudaMallocCalls, cacheHits: after.cacheHits - before.cacheHits };
}
// Measured first too, before the benchmark's large host arrays exist (V8's heap state changes the cost of the
// short-lived objects a tensor allocation makes), and with a no-op addon to separate the JS wrapper from N-API.
const allocFresh = allocBench('1 tensor [75600,1536] bf16 per cycle (JS Tensor API, fresh process heap)', () => backend.empty([ROWS, COLS], 'bf16').dispose());
const jsOnlyBackend = new K.CudaBackend({ alloc: () => 1, free: () => {} }, dev);
const allocJsOnly = allocBench('same, JS wrapper only (no-op addon)', () => jsOnlyBackend.empty([ROWS, COLS], 'bf16').dispose());
const results = [];
const gbps = (bytes, ms) => bytes / ms / 1e6;

console.log(`device: ${dev.name} (cc ${dev.computeCapability}, ${dev.smCount} SMs, ${(dev.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB), driver ${dev.driverVersion}, runtime ${dev.runtimeVersion}`);
const xHost = T.randomBf16(ROWS * COLS, 42, { cols: COLS, offset: 1 });
const x = backend.fromArray(xHost, [ROWS, COLS], 'bf16', { name: 'x' });
const y = backend.empty([ROWS, COLS], 'bf16', { name: 'y' });

// Baseline: device-to-device copy of the same tensor size, and of 1 GiB.
const copy = time(() => backend.copy(y, x));
const copyGBs = gbps(2 * BF16_BYTES, copy.median);
const big = backend.empty([2 ** 30], 'u8');
const big2 = backend.empty([2 ** 30], 'u8');
big.fillBytes(1);
const copyBig = time(() => backend.copy(big2, big), 10);
const copyBigGBs = gbps(2 * 2 ** 30, copyBig.median);
big.dispose();
big2.dispose();
const ref = Math.max(copyGBs, copyBigGBs);
console.log(`D2D copy ${(BF16_BYTES / 1e6).toFixed(1)} MB: ${copy.median.toFixed(3)} ms = ${copyGBs.toFixed(0)} GB/s; 1 GiB: ${copyBigGBs.toFixed(0)} GB/s (reference: ${ref.toFixed(0)} GB/s)`);

function record(name, t, minBytes, actualBytes = minBytes, note = '') {
  const r = {
    name,
    medianMs: t.median,
    minMs: t.min,
    minBytes,
    actualBytes,
    gbpsMinBytes: gbps(minBytes, t.median),
    gbpsActualBytes: gbps(actualBytes, t.median),
    pctOfCopyMinBytes: (100 * gbps(minBytes, t.median)) / ref,
    pctOfCopyActualBytes: (100 * gbps(actualBytes, t.median)) / ref,
    note,
  };
  results.push(r);
  console.log(
    `${name.padEnd(44)} ${t.median.toFixed(3).padStart(8)} ms  ${r.gbpsMinBytes.toFixed(0).padStart(5)} GB/s ${r.pctOfCopyMinBytes.toFixed(1).padStart(5)}% of copy` +
      (actualBytes !== minBytes ? `  | bytes moved ${r.gbpsActualBytes.toFixed(0)} GB/s ${r.pctOfCopyActualBytes.toFixed(1)}%` : '') +
      (note ? `  (${note})` : ''),
  );
}

// Permutation (tile-major order from @fpsattn/tiling; the argument works with a layout or { layout } signature)
const layout = createTileLayout({ grid: { frames: GRID[0], height: GRID[1], width: GRID[2] }, tile: [3, 5, 8] });
const { forward } = createTilePermutation({ layout });
const tm = { perm: forward, tileOfSlot: T.groupOfRuns(layout.tileOffsets), tileCount: layout.numTiles };
const perm = K.createRowMap({ backend, indices: tm.perm, targetRows: ROWS });
const mapBytes = ROWS * 4;
record('gather tile-major (3,5,8)', time(() => K.gatherRows({ src: x, map: perm, out: y })), 2 * BF16_BYTES + mapBytes);
record('scatter back to raster', time(() => K.scatterRows({ src: y, map: perm, out: x })), 2 * BF16_BYTES + mapBytes);
x.upload(xHost);
const xt = K.gatherRows({ src: x, map: perm });

// Q/K quantization
const groups = K.createGroupMap({ backend, groupOfRow: tm.tileOfSlot, groupCount: tm.tileCount });
const scaleBytes = tm.tileCount * 12 * 4;
const codes = backend.empty([ROWS, COLS], 'e4m3');
const scales = backend.empty([tm.tileCount, 12], 'f32');
const out = { codes, scales };
record('quantizeRows fused, tiles (3,5,8), e4m3', time(() => K.quantizeRows({ x: xt, groups, headDim: HEAD_DIM, format: 'e4m3', out })), BF16_BYTES + FP8_BYTES + scaleBytes, undefined, 'one pass');
const mean = K.channelMean({ x: xt });
record('quantizeRows fused + K smoothing (mean given)', time(() => K.quantizeRows({ x: xt, groups, headDim: HEAD_DIM, format: 'e4m3', mean, out })), BF16_BYTES + FP8_BYTES + scaleBytes);
record('channelMean (K smoothing, f64 fixed order)', time(() => K.channelMean({ x: xt }).dispose()), BF16_BYTES + COLS * 4);
record('quantizeRows two-pass, tiles (3,5,8), e4m3', time(() => K.quantizeRows({ x: xt, groups, headDim: HEAD_DIM, format: 'e4m3', out, path: 'two-pass' })), BF16_BYTES + FP8_BYTES + scaleBytes, 2 * BF16_BYTES + FP8_BYTES + scaleBytes, 'amax pass + quantize pass');
const rasterGroups = K.createGroupMap({ backend, groupOfRow: T.groupsInRasterOrder(tm.tileOfSlot, tm.perm), groupCount: tm.tileCount });
record('quantizeRows two-pass, raster-order tiles', time(() => K.quantizeRows({ x: x, groups: rasterGroups, headDim: HEAD_DIM, format: 'e4m3', out })), BF16_BYTES + FP8_BYTES + scaleBytes + mapBytes, 2 * BF16_BYTES + FP8_BYTES + 2 * mapBytes);
const tensorGroups = K.createGroupMap({ backend, groupOfRow: new Int32Array(ROWS), groupCount: 1 });
const tscales = backend.empty([1, 12], 'f32');
record('quantizeRows per-tensor (two-pass)', time(() => K.quantizeRows({ x: x, groups: tensorGroups, headDim: HEAD_DIM, format: 'e4m3', out: { codes, scales: tscales } })), BF16_BYTES + FP8_BYTES, 2 * BF16_BYTES + FP8_BYTES + 2 * mapBytes);
const tokStride = Math.ceil(ROWS / 16) * 16;
const codesT = backend.empty([COLS, tokStride], 'e4m3');
const vscales = backend.empty([COLS], 'f32');
record('quantizeV per-channel, transposed, e4m3', time(() => K.quantizeV({ v: x, format: 'e4m3', tokenStride: tokStride, out: { codesT, scales: vscales } })), BF16_BYTES + COLS * tokStride, 2 * BF16_BYTES + COLS * tokStride, 'amax pass + transpose-quantize pass');
// The pipeline's V path: the tile-major gather computes the per-channel amax as it copies, so quantization is one pass.
const vamax = backend.empty([COLS], 'f32');
const vt = backend.empty([ROWS, COLS], 'bf16');
record('gather tile-major + V channel amax', time(() => K.gatherRows({ src: x, map: perm, out: vt, amax: vamax })), 2 * BF16_BYTES + mapBytes);
record('quantizeV with the gather amax (one pass), e4m3', time(() => K.quantizeV({ v: vt, format: 'e4m3', tokenStride: tokStride, amax: vamax, out: { codesT, scales: vscales } })), BF16_BYTES + COLS * tokStride);

await backend.synchronize();
const alloc = [
  allocFresh,
  allocJsOnly,
  allocBench('1 tensor [75600,1536] bf16 per cycle (JS Tensor API)', () => backend.empty([ROWS, COLS], 'bf16').dispose()),
  allocBench('step set per cycle: 3 x bf16 + 3 x fp8 codes + 2 scales (JS Tensor API)', () => {
    const ts = [
      backend.empty([ROWS, COLS], 'bf16'), backend.empty([ROWS, COLS], 'bf16'), backend.empty([ROWS, COLS], 'bf16'),
      backend.empty([ROWS, COLS], 'e4m3'), backend.empty([ROWS, COLS], 'e4m3'), backend.empty([COLS, tokStride], 'e4m3'),
      backend.empty([630, 12], 'f32'), backend.empty([COLS], 'f32'),
    ];
    for (const t of ts) t.dispose();
  }),
  allocBench('1 block per cycle (native alloc/free only)', () => addon.free(addon.alloc(BF16_BYTES))),
];
let sdpa = null;
if (args.sdpa && existsSync(args.sdpa)) {
  try {
    sdpa = JSON.parse(readFileSync(args.sdpa, 'utf8'));
  } catch (e) {
    console.log(`could not read ${args.sdpa}: ${e.message}`);
  }
}
const layerMs = sdpa?.cudnn?.median_ms ?? sdpa?.flash2?.median_ms ?? null;
for (const a of alloc) {
  a.pctOfAttentionLayer = layerMs ? (100 * a.totalMs) / layerMs : null;
  console.log(`allocator: ${a.label}: ${a.cycles} cycles ${a.totalMs.toFixed(3)} ms (${a.usPerCycle.toFixed(2)} us/cycle, cudaMalloc calls ${a.cudaMallocCalls}, cache hits ${a.cacheHits})` + (layerMs ? ` = ${a.pctOfAttentionLayer.toFixed(3)}% of one 720p attention layer (${layerMs.toFixed(2)} ms, SDPA ${sdpa.cudnn?.median_ms ? 'cuDNN' : 'FA2'})` : ''));
}
const report = { date: new Date().toISOString(), device: dev, copy: { bytes: 2 * BF16_BYTES, ...copy, gbps: copyGBs }, copy1GiB: { ...copyBig, gbps: copyBigGBs }, referenceGBps: ref, kernels: results, allocator: alloc, attentionLayer: sdpa, allocatorStats: backend.memoryStats() };
if (args.out) writeFileSync(args.out, JSON.stringify(report, null, 2));
console.log('\nsummary (min bytes = bytes read + written by an ideal one-pass kernel):');
for (const r of results) console.log(`  ${r.name}: ${r.gbpsMinBytes.toFixed(0)} GB/s = ${r.pctOfCopyMinBytes.toFixed(1)}% of copy${r.actualBytes !== r.minBytes ? ` (bytes moved: ${r.pctOfCopyActualBytes.toFixed(1)}%)` : ''}`);
