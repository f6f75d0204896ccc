import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { WAN_CONFIG_PRESETS, type WanConfig } from './config';
import { type WanForwardCpuOptions, wanForwardCpu } from './cpu-forward';
import { wanForwardCpuCfg } from './cpu-forward-cfg';
import { WanInputError, WanTensorSetError } from './errors';
import { syntheticWanInputs } from './synthetic-inputs';
import { syntheticWanWeights } from './synthetic-weights';
import type { WanWeights } from './types';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];
const SEED = 1234;

/** fixtures/dit-golden*.json: the float64 numpy oracle's output for the same synthetic weights and inputs (packages/wan/oracle). */
interface Golden {
  config: WanConfig;
  seed: number;
  latentShape: number[];
  contextLength: number;
  timestep: number;
  output: { shape: number[]; values: number[] };
  checkpoints: Record<string, number[]>;
  generatorSamples?: Record<string, number[]>;
}

const FIXTURES = new URL('./fixtures/', import.meta.url);
const MAIN_GOLDEN = 'dit-golden.json';
const goldenFiles = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((f) => /^dit-golden.*\.json$/.test(f)).sort() : [];
const readGolden = (file: string): Golden => JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as Golden;

/** The oracle's checkpoint names and the stages of wanForwardCpu holding the same tensors. */
const STAGE_OF_CHECKPOINT = (config: WanConfig): Record<string, string> => ({
  patchEmbedding: 'patch_embedding',
  timeEmbedding: 'time_embedding',
  e0: 'time_projection',
  context: 'text_embedding',
  block0: 'blocks.0',
  beforeHead: `blocks.${config.numLayers - 1}`,
});

function relativeL2(actual: Float32Array, expected: readonly number[]): number {
  let error = 0;
  let norm = 0;
  expected.forEach((e, i) => {
    error += ((actual[i] as number) - e) ** 2;
    norm += e * e;
  });
  return Math.sqrt(error / norm);
}

let weights: WanWeights;
beforeAll(() => {
  weights = syntheticWanWeights({ config: tiny, seed: SEED });
});

/** Valid options for wan-tiny on the synthetic inputs of `latentShape` and `contextLength`. */
function options(o: { latentShape?: number[]; contextLength?: number } = {}): WanForwardCpuOptions {
  const latentShape = o.latentShape ?? [16, 2, 4, 4];
  const contextLength = o.contextLength ?? 5;
  const inputs = syntheticWanInputs({ config: tiny, seed: SEED, latentShape, contextLength });
  return { weights, config: tiny, latents: inputs.latents, latentShape, timestep: 500, context: inputs.context, contextLength };
}

/** The forward on `options(...)` with the inputs of the given shapes, then `overrides` on top. */
function run(overrides: Partial<WanForwardCpuOptions> & { latentShape?: number[] } = {}): Float32Array {
  const contextLength = overrides.context === undefined ? overrides.contextLength : undefined;
  return wanForwardCpu({ ...options({ latentShape: overrides.latentShape, contextLength }), ...overrides });
}

describe('wanForwardCpu against the golden output of the float64 oracle', () => {
  it.skipIf(!goldenFiles.includes(MAIN_GOLDEN))(`finds ${MAIN_GOLDEN} (this test is skipped only when the file is absent)`, () => {
    expect(readGolden(MAIN_GOLDEN).output.values.length).toBeGreaterThan(0);
  });

  describe.each(goldenFiles)('%s', (file) => {
    const golden = readGolden(file);
    const config: WanConfig = { ...golden.config, patchSize: golden.config.patchSize };

    it('uses the generator the oracle uses (its samples of weights and inputs, bit for bit)', () => {
      expect(config).toEqual(tiny);
      const inputs = syntheticWanInputs({ config, seed: golden.seed, latentShape: golden.latentShape, contextLength: golden.contextLength });
      const samples = golden.generatorSamples ?? {};
      for (const [name, values] of Object.entries(samples)) {
        const source = name === 'input.latents' ? inputs.latents : name === 'input.context' ? inputs.context : (weights.get(name) as Float32Array);
        expect(Array.from(source.subarray(0, values.length)), name).toEqual(values);
      }
    });

    it('matches the output within relative L2 1e-5 and every checkpoint within 1e-6', () => {
      expect(golden.seed).toBe(SEED);
      const inputs = syntheticWanInputs({ config, seed: golden.seed, latentShape: golden.latentShape, contextLength: golden.contextLength });
      const stages = new Map<string, Float32Array>();
      const output = wanForwardCpu({
        weights,
        config,
        latents: inputs.latents,
        latentShape: golden.latentShape,
        timestep: golden.timestep,
        context: inputs.context,
        contextLength: golden.contextLength,
        onStage: ({ stage, values }) => stages.set(stage, values),
      });
      expect(golden.output.shape).toEqual(golden.latentShape);
      expect(output.length).toBe(golden.output.values.length);
      const error = relativeL2(output, golden.output.values);
      console.info(`${file}: relative L2 ${error.toExponential(2)} over ${output.length} values`);
      expect(error).toBeLessThanOrEqual(1e-5);
      for (const [checkpoint, stage] of Object.entries(STAGE_OF_CHECKPOINT(config))) {
        const expected = golden.checkpoints[checkpoint] as number[];
        const actual = stages.get(stage) as Float32Array;
        const worst = Math.max(...expected.map((e, i) => Math.abs((actual[i] as number) - e)));
        expect(worst, `${checkpoint} (${stage})`).toBeLessThan(1e-6);
      }
    });
  });
});

describe('wanForwardCpu', () => {
  it('returns a finite velocity of the latent shape, the same bits on every call', () => {
    const first = run({ latentShape: [16, 3, 4, 6] });
    expect(first.length).toBe(16 * 3 * 4 * 6);
    expect(first.every(Number.isFinite)).toBe(true);
    expect(run({ latentShape: [16, 3, 4, 6] })).toEqual(first);
  });

  it('pads the context with zero rows before the text MLP: an explicit zero row changes nothing (1.6)', () => {
    const inputs = syntheticWanInputs({ config: tiny, seed: SEED, latentShape: [16, 1, 4, 4], contextLength: 5 });
    const withZeroRow = new Float32Array(6 * 32);
    withZeroRow.set(inputs.context);
    expect(run({ latentShape: [16, 1, 4, 4], context: withZeroRow, contextLength: 6 })).toEqual(run({ latentShape: [16, 1, 4, 4] }));
  });

  it('depends on the timestep and the context', () => {
    const base = run({ latentShape: [16, 1, 4, 4] });
    expect(run({ latentShape: [16, 1, 4, 4], timestep: 999 })).not.toEqual(base);
    expect(run({ latentShape: [16, 1, 4, 4], contextLength: 4, context: syntheticWanInputs({ config: tiny, seed: SEED, latentShape: [16, 1, 4, 4], contextLength: 4 }).context })).not.toEqual(base);
  });

  it('reports each stage with its shape', () => {
    const shapes = new Map<string, number>();
    run({ latentShape: [16, 1, 4, 6], onStage: ({ stage, values }) => shapes.set(stage, values.length) });
    expect(Object.fromEntries(shapes)).toEqual({
      patch_embedding: 6 * 256,
      sinusoid: 256,
      time_embedding: 256,
      time_projection: 6 * 256,
      text_embedding: 16 * 256,
      'blocks.0': 6 * 256,
      'blocks.1': 6 * 256,
      head: 6 * 64,
      output: 16 * 4 * 6,
    });
  });

  it.each<[string, Partial<WanForwardCpuOptions>, string]>([
    ['a latent shape of rank 3', { latentShape: [16, 1, 4] }, 'wanForwardCpu: latentShape is [16,1,4]: expected four integers >= 1: [inDim, F, H, W]'],
    ['too few channels', { latentShape: [8, 1, 4, 4] }, 'wanForwardCpu: latentShape[0] is 8: expected inDim = 16 latent channels'],
    ['an odd height', { latentShape: [16, 1, 5, 4] }, 'wanForwardCpu: latentShape[2] is 5: expected a multiple of the patch size 2 (H)'],
    ['a width past the RoPE tables', { latentShape: [16, 1, 2, 2050] }, 'wanForwardCpu: latentShape[3] is 2050: expected at most 1024 patches along W (the reference\'s RoPE tables, 1.3)'],
    ['short latents', { latents: new Float32Array(3) }, 'wanForwardCpu: latents is a Float32Array of 3 values: expected a Float32Array of 512 values, the product of latentShape [16, 2, 4, 4]'],
    ['a NaN timestep', { timestep: Number.NaN }, 'wanForwardCpu: timestep is NaN: expected a finite number (the integer timestep, 0..999)'],
    ['a context longer than textLen', { contextLength: 17 }, 'wanForwardCpu: contextLength is 17: expected an integer in [0, 16] (textLen)'],
    ['a context of the wrong length', { context: new Float32Array(33) }, 'wanForwardCpu: context is a Float32Array of 33 values: expected a Float32Array of 160 values: [contextLength 5, textDim 32]'],
  ])('names the bad input: %s', (_, change, message) => {
    expect(() => wanForwardCpu({ ...options(), ...change })).toThrow(WanInputError);
    expect(() => wanForwardCpu({ ...options(), ...change })).toThrow(message);
  });

  it('refuses weights that are not the config\'s', () => {
    const partial = new Map(weights);
    partial.delete('blocks.1.ffn.2.bias');
    expect(() => run({ weights: partial })).toThrow(WanTensorSetError);
    expect(() => run({ weights: partial })).toThrow('weights: the tensors do not match wan-tiny (original naming): 1 missing (blocks.1.ffn.2.bias)');
  });
});

describe('wanForwardCpuCfg', () => {
  it('runs the prompt and the negative prompt as two forwards', () => {
    const latentShape = [16, 1, 4, 4];
    const { latents, context } = syntheticWanInputs({ config: tiny, seed: SEED, latentShape, contextLength: 5 });
    const negative = syntheticWanInputs({ config: tiny, seed: SEED + 1, latentShape, contextLength: 3 }).context;
    const both = wanForwardCpuCfg({
      weights,
      config: tiny,
      latents,
      latentShape,
      timestep: 500,
      cond: { context, contextLength: 5 },
      uncond: { context: negative, contextLength: 3 },
    });
    expect(both.cond).toEqual(run({ latentShape }));
    expect(both.uncond).toEqual(run({ latentShape, context: negative, contextLength: 3 }));
    expect(both.uncond).not.toEqual(both.cond);
  });
});
