// The DiT elementwise ops at Wan-1.3B 720p with the CFG batch of 2 ([2 x 75,600, 1,536]) and castToBf16 at the FFN
// weight's shape (1,536 x 8,960), on the CUDA backend: median ms per call and GB/s of the bytes each op must move
// (reads + writes; the per-item modulation and gate rows, which stay in L2, are not counted), next to a device-to-device
// copy of the stream measured in the same process. Times come from CUDA events between back-to-back launches.
// Usage: node bench/dit-ops-bench.mjs [--reps 30] [--out dit-ops.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as K from '../dist/index.js';

const { values: args } = parseArgs({ options: { out: { type: 'string' }, reps: { type: 'string', default: '30' } } });
const REPS = Number(args.reps);
let backend;
try {
  ({ backend } = K.loadBackend({ backend: 'cuda' }));
} catch (error) {
  if (error?.code !== 'FPSATTN_BACKEND_UNAVAILABLE') throw error;
  console.log(`dit-ops-bench: skipped, no usable CUDA device here:\n  ${error.tried.join('\n  ')}`);
  process.exit(0);
}
const addon = backend.addon;
const TOKENS = 75_600;
const ITEMS = 2;
const ROWS = ITEMS * TOKENS;
const DIM = 1_536;
const HEAD_DIM = 128;
const N = ROWS * DIM;

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
  return { median: ms[Math.floor(reps / 2)], min: ms[0] };
}

/** Device tensor of random-looking finite values (a fixed pattern: timing does not depend on the values). */
function filled(shape, dtype, seed) {
  const n = shape.reduce((a, b) => a * b, 1);
  if (dtype === 'f32') {
    const a = new Float32Array(n);
    let s = seed >>> 0;
    for (let i = 0; i < n; i++) {
      s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
      a[i] = (s / 4294967296) * 4 - 2;
    }
    return backend.fromArray(a, shape, 'f32');
  }
  // bf16 / e4m3: byte patterns of finite values (0x3c..0x3f high bytes: magnitudes near 1 in bf16; e4m3 0x3c = 1.5).
  return backend.empty(shape, dtype).fillBytes(0x3c);
}

const gb = (bytes, ms) => bytes / (ms * 1e6);
const results = [];
function report(name, bytes, t) {
  const r = { name, medianMs: t.median, minMs: t.min, bytes, gbps: gb(bytes, t.median) };
  results.push(r);
  console.log(`${name.padEnd(52)} ${t.median.toFixed(3).padStart(8)} ms  ${r.gbps.toFixed(0).padStart(5)} GB/s`);
}

console.log(`dit-ops-bench on ${backend.device.name}: stream [${ITEMS} x ${TOKENS}, ${DIM}], ${REPS} reps`);
const x = filled([ROWS, DIM], 'f32', 1);
const out = backend.empty([ROWS, DIM], 'bf16');
const xb = filled([ROWS, DIM], 'bf16', 2);
const shift = filled([ITEMS, DIM], 'f32', 3);
const scale = filled([ITEMS, DIM], 'f32', 4);
const weight = filled([DIM], 'f32', 5);
const bias = filled([DIM], 'f32', 6);

const copyDst = backend.empty([ROWS, DIM], 'f32');
const copy = time(() => backend.copy(copyDst, x));
report('D2D copy of the f32 stream (reference)', 2 * N * 4, copy);

report('layerNormModulate f32 -> bf16, modulated (norm1/2)', N * 6, time(() => K.layerNormModulate({ x, rowsPerItem: TOKENS, eps: 1e-6, shift, scale, out })));
report('layerNormModulate f32 -> bf16, affine (norm3)', N * 6, time(() => K.layerNormModulate({ x, rowsPerItem: TOKENS, eps: 1e-6, weight, bias, out })));

const tables = { cos: filled([TOKENS, HEAD_DIM / 2], 'f32', 7), sin: filled([TOKENS, HEAD_DIM / 2], 'f32', 8), headDim: HEAD_DIM };
report('rmsNormRope bf16 -> bf16, RoPE (self-attn q/k)', N * 4, time(() => K.rmsNormRope({ x: xb, weight, eps: 1e-6, rope: tables, out })));
report('rmsNormRope f32 -> bf16, RoPE', N * 6, time(() => K.rmsNormRope({ x, weight, eps: 1e-6, rope: tables, out })));
report('rmsNormRope bf16 -> bf16, no rope (cross-attn q)', N * 4, time(() => K.rmsNormRope({ x: xb, weight, eps: 1e-6, out })));

const xr = filled([ROWS, DIM], 'f32', 9);
report('gatedResidual x += y(bf16) * gate', N * 10, time(() => K.gatedResidual({ x: xr, y: xb, gate: shift, rowsPerItem: TOKENS })));
report('gatedResidual x += y(f32)', N * 12, time(() => K.gatedResidual({ x: xr, y: x, rowsPerItem: TOKENS })));

const W = 1_536 * 8_960;
const wOut = backend.empty([8_960, 1_536], 'bf16');
const w32 = filled([8_960, 1_536], 'f32', 10);
report('castToBf16 f32 -> bf16 [8960, 1536]', W * 6, time(() => K.castToBf16({ src: w32, out: wOut })));
const w8 = filled([8_960, 1_536], 'e4m3', 11);
report('castToBf16 e4m3 x scale -> bf16 [8960, 1536]', W * 3, time(() => K.castToBf16({ src: w8, scale: 0.01, out: wOut })));
report('castToBf16 f32 -> bf16 stream [2 x 75600, 1536]', N * 6, time(() => K.castToBf16({ src: x, out })));

await backend.synchronize();
if (args.out) writeFileSync(args.out, JSON.stringify({ device: backend.device, date: new Date().toISOString(), reps: REPS, results }, null, 1));
