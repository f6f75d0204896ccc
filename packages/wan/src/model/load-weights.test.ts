import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeSafetensors } from '../safetensors/writer';
import { WAN_CONFIG_PRESETS } from './config';
import { wanConfigToJson } from './config-json';
import { wanForwardCpu } from './cpu-forward';
import { WanConfigError, WanConfigMismatchError, WanTensorDtypeError, WanTensorSetError, WanTensorShapeError } from './errors';
import { wanTensorSpecs } from './keys';
import { loadWanWeights } from './load-weights';
import { WAN_CHECKPOINT_FILE, type SyntheticWanCheckpoint, writeSyntheticWanCheckpoint } from './synthetic-checkpoint';
import { syntheticWanInputs } from './synthetic-inputs';
import type { WanWeights } from './types';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];
const SEED = 1234;

let dir: string;
let original: SyntheticWanCheckpoint;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'wan-load-'));
  original = await writeSyntheticWanCheckpoint({ directory: join(dir, 'original'), config: tiny, seed: SEED });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Byte-for-byte equality of two weight maps (same names in the same order, same float32 bits). */
function expectSameWeights(actual: WanWeights, expected: WanWeights): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, data] of expected) {
    const got = actual.get(name) as Float32Array;
    expect(Buffer.from(got.buffer, got.byteOffset, got.byteLength).equals(Buffer.from(data.buffer, data.byteOffset, data.byteLength)), name).toBe(true);
  }
}

/** Writes `config.json` and one F32 file holding `tensors` (name -> [shape, data]) into a new folder. */
async function writeFolder(name: string, tensors: Map<string, { dtype: 'F32' | 'I32'; shape: readonly number[]; data: Float32Array | Int32Array }>): Promise<string> {
  const folder = join(dir, name);
  await mkdir(folder, { recursive: true });
  await writeFile(join(folder, 'config.json'), wanConfigToJson({ config: tiny }));
  await writeSafetensors({ path: join(folder, WAN_CHECKPOINT_FILE), tensors });
  return folder;
}

function tensorsOf(weights: WanWeights): Map<string, { dtype: 'F32'; shape: readonly number[]; data: Float32Array }> {
  return new Map(wanTensorSpecs(tiny).map((s) => [s.name, { dtype: 'F32' as const, shape: s.shape, data: weights.get(s.name) as Float32Array }]));
}

describe('writeSyntheticWanCheckpoint', () => {
  it('writes config.json (original fields, text_dim 32) and one F32 safetensors file with the original names', async () => {
    expect(original.checkpointFile).toBe(join(dir, 'original', 'diffusion_pytorch_model.safetensors'));
    const config = JSON.parse(await readFile(original.configFile, 'utf8')) as Record<string, unknown>;
    expect(config).toMatchObject({ _class_name: 'WanModel', dim: 256, num_heads: 2, text_dim: 32, text_len: 16 });
    const bytes = await readFile(original.checkpointFile);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as Record<string, { dtype: string; shape: number[] }>;
    expect(header.__metadata__).toEqual({ format: 'pt' });
    expect(header['blocks.1.norm3.weight']).toMatchObject({ dtype: 'F32', shape: [256] });
    expect(Object.keys(header).length).toBe(1 + 69);
    expect(bytes.length).toBe(8 + headerLength + 2_218_816 * 4);
  });
});

describe('loadWanWeights', () => {
  it('loads the synthetic folder back: config from config.json, the same float32 bits, original naming', async () => {
    const loaded = await loadWanWeights({ path: original.directory });
    expect(loaded.config).toEqual(tiny);
    expect(loaded).toMatchObject({ naming: 'original', configNaming: 'original', configFile: original.configFile });
    expectSameWeights(loaded.weights, original.weights);
  });

  it.each(['diffusers', 'comfyui'] as const)('loads %s names to the same weights', async (naming) => {
    const written = await writeSyntheticWanCheckpoint({ directory: join(dir, naming), config: tiny, seed: SEED, naming });
    const loaded = await loadWanWeights({ path: written.checkpointFile });
    expect(loaded.naming).toBe(naming);
    expect(loaded.configNaming).toBe(naming === 'diffusers' ? 'diffusers' : 'original');
    expectSameWeights(loaded.weights, original.weights);
  });

  it('loads a sharded checkpoint through its index, with the config passed in and no config.json', async () => {
    const folder = join(dir, 'sharded');
    await mkdir(folder);
    const all = [...tensorsOf(original.weights)];
    const shards = [all.slice(0, 30), all.slice(30)];
    const weightMap: Record<string, string> = {};
    for (const [s, shard] of shards.entries()) {
      const file = `diffusion_pytorch_model-0000${s + 1}-of-00002.safetensors`;
      await writeSafetensors({ path: join(folder, file), tensors: new Map(shard) });
      for (const [name] of shard) weightMap[name] = file;
    }
    const index = join(folder, 'diffusion_pytorch_model.safetensors.index.json');
    await writeFile(index, JSON.stringify({ metadata: { total_size: 2_218_816 * 4 }, weight_map: weightMap }));
    const loaded = await loadWanWeights({ path: index, config: tiny });
    expect(loaded).toMatchObject({ naming: 'original', configFile: null, configNaming: null });
    expectSameWeights(loaded.weights, original.weights);
  });

  it('gives the same forward as the weights in memory', async () => {
    const { weights } = await loadWanWeights({ path: original.directory });
    const latentShape = [16, 1, 4, 4];
    const inputs = syntheticWanInputs({ config: tiny, seed: SEED, latentShape, contextLength: 4 });
    const call = (w: WanWeights): Float32Array =>
      wanForwardCpu({ weights: w, config: tiny, latents: inputs.latents, latentShape, timestep: 250, context: inputs.context, contextLength: 4 });
    expect(call(weights)).toEqual(call(original.weights));
  });

  it('names the file and the tensor of the wrong shape before reading any data', async () => {
    const tensors = tensorsOf(original.weights);
    tensors.set('blocks.0.self_attn.q.weight', { dtype: 'F32', shape: [256, 128], data: new Float32Array(256 * 128) });
    const folder = await writeFolder('bad-shape', tensors);
    const error = await loadWanWeights({ path: folder }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WanTensorShapeError);
    expect((error as Error).message).toBe(
      `${join(folder, WAN_CHECKPOINT_FILE)}: tensor "blocks.0.self_attn.q.weight" has shape [256, 128], expected [256, 256] ([dim, dim] of wan-tiny)`,
    );
  });

  it('lists missing and unexpected tensors, naming the checkpoint', async () => {
    const tensors = tensorsOf(original.weights);
    tensors.delete('head.head.bias');
    tensors.set('blocks.0.cross_attn.k_img.weight', { dtype: 'F32', shape: [256, 256], data: new Float32Array(256 * 256) });
    const folder = await writeFolder('bad-set', tensors);
    await expect(loadWanWeights({ path: folder })).rejects.toThrow(
      new WanTensorSetError({ source: folder, what: 'wan-tiny (original naming)', missing: ['head.head.bias'], unexpected: ['blocks.0.cross_attn.k_img.weight'] }),
    );
    await expect(loadWanWeights({ path: folder })).rejects.toThrow(
      `${folder}: the tensors do not match wan-tiny (original naming): 1 missing (head.head.bias); 1 unexpected (blocks.0.cross_attn.k_img.weight)`,
    );
  });

  it('refuses integer weights', async () => {
    const tensors: Map<string, { dtype: 'F32' | 'I32'; shape: readonly number[]; data: Float32Array | Int32Array }> = tensorsOf(original.weights);
    tensors.set('head.head.bias', { dtype: 'I32', shape: [64], data: new Int32Array(64) });
    const folder = await writeFolder('bad-dtype', tensors);
    const error = await loadWanWeights({ path: folder }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WanTensorDtypeError);
    expect((error as Error).message).toBe(
      `${join(folder, WAN_CHECKPOINT_FILE)}: tensor "head.head.bias" has dtype I32: a weight must be a float (F64, F32, F16, BF16, F8_E4M3 or F8_E5M2)`,
    );
  });

  it('checks a config passed in against the config.json next to the checkpoint', async () => {
    const other = { ...tiny, textLen: 8 };
    await expect(loadWanWeights({ path: original.directory, config: other })).rejects.toThrow(WanConfigMismatchError);
    await expect(loadWanWeights({ path: original.directory, config: other })).rejects.toThrow(
      `${original.configFile}: does not match the config passed in: textLen is 16, expected 8`,
    );
  });

  it('asks for a config when there is neither one passed in nor a config.json', async () => {
    const folder = join(dir, 'no-config');
    await mkdir(folder);
    await writeSafetensors({ path: join(folder, 'model.safetensors'), tensors: tensorsOf(original.weights) });
    await expect(loadWanWeights({ path: folder })).rejects.toThrow(WanConfigError);
    await expect(loadWanWeights({ path: folder })).rejects.toThrow(`${folder}: holds no config.json (nor transformer/config.json): pass the config, or add the file`);
    expectSameWeights((await loadWanWeights({ path: folder, config: tiny })).weights, original.weights);
  });
});
