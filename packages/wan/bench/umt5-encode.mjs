// The umT5 device encoder at umT5-XXL widths (dim 4096, 64 heads of 64, FFN 10240, 32 buckets; random weights of the
// real shapes) on the CUDA backend: wall time of one prompt's encode (the ids uploaded, every GEMM and kernel, the
// output downloaded) per prompt length, and device memory (the allocator's peak since start, which counts the weights,
// and what the weights take). Random weights: one pool per weight shape, shared by every block (timing does not care
// about the values; generating 5.7e9 values in JS would take minutes), scaled 1/sqrt(fan-in); the vocabulary is cut to
// --vocab rows (the embedding gather reads `length` rows whatever its size; the real 256,384 would need a 4 GiB host
// array). A warm-up encode per length first (cuBLASLt's heuristics, the first cudaMallocs), then `--reps` timed ones,
// then `--reps` of encodeToDevice + synchronize (`device` ms: no download and no BF16 -> F32 decode, the kind of time
// PyTorch's CUDA events give). Also counted per encode: cudaMalloc calls and native op calls (both flat when warm).
// Compare with oracle/umt5_encoder.py --bench (PyTorch bf16, same layers and lengths; scripts/gpu/run-umt5.sh).
// --profile: per length, encodes attributed part by part (the encoder's `profile` hook; parts as WanUmt5DevicePart,
// plus `download` = D2H and decode): `host` = JS time issuing each part and `gpu` = CUDA-event time between part
// boundaries, both from one encode that never waits (gpu well above host in a part: the device limits it; host sum
// near the wall time: host-bound), and `sync` = wall time per part of an encode that waits for the device after every
// part (like the DiT bench's --profile: serialised, no part hides behind another).
// Usage: node bench/umt5-encode.mjs [--layers 24] [--lengths 512,128] [--reps 5] [--vocab 32128] [--profile]
//        [--head-gemms batched|per-head]   (the encoder's headGemms: one batched GEMM per product, the default, or one per head)
//        [--out umt5.json]
// Prints `UMT5_DEVICE layers L length N <ms> ms (min) device <ms> ms (min) peak <GiB> weights <GiB>` per length, and
// with --profile `UMT5_PROFILE length N <part> host <ms> gpu <ms> sync <ms>` per part and a total.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { decodeBf16Array } from '@fpsattn/fp8';
import { loadBackend } from '@fpsattn/kernels';
import { UMT5_CONFIG_PRESETS, WanUmt5DeviceEncoder, WanUmt5DeviceWeights, umt5TensorSpecs } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    layers: { type: 'string', default: '24' },
    lengths: { type: 'string', default: '512,128' },
    reps: { type: 'string', default: '5' },
    vocab: { type: 'string', default: '32128' },
    profile: { type: 'boolean', default: false },
    'head-gemms': { type: 'string', default: 'batched' },
    out: { type: 'string' },
  },
});
const headGemms = args['head-gemms'];
if (headGemms !== 'per-head' && headGemms !== 'batched') throw new Error(`--head-gemms: expected per-head or batched, got ${JSON.stringify(headGemms)}`);
const LAYERS = Number(args.layers);
const LENGTHS = args.lengths.split(',').map(Number);
const REPS = Number(args.reps);
const config = { ...UMT5_CONFIG_PRESETS['umt5-xxl'], numLayers: LAYERS, vocabSize: Number(args.vocab) };
for (const l of LENGTHS) if (!(Number.isInteger(l) && l >= 1 && l <= config.textLen)) throw new Error(`--lengths: ${l} is not in 1..${config.textLen}`);

let backend;
try {
  ({ backend } = loadBackend({ backend: 'cuda' }));
} catch (error) {
  if (error?.code !== 'FPSATTN_BACKEND_UNAVAILABLE') throw error;
  console.log(`umt5-encode bench: skipped, no usable CUDA device here:\n  ${error.tried.join('\n  ')}`);
  process.exit(0);
}

const GiB = 2 ** 30;
let t0 = performance.now();
/** Uniform in [-scale, scale) from a 32-bit xorshift: fast enough for ~10^8 values. */
function randomArray(length, scale, seed) {
  const out = new Float32Array(length);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    out[i] = ((s >>> 0) / 2 ** 32 * 2 - 1) * scale;
  }
  return out;
}
const pools = new Map();
const weights = new Map();
for (const spec of umt5TensorSpecs(config)) {
  const key = `${spec.shape.join('x')}:${spec.name.split('.').slice(-2).join('.')}`;
  let data = pools.get(key);
  if (data === undefined) {
    const size = spec.shape.reduce((a, b) => a * b, 1);
    if (spec.shape.length === 1) data = randomArray(size, 0.1, pools.size + 1).map((v) => 1 + v);
    else if (spec.name.includes('embedding')) data = randomArray(size, 1, pools.size + 1);
    else data = randomArray(size, Math.sqrt(3 / (spec.shape[1] ?? 1)), pools.size + 1);
    pools.set(key, data);
  }
  weights.set(spec.name, data);
}
const genMs = performance.now() - t0;
t0 = performance.now();
const deviceWeights = WanUmt5DeviceWeights.upload({ backend, config, weights });
await backend.synchronize();
const uploadMs = performance.now() - t0;
console.log(`# umT5-XXL widths, ${LAYERS} layers, vocab ${config.vocabSize}: host weights ${genMs.toFixed(0)} ms, upload ${uploadMs.toFixed(0)} ms, ${(deviceWeights.bytes / GiB).toFixed(2)} GiB on ${backend.device?.name ?? backend.name}`);
const encoder = new WanUmt5DeviceEncoder({ weights: deviceWeights });

const { addon } = backend;
const median = (v) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)];

/** Native op calls (by export name) while `fn` runs. */
async function countingOps(fn) {
  const counts = {};
  const originals = new Map(addon.opDescriptions().map((d) => [d.name, addon[d.name]]));
  for (const [name, original] of originals) addon[name] = (...a) => ((counts[name] = (counts[name] ?? 0) + 1), original.apply(addon, a));
  try {
    await fn();
  } finally {
    for (const [name, original] of originals) addon[name] = original;
  }
  return counts;
}

/**
 * One encode attributed part by part. mode 'free': never waits; hostMs = JS time issuing each part, gpuMs = time
 * between the CUDA events recorded at the part boundaries. mode 'sync': waits for the device after each part; syncMs.
 */
async function profiled(ids, length, mode) {
  const parts = new Map();
  const add = (part, field, ms) => {
    const p = parts.get(part) ?? { hostMs: 0, gpuMs: 0, syncMs: 0 };
    p[field] += ms;
    parts.set(part, p);
  };
  const events = [];
  const names = [];
  const record = () => {
    const e = addon.eventCreate();
    addon.eventRecord(e);
    events.push(e);
  };
  await backend.synchronize();
  if (mode === 'free') record();
  let mark = performance.now();
  const profile = (part) => {
    if (mode === 'sync') addon.synchronizeSync();
    add(part, mode === 'sync' ? 'syncMs' : 'hostMs', performance.now() - mark);
    if (mode === 'free') {
      record();
      names.push(part);
    }
    mark = performance.now(); // recording the event is not charged to a part
  };
  const out = encoder.encodeToDevice({ ids, length, profile, headGemms });
  mark = performance.now();
  decodeBf16Array({ input: await out.download() });
  out.dispose();
  add('download', mode === 'sync' ? 'syncMs' : 'hostMs', performance.now() - mark);
  for (let i = 0; i < names.length; i++) add(names[i], 'gpuMs', addon.eventElapsed(events[i], events[i + 1]));
  for (const e of events) addon.eventDestroy(e);
  return parts;
}

const rows = [];
for (const length of LENGTHS) {
  const ids = Int32Array.from({ length }, (_, i) => (i === length - 1 ? 1 : 2 + ((i * 7919) % (config.vocabSize - 2))));
  const warm = await encoder.encode({ ids, length, headGemms });
  if (!warm.every(Number.isFinite)) console.log(`# warning: non-finite outputs at length ${length} (random weights)`);
  const mallocsBefore = backend.memoryStats().cudaMallocCalls;
  const times = [];
  for (let r = 0; r < REPS; r++) {
    const start = performance.now();
    await encoder.encode({ ids, length, headGemms });
    times.push(performance.now() - start);
  }
  const deviceTimes = [];
  for (let r = 0; r < REPS; r++) {
    await backend.synchronize();
    const start = performance.now();
    const out = encoder.encodeToDevice({ ids, length, headGemms });
    await backend.synchronize();
    deviceTimes.push(performance.now() - start);
    out.dispose();
  }
  const mallocsPerEncode = (backend.memoryStats().cudaMallocCalls - mallocsBefore) / (2 * REPS);
  const opsPerEncode = await countingOps(() => encoder.encode({ ids, length, headGemms }));
  const stats = backend.memoryStats();
  const row = {
    layers: LAYERS,
    length,
    msMedian: median(times),
    msMin: Math.min(...times),
    msDeviceMedian: median(deviceTimes),
    msDeviceMin: Math.min(...deviceTimes),
    peakGiB: stats.peakBytesInUse / GiB,
    weightsGiB: deviceWeights.bytes / GiB,
    mallocsPerEncode,
    opsPerEncode,
  };
  console.log(
    `UMT5_DEVICE layers ${LAYERS} length ${length} ${row.msMedian.toFixed(2)} ms (min ${row.msMin.toFixed(2)})  device ${row.msDeviceMedian.toFixed(2)} ms (min ${row.msDeviceMin.toFixed(2)})  peak ${row.peakGiB.toFixed(2)} GiB  weights ${row.weightsGiB.toFixed(2)} GiB`,
  );
  console.log(`# length ${length}: cudaMalloc calls per encode ${mallocsPerEncode}, native ops per encode ${JSON.stringify(opsPerEncode)}`);
  if (args.profile) {
    await profiled(ids, length, 'free'); // first use of the event path
    const free = await profiled(ids, length, 'free');
    const sync = await profiled(ids, length, 'sync');
    row.profile = {};
    const total = { hostMs: 0, gpuMs: 0, syncMs: 0 };
    for (const part of new Set([...free.keys(), ...sync.keys()])) {
      const p = { hostMs: free.get(part)?.hostMs ?? 0, gpuMs: free.get(part)?.gpuMs ?? 0, syncMs: sync.get(part)?.syncMs ?? 0 };
      row.profile[part] = p;
      for (const k of Object.keys(total)) total[k] += p[k];
      console.log(`UMT5_PROFILE length ${length} ${part.padEnd(12)} host ${p.hostMs.toFixed(2).padStart(8)} ms  gpu ${p.gpuMs.toFixed(2).padStart(8)} ms  sync ${p.syncMs.toFixed(2).padStart(8)} ms`);
    }
    console.log(`UMT5_PROFILE length ${length} ${'total'.padEnd(12)} host ${total.hostMs.toFixed(2).padStart(8)} ms  gpu ${total.gpuMs.toFixed(2).padStart(8)} ms  sync ${total.syncMs.toFixed(2).padStart(8)} ms`);
  }
  rows.push(row);
}
if (args.out) writeFileSync(args.out, `${JSON.stringify({ config, results: rows }, null, 2)}\n`);
deviceWeights.dispose();
