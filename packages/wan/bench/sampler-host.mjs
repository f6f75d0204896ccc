// The sampler's host work per step, outside the model: guidance, its checks and the solver step, on latents of Wan's
// real sizes (720p: [16, 21, 90, 160] = 4.84M floats; 480p: [16, 21, 60, 104]). The model returns fixed cond/uncond
// arrays (or one velocity with --no-cfg), so a step's time is all host work; the model's own time (a few microseconds)
// is measured and subtracted anyway. Runs against dist: `npm run build` first. Shared machines are noisy: the median per
// rep is printed, and the median of those.
// Usage: node bench/sampler-host.mjs [--shape 720p|480p] [--solver unipc|euler] [--steps 8] [--reps 5] [--no-cfg]
// Prints `SAMPLER_HOST shape solver cfg ms_per_step_median [per-rep medians]`.
import { parseArgs } from 'node:util';
import { sample } from '../dist/index.js';

const { values: args } = parseArgs({
  options: {
    shape: { type: 'string', default: '720p' },
    solver: { type: 'string', default: 'unipc' },
    steps: { type: 'string', default: '8' },
    reps: { type: 'string', default: '5' },
    'no-cfg': { type: 'boolean', default: false },
  },
});
/** Latent shapes of Wan2.1's two resolutions at 81 frames. */
const SHAPES = { '480p': [16, 21, 60, 104], '720p': [16, 21, 90, 160] };
const latentShape = SHAPES[args.shape];
if (!latentShape) throw new Error(`--shape must be 480p or 720p, got ${args.shape}`);
const STEPS = Number(args.steps);
const REPS = Number(args.reps);
const CFG = !args['no-cfg'];
const size = latentShape.reduce((a, b) => a * b, 1);

/** Deterministic values in about [-2, 2]: a 32-bit LCG, so the bench needs nothing but dist. */
function fixedValues(length, seed) {
  const values = new Float32Array(length);
  let state = seed >>> 0;
  for (let k = 0; k < length; k++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    values[k] = (state / 2 ** 32) * 4 - 2;
  }
  return values;
}

const cond = fixedValues(size, 1);
const uncond = fixedValues(size, 2);
const noise = fixedValues(size, 3);
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};

const repMedians = [];
for (let rep = 0; rep < REPS; rep++) {
  const hostMs = [];
  let modelMs = 0;
  const model = () => {
    const started = performance.now();
    const output = CFG ? { cond, uncond } : { velocity: cond };
    modelMs = performance.now() - started;
    return output;
  };
  await sample({ latentShape, noise, steps: STEPS, solver: args.solver, model, onStep: ({ ms }) => hostMs.push(ms - modelMs) });
  repMedians.push(median(hostMs));
}
const fmt = (ms) => ms.toFixed(1);
console.log(
  `SAMPLER_HOST ${args.shape} ${args.solver} ${CFG ? 'cfg' : 'velocity'} ${fmt(median(repMedians))} ms/step ` +
    `[${repMedians.map(fmt).join(' ')}] (${size} floats, ${STEPS} steps, ${REPS} reps)`,
);
