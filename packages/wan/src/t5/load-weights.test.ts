import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WanConfigError, WanConfigMismatchError, WanTensorSetError, WanTensorShapeError } from '../model/errors';
import { type TensorToWrite, writeSafetensors } from '../safetensors/writer';
import { roundToBfloat16 } from './_bfloat16';
import { UMT5_CONFIG_PRESETS, type Umt5Config } from './config';
import { umt5EncodeCpu } from './encoder';
import { umt5TensorSpecs } from './keys';
import { loadUmt5Weights, umt5DiffusersNames } from './load-weights';
import { syntheticUmt5Weights } from './synthetic-weights';

const tiny = UMT5_CONFIG_PRESETS['umt5-tiny'];
/** fixtures/load/umt5-tiny-bf16.pth (vae/fixtures/load/make_fixtures.py): umt5-tiny's synthetic weights, seed 1234, as bf16. */
const PTH = fileURLToPath(new URL('./fixtures/load/umt5-tiny-bf16.pth', import.meta.url));
const SEED = 1234;

interface GoldenCase {
  name: string;
  length: number;
  tokenIds: number[];
  float32: { values: number[] };
  bfloat16: { values: number[] };
}
const golden = JSON.parse(readFileSync(new URL('./fixtures/umt5-golden.json', import.meta.url), 'utf8')) as { seed: number; cases: GoldenCase[] };

function relativeL2(actual: Float32Array, expected: readonly number[]): number {
  let error = 0;
  let norm = 0;
  expected.forEach((e, i) => {
    error += ((actual[i] as number) - e) ** 2;
    norm += e * e;
  });
  return Math.sqrt(error / norm);
}

/**
 * transformers' UMT5EncoderModel state-dict names for umT5 (modeling_umt5.py: `shared`, `encoder.block.{i}.layer.0`
 * = UMT5LayerSelfAttention {SelfAttention.{q,k,v,o,relative_attention_bias}, layer_norm}, `layer.1` = UMT5LayerFF
 * {DenseReluDense.{wi_0,wi_1,wo}, layer_norm}, `encoder.final_layer_norm`) paired with Wan's T5Encoder names through
 * the equivalences of wan21-architecture.md 6.2 (gate.0<->wi_0, fc1<->wi_1, fc2<->wo, attn<->layer.0.SelfAttention,
 * pos_embedding<->relative_attention_bias, token_embedding<->shared): written out by hand, independently of the loader.
 */
function transcribedPairs(layers: number): [string, string][] {
  const pairs: [string, string][] = [['token_embedding.weight', 'shared.weight']];
  for (let i = 0; i < layers; i++) {
    const b = `encoder.block.${i}`;
    pairs.push(
      [`blocks.${i}.norm1.weight`, `${b}.layer.0.layer_norm.weight`],
      [`blocks.${i}.attn.q.weight`, `${b}.layer.0.SelfAttention.q.weight`],
      [`blocks.${i}.attn.k.weight`, `${b}.layer.0.SelfAttention.k.weight`],
      [`blocks.${i}.attn.v.weight`, `${b}.layer.0.SelfAttention.v.weight`],
      [`blocks.${i}.attn.o.weight`, `${b}.layer.0.SelfAttention.o.weight`],
      [`blocks.${i}.norm2.weight`, `${b}.layer.1.layer_norm.weight`],
      [`blocks.${i}.ffn.gate.0.weight`, `${b}.layer.1.DenseReluDense.wi_0.weight`],
      [`blocks.${i}.ffn.fc1.weight`, `${b}.layer.1.DenseReluDense.wi_1.weight`],
      [`blocks.${i}.ffn.fc2.weight`, `${b}.layer.1.DenseReluDense.wo.weight`],
      [`blocks.${i}.pos_embedding.embedding.weight`, `${b}.layer.0.SelfAttention.relative_attention_bias.weight`],
    );
  }
  pairs.push(['norm.weight', 'encoder.final_layer_norm.weight']);
  return pairs;
}

const bits = (a: Float32Array): Buffer => Buffer.from(a.buffer, a.byteOffset, a.byteLength);
function expectSameWeights(actual: ReadonlyMap<string, Float32Array>, expected: ReadonlyMap<string, Float32Array>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, data] of expected) expect([name, Buffer.compare(bits(actual.get(name) as Float32Array), bits(data))]).toEqual([name, 0]);
}

function transformersConfig(config: Umt5Config): Record<string, unknown> {
  return {
    architectures: ['UMT5EncoderModel'],
    d_ff: config.dimFfn,
    d_kv: config.dimAttn / config.numHeads,
    d_model: config.dim,
    dense_act_fn: 'gelu_new',
    feed_forward_proj: 'gated-gelu',
    is_gated_act: true,
    layer_norm_epsilon: config.eps,
    model_type: 'umt5',
    num_heads: config.numHeads,
    num_layers: config.numLayers,
    relative_attention_max_distance: config.maxDistance,
    relative_attention_num_buckets: config.numBuckets,
    torch_dtype: 'float32',
    vocab_size: config.vocabSize,
  };
}

/** A diffusers `text_encoder/` folder: transformers names (F32 or BF16), config.json. */
async function writeTextEncoder(options: { dir: string; seed: number; dtype?: 'F32' | 'BF16'; edit?: (t: Map<string, TensorToWrite>) => void; json?: Record<string, unknown> }): Promise<void> {
  await mkdir(options.dir, { recursive: true });
  const weights = syntheticUmt5Weights({ config: tiny, seed: options.seed });
  const names = umt5DiffusersNames(tiny);
  const tensors = new Map<string, TensorToWrite>();
  for (const spec of umt5TensorSpecs(tiny)) {
    const data = weights.get(spec.name) as Float32Array;
    const stored: TensorToWrite =
      options.dtype === 'BF16'
        ? { dtype: 'BF16', shape: spec.shape, data: Uint16Array.from(data, (v) => new Uint32Array(Float32Array.of(roundToBfloat16(v)).buffer)[0] as number >>> 16) }
        : { dtype: 'F32', shape: spec.shape, data };
    tensors.set(names.get(spec.name) as string, stored);
  }
  options.edit?.(tensors);
  await writeSafetensors({ path: join(options.dir, 'model.safetensors'), tensors, metadata: { format: 'pt' } });
  await writeFile(join(options.dir, 'config.json'), JSON.stringify(options.json ?? transformersConfig(tiny)));
}

const bf16Weights = (config: Umt5Config, seed: number): Map<string, Float32Array> =>
  new Map([...syntheticUmt5Weights({ config, seed })].map(([n, d]) => [n, Float32Array.from(d, roundToBfloat16)]));

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'wan-umt5-load-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the transformers (diffusers text_encoder/) names', () => {
  it('equal the hand-written UMT5EncoderModel names for umt5-xxl (242) and umt5-tiny', () => {
    for (const config of [UMT5_CONFIG_PRESETS['umt5-xxl'], tiny]) {
      const names = umt5DiffusersNames(config);
      expect([...names]).toEqual(transcribedPairs(config.numLayers));
    }
    expect(umt5DiffusersNames(UMT5_CONFIG_PRESETS['umt5-xxl']).size).toBe(242);
  });
});

describe('loadUmt5Weights from the original .pth (bf16, made by torch.save)', () => {
  it('reads every tensor as the bf16-rounded synthetic weights, bit for bit, and encodes like the oracle', async () => {
    expect(golden.seed).toBe(SEED);
    const loaded = await loadUmt5Weights({ path: PTH, config: tiny });
    expect([loaded.naming, loaded.format, loaded.prefix, loaded.configFile]).toEqual(['original', 'pth', '', null]);
    expect(loaded.ignored).toEqual([]);
    expectSameWeights(loaded.weights, bf16Weights(tiny, SEED));
    // The reference's bf16 run rounds the weights to bf16 anyway: the golden bf16 output is reproduced.
    for (const c of golden.cases) {
      const out = umt5EncodeCpu({ weights: loaded.weights, config: tiny, tokenIds: Int32Array.from(c.tokenIds), length: c.length, precision: 'bfloat16' });
      expect([c.name, relativeL2(out, c.bfloat16.values) < 1e-3]).toEqual([c.name, true]);
    }
  });

  it('finds models_t5_umt5-xxl-enc-bf16.pth in the Wan2.1 folder; the default config (umt5-xxl) is a WanTensorSetError naming the file', async () => {
    const dir = join(tmp, 'Wan2.1-T2V-1.3B');
    await mkdir(dir, { recursive: true });
    const file = join(dir, 'models_t5_umt5-xxl-enc-bf16.pth');
    await copyFile(PTH, file);
    expect((await loadUmt5Weights({ path: dir, config: tiny })).path).toBe(file);
    const error = await rejection(loadUmt5Weights({ path: dir }));
    expect(error).toBeInstanceOf(WanTensorSetError);
    expect(error.message).toMatch(new RegExp(`^${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: the tensors do not match umt5-xxl \\(original naming\\): 220 missing \\(blocks\\.2\\.norm1\\.weight,`));
  });
});

describe('loadUmt5Weights from a diffusers text_encoder/ folder (UMT5EncoderModel)', () => {
  it('F32: config from config.json, weights bit for bit, encodes to the golden float32 output', async () => {
    const pipe = join(tmp, 'pipe');
    await writeTextEncoder({ dir: join(pipe, 'text_encoder'), seed: SEED });
    const loaded = await loadUmt5Weights({ path: pipe });
    expect([loaded.naming, loaded.format, loaded.configFile]).toEqual(['diffusers', 'safetensors', join(pipe, 'text_encoder', 'config.json')]);
    expect(loaded.config).toEqual({ ...tiny, textLen: 512 });
    expectSameWeights(loaded.weights, syntheticUmt5Weights({ config: tiny, seed: SEED }));
    for (const c of golden.cases) {
      const out = umt5EncodeCpu({ weights: loaded.weights, config: tiny, tokenIds: Int32Array.from(c.tokenIds), length: c.length });
      expect([c.name, relativeL2(out, c.float32.values) < 1e-6]).toEqual([c.name, true]);
    }
    const withConfig = await loadUmt5Weights({ path: join(pipe, 'text_encoder'), config: tiny });
    expect(withConfig.config).toBe(tiny);
    const mismatch = await rejection(loadUmt5Weights({ path: pipe, config: { ...tiny, numHeads: 8 } }));
    expect(mismatch).toBeInstanceOf(WanConfigMismatchError);
    expect(mismatch.message).toBe(`${join(pipe, 'text_encoder', 'config.json')}: does not match the config passed in: numHeads is 4, expected 8`);
  });

  it('BF16 with only the tied encoder.embed_tokens.weight: read in place of shared.weight; with both, the copy is skipped', async () => {
    const dir = join(tmp, 'tied');
    await writeTextEncoder({
      dir,
      seed: SEED,
      dtype: 'BF16',
      edit: (t) => {
        t.set('encoder.embed_tokens.weight', t.get('shared.weight') as TensorToWrite);
        t.delete('shared.weight');
      },
    });
    const loaded = await loadUmt5Weights({ path: dir, config: tiny });
    expect(loaded.storedNames.get('token_embedding.weight')).toBe('encoder.embed_tokens.weight');
    expectSameWeights(loaded.weights, bf16Weights(tiny, SEED));
    const both = join(tmp, 'both');
    await writeTextEncoder({ dir: both, seed: SEED, edit: (t) => t.set('encoder.embed_tokens.weight', t.get('shared.weight') as TensorToWrite) });
    const loadedBoth = await loadUmt5Weights({ path: both, config: tiny });
    expect(loadedBoth.ignored).toEqual(['encoder.embed_tokens.weight']);
    expect(loadedBoth.storedNames.get('token_embedding.weight')).toBe('shared.weight');
  });

  it('a transposed weight: WanTensorShapeError naming the file, the stored name and the config terms', async () => {
    const dir = join(tmp, 'shape');
    await writeTextEncoder({
      dir,
      seed: SEED,
      edit: (t) => t.set('encoder.block.1.layer.1.DenseReluDense.wo.weight', { dtype: 'F32', shape: [80, 32], data: new Float32Array(2560) }),
    });
    const error = await rejection(loadUmt5Weights({ path: dir, config: tiny }));
    expect(error).toBeInstanceOf(WanTensorShapeError);
    expect(error.message).toBe(
      `${join(dir, 'model.safetensors')}: tensor "encoder.block.1.layer.1.DenseReluDense.wo.weight" has shape [80, 32], expected [32, 80] ([dim, dimFfn] of umt5-tiny)`,
    );
  });

  it('an extra tensor and a non-gated feed-forward config: WanTensorSetError, WanConfigError', async () => {
    const dir = join(tmp, 'extra');
    await writeTextEncoder({ dir, seed: SEED, edit: (t) => t.set('lm_head.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) }) });
    const error = await rejection(loadUmt5Weights({ path: dir, config: tiny }));
    expect(error).toBeInstanceOf(WanTensorSetError);
    expect(error.message).toBe(`${dir}: the tensors do not match umt5-tiny (diffusers naming): 1 unexpected (lm_head.weight)`);
    const relu = join(tmp, 'relu');
    await writeTextEncoder({ dir: relu, seed: SEED, json: { ...transformersConfig(tiny), feed_forward_proj: 'relu' } });
    expect(await rejection(loadUmt5Weights({ path: relu }))).toBeInstanceOf(WanConfigError);
  });
});
