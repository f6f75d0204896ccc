// Two host-side costs of a Wan 720p sample, each against the implementation it replaced, in the same process (shared
// machines are noisy: the reps interleave old and new, and the median of each is printed):
//   NOISE        gaussianNoise({ seed, shape: [16, 21, 90, 160] }) (4.84M normals) vs the pre-fast-path reference
//                (src/sampler/_gaussian-noise-reference.test-helpers.ts), bits compared once. Both include the
//                first writes to a fresh 19 MB output array: on a VM those page faults alone take 60-80 ms when the
//                allocator hands out new pages, a few ms when it recycles freed ones (so single runs vary)
//   MODULATIONS  the per-forward host time MLP of WanDeviceDit at Wan-1.3B's dims (freqDim 256, dim 1536, 30 layers):
//                sinusoid -> 256x1536 -> SiLU -> 1536x1536 -> SiLU -> 1536x9216 -> block/head modulations, with
//                random weights; `linear` now vs the one-row-at-a-time loop it replaced, and a repeated timestep
//                (WanDeviceDit's memo)
// gaussianNoise runs from dist (`npm run build` first); the private modules are bundled from src with esbuild.
// Usage: node bench/host-noise-and-modulations.mjs [--reps 5]
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { gaussianNoise } from '../dist/index.js';

const { values: args } = parseArgs({ options: { reps: { type: 'string', default: '5' } } });
const REPS = Number(args.reps);
const packageRoot = fileURLToPath(new URL('..', import.meta.url));

/** Imports private modules of src (TypeScript) through an esbuild bundle. */
async function importSrc(source, plugins = []) {
  const result = await build({ stdin: { contents: source, resolveDir: packageRoot, loader: 'ts' }, bundle: true, format: 'esm', platform: 'node', write: false, plugins });
  return import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString('base64')}`);
}

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
};
const time = (f) => {
  const start = performance.now();
  const result = f();
  return [performance.now() - start, result];
};

async function benchNoise() {
  const { referenceGaussianNoise } = await importSrc(`export * from './src/sampler/_gaussian-noise-reference.test-helpers';`);
  const shape = [16, 21, 90, 160];
  const size = shape.reduce((a, b) => a * b, 1);
  const before = [];
  const after = [];
  for (let rep = 0; rep < REPS; rep++) {
    const [tOld, old] = time(() => referenceGaussianNoise({ key: [42, 0], size, offset: 0 }));
    const [tNew, fast] = time(() => gaussianNoise({ seed: 42, shape }));
    before.push(tOld);
    after.push(tNew);
    if (rep === 0 && Buffer.compare(Buffer.from(old.buffer), Buffer.from(fast.buffer)) !== 0) throw new Error('noise bits differ');
  }
  console.log(`NOISE [${shape}] before ${median(before).toFixed(0)} ms after ${median(after).toFixed(0)} ms (${(median(before) / median(after)).toFixed(1)}x), bits identical`);
}

/** Bundles src's `../model/linear` imports as the reference (pre-change) linear, for the "before" time MLP. */
const oldLinear = {
  name: 'old-linear',
  setup(builder) {
    builder.onResolve({ filter: /^\.\.\/model\/linear$/ }, () => ({ path: 'old-linear', namespace: 'old-linear' }));
    builder.onLoad({ filter: /.*/, namespace: 'old-linear' }, () => ({
      contents: `export { referenceLinear as linear } from './src/model/_linear-reference.test-helpers';`, resolveDir: packageRoot, loader: 'ts',
    }));
  },
};

/** Random host weights of the time MLP and the modulations, at the given dims. */
function timeMlpWeights({ dim, freqDim, numLayers }) {
  let state = 1;
  const random = (length) => {
    const out = new Float32Array(length);
    for (let k = 0; k < length; k++) out[k] = ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 0.05;
    return out;
  };
  const weights = new Map([
    ['time_embedding.0.weight', random(dim * freqDim)], ['time_embedding.0.bias', random(dim)],
    ['time_embedding.2.weight', random(dim * dim)], ['time_embedding.2.bias', random(dim)],
    ['time_projection.1.weight', random(6 * dim * dim)], ['time_projection.1.bias', random(6 * dim)],
    ['head.modulation', random(2 * dim)],
  ]);
  for (let i = 0; i < numLayers; i++) weights.set(`blocks.${i}.modulation`, random(6 * dim));
  return weights;
}

async function benchModulations() {
  const source = `export { hostModulations } from './src/device/_host-modulations';`;
  const now = (await importSrc(source)).hostModulations;
  const before = (await importSrc(source, [oldLinear])).hostModulations;
  const config = { dim: 1536, freqDim: 256, numLayers: 30 }; // Wan-1.3B
  const weights = timeMlpWeights(config);
  const options = { config, host: (name) => weights.get(name), timestep: 999, batch: 2 };
  const times = { before: [], after: [] };
  for (let rep = 0; rep < 4 * REPS; rep++) {
    const [tOld, old] = time(() => before(options));
    const [tNew, fast] = time(() => now(options));
    times.before.push(tOld);
    times.after.push(tNew);
    if (rep === 0 && Buffer.compare(Buffer.from(old.blockModulation.buffer), Buffer.from(fast.blockModulation.buffer)) !== 0) throw new Error('modulation bits differ');
  }
  const [b, a] = [median(times.before), median(times.after)];
  console.log(`MODULATIONS wan-1.3b batch 2 before ${b.toFixed(1)} ms after ${a.toFixed(1)} ms (${(b / a).toFixed(1)}x), bits identical; a repeated timestep is memoized by WanDeviceDit (0 ms)`);
}

await benchNoise();
await benchModulations();
