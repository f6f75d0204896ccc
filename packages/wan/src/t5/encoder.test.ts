import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import { WAN_CONFIG_PRESETS } from '../model/config';
import { wanForwardCpu } from '../model/cpu-forward';
import { WanInputError, WanTensorSetError, WanTensorShapeError } from '../model/errors';
import { syntheticWanInputs } from '../model/synthetic-inputs';
import { syntheticWanWeights } from '../model/synthetic-weights';
import { UMT5_CONFIG_PRESETS, type Umt5Config } from './config';
import { type Umt5EncodeCpuOptions, type Umt5Stage, umt5EncodeCpu } from './encoder';
import { padContext } from './pad-context';
import { syntheticUmt5Weights } from './synthetic-weights';
import type { Umt5Floats, Umt5Precision, Umt5Weights } from './types';

const tiny = UMT5_CONFIG_PRESETS['umt5-tiny'];
const SEED = 1234;

/** fixtures/umt5-golden*.json: the PyTorch oracle (packages/wan/oracle/umt5_encoder.py) in float64, float32, bfloat16. */
interface Golden {
  config: Umt5Config;
  seed: number;
  cases: {
    name: string;
    length: number;
    /** Padded to config.textLen with id 0, as the tokenizer does. */
    tokenIds: number[];
    float64: { shape: number[]; values: number[] };
    float32: { shape: number[]; values: number[] };
    /** The reference's numerics: bf16 weights and activations, fp32 accumulation, softmax and norm statistics. */
    bfloat16: { shape: number[]; values: number[] };
    /** First 16 values of the float64 run's `embedding` and `blocks.{i}` (real rows). */
    stages: Record<string, number[]>;
  }[];
  generatorSamples: Record<string, number[]>;
}

const FIXTURES = new URL('./fixtures/', import.meta.url);
const MAIN_GOLDEN = 'umt5-golden.json';
const goldenFiles = existsSync(FIXTURES) ? readdirSync(FIXTURES).filter((f) => /^umt5-golden.*\.json$/.test(f)).sort() : [];
const readGolden = (file: string): Golden => JSON.parse(readFileSync(new URL(file, FIXTURES), 'utf8')) as Golden;

function relativeL2(actual: Umt5Floats, expected: readonly number[]): number {
  expect(actual.length).toBe(expected.length);
  let error = 0;
  let norm = 0;
  expected.forEach((e, i) => {
    error += ((actual[i] as number) - e) ** 2;
    norm += e * e;
  });
  return Math.sqrt(error / norm);
}

let weights: Umt5Weights;
beforeAll(() => {
  weights = syntheticUmt5Weights({ config: tiny, seed: SEED });
});

const options = (overrides: Partial<Umt5EncodeCpuOptions> = {}): Umt5EncodeCpuOptions => ({
  weights,
  config: tiny,
  tokenIds: Int32Array.from([5, 17, 300, 1, 0, 0]),
  length: 4,
  ...overrides,
});

describe('umt5EncodeCpu against the PyTorch oracle', () => {
  it.skipIf(!goldenFiles.includes(MAIN_GOLDEN))(`finds ${MAIN_GOLDEN} (skipped only when the file is absent)`, () => {
    expect(readGolden(MAIN_GOLDEN).cases.length).toBeGreaterThan(0);
  });

  describe.each(goldenFiles)('%s', (file) => {
    const golden = readGolden(file);
    const config: Umt5Config = golden.config;
    let goldenWeights: Umt5Weights;
    beforeAll(() => {
      goldenWeights = syntheticUmt5Weights({ config, seed: golden.seed });
    });

    it('uses the generator the oracle uses (its samples, bit for bit)', () => {
      expect({ ...config, textLen: tiny.textLen }).toEqual(tiny);
      for (const [name, samples] of Object.entries(golden.generatorSamples)) {
        expect([name, Array.from((goldenWeights.get(name) as Float32Array).subarray(0, samples.length))]).toEqual([name, samples]);
      }
    });

    describe.each(golden.cases)('case $name ($length real tokens)', (c) => {
      const run = (precision: Umt5Precision, onStage?: (s: Umt5Stage) => void): Umt5Floats =>
        umt5EncodeCpu({ weights: goldenWeights, config, tokenIds: Int32Array.from(c.tokenIds), length: c.length, precision, onStage });

      it('float64: within 1e-12 relative L2 of the float64 oracle, every stage on the way too', () => {
        const stages = new Map<string, Umt5Floats>();
        const out = run('float64', (s) => stages.set(s.stage, s.values));
        expect(out).toBeInstanceOf(Float64Array);
        expect(c.float64.shape).toEqual([c.length, config.dim]);
        expect(relativeL2(out, c.float64.values)).toBeLessThan(1e-12);
        for (const [stage, values] of Object.entries(c.stages)) {
          expect([stage, relativeL2((stages.get(stage) as Umt5Floats).subarray(0, values.length), values) < 1e-12]).toEqual([stage, true]);
        }
      });

      it('float32: within 1e-6 of the float32 oracle and of the float64 oracle', () => {
        const out = run('float32');
        expect(out).toBeInstanceOf(Float32Array);
        expect(relativeL2(out, c.float32.values)).toBeLessThan(1e-6);
        expect(relativeL2(out, c.float64.values)).toBeLessThan(1e-6);
      });

      it("bfloat16: the oracle's bf16 run to within 1e-3 (nearly every value bit for bit), its error against float64 within 5%", () => {
        const out = run('bfloat16');
        expect(out).toBeInstanceOf(Float32Array);
        expect(relativeL2(out, c.bfloat16.values)).toBeLessThan(1e-3);
        const identical = c.bfloat16.values.filter((v, i) => Math.fround(v) === out[i]).length;
        expect(identical / out.length).toBeGreaterThan(0.95);
        const oracleError = relativeL2(Float32Array.from(c.bfloat16.values), c.float64.values);
        expect(oracleError).toBeGreaterThan(1e-3); // bf16 really is coarser than float32
        expect(Math.abs(relativeL2(out, c.float64.values) - oracleError)).toBeLessThan(0.05 * oracleError);
      });
    });
  });
});

describe('umt5EncodeCpu', () => {
  it('returns [length, dim] and ignores the ids after length', () => {
    const a = umt5EncodeCpu(options());
    const b = umt5EncodeCpu(options({ tokenIds: Int32Array.from([5, 17, 300, 1, 99999, -3, 7]) }));
    expect(a).toHaveLength(4 * tiny.dim);
    expect(b).toEqual(a);
  });

  it("produces a valid wan-tiny context (dim = textDim, textLen the same) that the DiT's CPU forward takes", () => {
    const wanTiny = WAN_CONFIG_PRESETS['wan-tiny'];
    expect(tiny.dim).toBe(wanTiny.textDim);
    expect(tiny.textLen).toBe(wanTiny.textLen);
    const context = umt5EncodeCpu({ ...options(), precision: 'float32' });
    const latentShape = [16, 1, 2, 2];
    const latents = syntheticWanInputs({ config: wanTiny, seed: SEED, latentShape, contextLength: 1 }).latents;
    const dit = { weights: syntheticWanWeights({ config: wanTiny, seed: SEED }), config: wanTiny, latents, latentShape, timestep: 500 };
    const velocity = wanForwardCpu({ ...dit, context, contextLength: 4 });
    expect(velocity.every(Number.isFinite)).toBe(true);
    // The DiT's own zero padding and padContext's are the same context.
    expect(wanForwardCpu({ ...dit, context: padContext({ context, length: 4, dim: tiny.dim, textLen: tiny.textLen }), contextLength: 16 })).toEqual(velocity);
  });

  it('reports each stage: the embedding, every block, the output', () => {
    const stages: string[] = [];
    const out = umt5EncodeCpu(options({ onStage: (s) => stages.push(s.stage) }));
    expect(stages).toEqual(['embedding', 'blocks.0', 'blocks.1', 'output']);
    expect(out).toHaveLength(4 * tiny.dim);
  });

  it.each([
    ['a token id past the vocabulary', { tokenIds: Int32Array.from([5, 512, 1]), length: 3 }, /umt5EncodeCpu: tokenIds\[1\] is 512: expected a token id in \[0, 512\) \(vocabSize\)/],
    ['a negative token id', { tokenIds: Int32Array.from([-1, 1]), length: 2 }, /tokenIds\[0\] is -1/],
    ['more tokens than textLen', { tokenIds: new Int32Array(20), length: 17 }, /length is 17: expected at most textLen = 16 tokens/],
    ['more tokens than ids', { tokenIds: Int32Array.from([5, 1]), length: 3 }, /length is 3: expected at most tokenIds.length = 2/],
    ['no tokens', { length: 0 }, /length is 0: expected an integer >= 1/],
    ['a fractional length', { length: 2.5 }, /length is 2.5/],
    ['ids in a plain array', { tokenIds: [5, 1] as unknown as Int32Array, length: 2 }, /tokenIds is \[5,1\]: expected an Int32Array/],
    ['an unknown precision', { precision: 'float16' as 'float32' }, /precision is "float16": expected one of 'float32', 'float64', 'bfloat16'/],
  ])('refuses %s with a WanInputError', (_, overrides, message) => {
    expect(() => umt5EncodeCpu(options(overrides))).toThrow(WanInputError);
    expect(() => umt5EncodeCpu(options(overrides))).toThrow(message);
  });

  it('refuses weights with missing or extra tensors, naming them', () => {
    const partial = new Map(weights);
    partial.delete('blocks.1.ffn.fc2.weight');
    partial.set('blocks.0.attn.q.bias', new Float32Array(64));
    const call = (): unknown => umt5EncodeCpu(options({ weights: partial }));
    expect(call).toThrow(WanTensorSetError);
    expect(call).toThrow(/umT5 weights: the tensors do not match umt5-tiny \(Wan T5Encoder naming\): 1 missing \(blocks\.1\.ffn\.fc2\.weight\); 1 unexpected \(blocks\.0\.attn\.q\.bias\)/);
  });

  it('refuses a weight of the wrong size, naming it and its expected shape', () => {
    const wrong = new Map(weights);
    wrong.set('blocks.0.attn.o.weight', new Float32Array(64 * 64));
    const call = (): unknown => umt5EncodeCpu(options({ weights: wrong }));
    expect(call).toThrow(WanTensorShapeError);
    expect(call).toThrow(/tensor "blocks\.0\.attn\.o\.weight" has shape \[4096\], expected \[32, 64\] \(a Float32Array of 2048 values, \[dim, dimAttn\] of umt5-tiny\)/);
  });

  it('refuses an invalid config, naming the field', () => {
    expect(() => umt5EncodeCpu(options({ config: { ...tiny, numHeads: 3 } }))).toThrow(/numHeads is 3: dimAttn 64 must be a multiple of numHeads/);
  });
});
