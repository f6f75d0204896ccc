// Benchmark of the Wan DiT's device forward (issue 9): one batch-2 forward (CFG: same latents, two prompts of
// textLen tokens) at a Wan shape, for every distinct per-step plan set of each schedule preset, and the 50-step sample
// time each preset implies (the sum over its steps of the forward time of that step's plans; the sampler's own work is
// a few vectors per step and is not counted). Weights: random, Wan-shaped, generated per tensor on the host (xorshift,
// never all zeros) and converted to BF16 on the device.
//   node packages/wan/bench/dit-forward.mjs [--config wan-1.3b] [--shape 480p|720p] [--presets dense,fp8-only,sparse-only,wan-720p]
//        [--reps 2] [--steps 50] [--json out.json]
import { writeFileSync, renameSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadBackend } from '@fpsattn/kernels';
import { schedulePreset } from '@fpsattn/scheduler';
import { WAN_CONFIG_PRESETS, WanDeviceDit, WanDeviceWeights, layerPlansAt, wanTensorSpecs } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    config: { type: 'string', default: 'wan-1.3b' },
    shape: { type: 'string', default: '480p' },
    presets: { type: 'string', default: 'dense,fp8-only,sparse-only,wan-720p' },
    reps: { type: 'string', default: '2' },
    steps: { type: 'string', default: '50' },
    json: { type: 'string' },
    backend: { type: 'string', default: 'cuda' },
    profile: { type: 'boolean', default: false },
  },
});
const SHAPES = { '480p': [16, 21, 60, 104], '720p': [16, 21, 90, 160], tiny: [16, 3, 8, 10] };
const latentShape = SHAPES[args.shape];
if (!latentShape) throw new Error(`--shape must be 480p or 720p, got ${args.shape}`);
const config = WAN_CONFIG_PRESETS[args.config];
if (!config) throw new Error(`--config must be one of ${Object.keys(WAN_CONFIG_PRESETS).join(', ')}`);
const reps = Number(args.reps);
const steps = Number(args.steps);

const { backend } = loadBackend({ backend: args.backend, fresh: true });
console.log(`device ${backend.device?.name ?? backend.name}; ${args.config} ${args.shape} latents [${latentShape}] batch 2`);

/** Deterministic pseudo-random floats in [-1, 1) (xorshift32), scaled. */
function randomArray(n, seed, scale, offset = 0) {
  const out = new Float32Array(n);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    out[i] = offset + scale * (s / 2147483648 - 1);
  }
  return out;
}
const specs = wanTensorSpecs(config);
const source = {
  get(name) {
    const spec = specs.find((s) => s.name === name);
    if (!spec) return undefined;
    const n = spec.shape.reduce((a, b) => a * b, 1);
    const seed = [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) >>> 0, 7);
    if (/norm_[qk]\.weight|norm3\.weight/.test(name)) return randomArray(n, seed, 0.1, 1);
    if (/modulation/.test(name)) return randomArray(n, seed, 0.05);
    const fanIn = spec.shape.length > 1 ? n / spec.shape[0] : 1;
    return randomArray(n, seed, /bias/.test(name) ? 0.02 : Math.sqrt(3 / fanIn));
  },
};
let t0 = performance.now();
const weights = WanDeviceWeights.upload({ backend, config, weights: source });
await backend.synchronize();
console.log(`weights: ${(weights.deviceBytes / 2 ** 30).toFixed(2)} GiB on the device in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const dit = new WanDeviceDit(weights);
const contexts = [0, 1].map((b) => ({ values: randomArray(config.textLen * config.textDim, 99 + b, 1), length: config.textLen }));
t0 = performance.now();
const text = dit.encodeText({ contexts });
await backend.synchronize();
console.log(`text: ${((performance.now() - t0) / 1000).toFixed(2)} s`);
const latents = randomArray(latentShape.reduce((a, b) => a * b, 1), 5, 1.7);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const forwardMs = new Map();
const profiles = new Map();
async function timeForward(key, attention) {
  if (forwardMs.has(key)) return forwardMs.get(key);
  const run = async () => {
    const t = performance.now();
    await dit.forward({ latents: [latents, latents], latentShape, timestep: 700, text, attention });
    return performance.now() - t;
  };
  await run(); // warm-up: geometry, cuBLASLt plans, pool
  const times = [];
  for (let r = 0; r < reps; r++) times.push(await run());
  const ms = median(times);
  forwardMs.set(key, ms);
  if (args.profile) {
    const profile = new Map();
    await dit.forward({ latents: [latents, latents], latentShape, timestep: 700, text, attention, profile });
    const total = [...profile.values()].reduce((a, b) => a + b, 0);
    console.log(`    profile (synchronised per part, total ${total.toFixed(0)} ms): ${[...profile].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}`);
    profiles.set(key, Object.fromEntries(profile));
  }
  return ms;
}

const results = [];
for (const preset of args.presets.split(',')) {
  const schedule = { ...schedulePreset({ name: preset, resolution: args.shape === '720p' ? '720p' : '480p', steps }) };
  if (args.shape === 'tiny') schedule.model = { layers: config.numLayers, heads: config.numHeads, headDim: 128 };
  const groups = new Map();
  for (let step = 0; step < steps; step++) {
    const plans = layerPlansAt(schedule, step);
    const key = JSON.stringify(plans);
    if (!groups.has(key)) groups.set(key, { plans, steps: [] });
    groups.get(key).steps.push(step);
  }
  let total = 0;
  const phases = [];
  for (const [key, g] of groups) {
    const ms = await timeForward(key, (layer) => g.plans[layer]);
    total += ms * g.steps.length;
    const modes = [...new Set(g.plans.flat().map((p) => p.mode))].join('+');
    phases.push({ steps: g.steps.length, firstStep: g.steps[0], modes, forwardMs: ms, profileMs: profiles.get(key) ?? null });
    console.log(`  ${preset.padEnd(12)} steps ${String(g.steps[0]).padStart(2)}.. x${String(g.steps.length).padStart(2)}  ${modes.padEnd(24)} forward ${ms.toFixed(1)} ms`);
  }
  const mem = backend.memoryStats?.();
  console.log(`DIT ${args.config} ${args.shape} ${preset}: ${steps}-step sample ${(total / 1000).toFixed(1)} s (sum of per-step forwards), peak device ${mem ? (mem.peakBytesInUse / 2 ** 30).toFixed(2) : '?'} GiB`);
  results.push({ preset, steps, sampleSeconds: total / 1000, phases, peakBytes: mem?.peakBytesInUse ?? null });
}
text.dispose();
dit.dispose();
weights.dispose();
if (args.json) {
  const tmp = `${args.json}.tmp`;
  writeFileSync(tmp, JSON.stringify({ device: backend.device?.name ?? null, config: args.config, shape: args.shape, latentShape, batch: 2, reps, results }, null, 1));
  renameSync(tmp, args.json);
}
