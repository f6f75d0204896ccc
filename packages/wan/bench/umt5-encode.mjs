// The umT5 device encoder at umT5-XXL widths (dim 4096, 64 heads of 64, FFN 10240, 32 buckets; random weights of the
// real shapes) on the CUDA backend: wall time of one prompt's encode (the ids uploaded, every GEMM and kernel, the
// output downloaded) per prompt length, and device memory (the allocator's peak since start, which counts the weights,
// and what the weights take). Random weights: one pool per weight shape, shared by every block (timing does not care
// about the values; generating 5.7e9 values in JS would take minutes), scaled 1/sqrt(fan-in); the vocabulary is cut to
// --vocab rows (the embedding gather reads `length` rows whatever its size; the real 256,384 would need a 4 GiB host
// array). A warm-up encode per length first (cuBLASLt's heuristics, the first cudaMallocs), then `--reps` timed ones.
// Compare with oracle/umt5_encoder.py --bench (PyTorch bf16, same layers and lengths; scripts/gpu/run-umt5.sh).
// Usage: node bench/umt5-encode.mjs [--layers 24] [--lengths 512,128] [--reps 5] [--vocab 32128] [--out umt5.json]
// Prints `UMT5_DEVICE layers L length N ms_median peak_GiB weights_GiB` per length.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadBackend } from '@fpsattn/kernels';
import { UMT5_CONFIG_PRESETS, WanUmt5DeviceEncoder, WanUmt5DeviceWeights, umt5TensorSpecs } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    layers: { type: 'string', default: '24' },
    lengths: { type: 'string', default: '512,128' },
    reps: { type: 'string', default: '5' },
    vocab: { type: 'string', default: '32128' },
    out: { type: 'string' },
  },
});
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

const rows = [];
for (const length of LENGTHS) {
  const ids = Int32Array.from({ length }, (_, i) => (i === length - 1 ? 1 : 2 + ((i * 7919) % (config.vocabSize - 2))));
  const warm = await encoder.encode({ ids, length });
  if (!warm.every(Number.isFinite)) console.log(`# warning: non-finite outputs at length ${length} (random weights)`);
  const times = [];
  for (let r = 0; r < REPS; r++) {
    const start = performance.now();
    await encoder.encode({ ids, length });
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const stats = backend.memoryStats();
  const row = { layers: LAYERS, length, msMedian: times[Math.floor(times.length / 2)], msMin: times[0], peakGiB: stats.peakBytesInUse / GiB, weightsGiB: deviceWeights.bytes / GiB };
  rows.push(row);
  console.log(`UMT5_DEVICE layers ${LAYERS} length ${length} ${row.msMedian.toFixed(2)} ms (min ${row.msMin.toFixed(2)})  peak ${row.peakGiB.toFixed(2)} GiB  weights ${row.weightsGiB.toFixed(2)} GiB`);
}
if (args.out) writeFileSync(args.out, `${JSON.stringify({ config, results: rows }, null, 2)}\n`);
deviceWeights.dispose();
