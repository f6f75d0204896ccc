import { spawnSync } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WanConfigMismatchError, WanNamingError, WanTensorSetError, WanTensorShapeError } from '../model/errors';
import { PthError } from '../pth/pth-error';
import { writeSafetensors, type TensorToWrite } from '../safetensors/writer';
import { compareGolden, loadVaeGolden } from './_fixture.test-helpers';
import { WAN_VAE_CONFIG_PRESETS, type WanVaeConfig } from './config';
import { wanVaeDecodeCpu } from './decode';
import { wanVaeTensorSpecs } from './keys';
import { loadWanVaeWeights, wanVaeDiffusersNames } from './load-weights';
import { syntheticWanVaeLatents, syntheticWanVaeWeights } from './synthetic-weights';

/** fixtures/load/vae-micro.pth (make_fixtures.py): the decoder of this config, seed 7, plus two encoder stand-ins. */
const MICRO: WanVaeConfig = { dim: 2, zDim: 16, dimMult: [1, 1, 2, 2], numResBlocks: 0, temperalDownsample: [false, true, true] };
const MICRO_SEED = 7;
const MICRO_PTH = fileURLToPath(new URL('./fixtures/load/vae-micro.pth', import.meta.url));
const SCRIPT = fileURLToPath(new URL('./fixtures/load/make_fixtures.py', import.meta.url));
const tiny = WAN_VAE_CONFIG_PRESETS['wan-vae-tiny'];

/**
 * diffusers' scripts/convert_wan_to_diffusers.py `convert_vae` (huggingface/diffusers @ 58eb52c0), transcribed key for
 * key for the decoder side: the independent source the loader's mapping is checked against (for `wan-vae`, the only
 * layout the script knows).
 */
function convertVaeKey(key: string): string {
  const middle: Record<string, string> = {};
  for (const [from, to] of [['0', '0'], ['2', '1']]) {
    for (const [a, b] of [['residual.0.gamma', 'norm1.gamma'], ['residual.2.bias', 'conv1.bias'], ['residual.2.weight', 'conv1.weight'], ['residual.3.gamma', 'norm2.gamma'], ['residual.6.bias', 'conv2.bias'], ['residual.6.weight', 'conv2.weight']]) {
      middle[`decoder.middle.${from}.${a}`] = `decoder.mid_block.resnets.${to}.${b}`;
    }
  }
  const attention: Record<string, string> = {};
  for (const k of ['norm.gamma', 'to_qkv.weight', 'to_qkv.bias', 'proj.weight', 'proj.bias']) attention[`decoder.middle.1.${k}`] = `decoder.mid_block.attentions.0.${k}`;
  const head: Record<string, string> = { 'decoder.head.0.gamma': 'decoder.norm_out.gamma', 'decoder.head.2.bias': 'decoder.conv_out.bias', 'decoder.head.2.weight': 'decoder.conv_out.weight' };
  const quant: Record<string, string> = { 'conv1.weight': 'quant_conv.weight', 'conv1.bias': 'quant_conv.bias', 'conv2.weight': 'post_quant_conv.weight', 'conv2.bias': 'post_quant_conv.bias' };
  const fixed = middle[key] ?? attention[key] ?? head[key] ?? quant[key];
  if (fixed !== undefined) return fixed;
  if (key === 'decoder.conv1.weight') return 'decoder.conv_in.weight';
  if (key === 'decoder.conv1.bias') return 'decoder.conv_in.bias';
  if (key.startsWith('decoder.upsamples.')) {
    const blockIdx = Number(key.split('.')[2]);
    if (key.includes('residual')) {
      const groups: [number[], number][] = [[[0, 1, 2], 0], [[4, 5, 6], 1], [[8, 9, 10], 2], [[12, 13, 14], 3]];
      const group = groups.find(([ids]) => ids.includes(blockIdx));
      if (group === undefined) return key;
      const [ids, newBlockIdx] = group;
      const resnetIdx = blockIdx - (ids[0] as number);
      const pairs: [string, string][] = [['.residual.0.gamma', 'norm1.gamma'], ['.residual.2.bias', 'conv1.bias'], ['.residual.2.weight', 'conv1.weight'], ['.residual.3.gamma', 'norm2.gamma'], ['.residual.6.bias', 'conv2.bias'], ['.residual.6.weight', 'conv2.weight']];
      const pair = pairs.find(([p]) => key.includes(p));
      return pair === undefined ? key : `decoder.up_blocks.${newBlockIdx}.resnets.${resnetIdx}.${pair[1]}`;
    }
    if (key.includes('.shortcut.')) {
      if (blockIdx === 4) return key.replace('.shortcut.', '.resnets.0.conv_shortcut.').replace('decoder.upsamples.4', 'decoder.up_blocks.1');
      return key.replace('decoder.upsamples.', 'decoder.up_blocks.').replace('.shortcut.', '.conv_shortcut.');
    }
    if (key.includes('.resample.') || key.includes('.time_conv.')) {
      const to: Record<number, string> = { 3: 'decoder.up_blocks.0.upsamplers.0', 7: 'decoder.up_blocks.1.upsamplers.0', 11: 'decoder.up_blocks.2.upsamplers.0' };
      return to[blockIdx] === undefined ? key.replace('decoder.upsamples.', 'decoder.up_blocks.') : key.replace(`decoder.upsamples.${blockIdx}`, to[blockIdx] as string);
    }
    return key.replace('decoder.upsamples.', 'decoder.up_blocks.');
  }
  return key;
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);
function expectSameWeights(actual: ReadonlyMap<string, Float32Array>, expected: ReadonlyMap<string, Float32Array>): void {
  expect([...actual.keys()]).toEqual([...expected.keys()]);
  for (const [name, data] of expected) expect([name, Buffer.compare(Buffer.from(bits(actual.get(name) as Float32Array).buffer), Buffer.from(bits(data).buffer))]).toEqual([name, 0]);
}

const f32 = (data: Float32Array, shape: readonly number[]): TensorToWrite => ({ dtype: 'F32', shape, data });

/** A diffusers `vae/` folder for `config`: the decoder under `names`, the encoder's stand-ins, and config.json. */
async function writeDiffusersVae(options: { dir: string; config: WanVaeConfig; seed: number; rename?: (n: string) => string; edit?: (t: Map<string, TensorToWrite>) => void; json?: Record<string, unknown> | null }): Promise<void> {
  const { dir, config } = options;
  await mkdir(dir, { recursive: true });
  const weights = syntheticWanVaeWeights({ config, seed: options.seed });
  const names = wanVaeDiffusersNames(config);
  const tensors = new Map<string, TensorToWrite>([
    ['encoder.conv_in.weight', f32(new Float32Array(2), [2, 1, 1, 1, 1])],
    ['quant_conv.bias', f32(new Float32Array(32), [32])],
  ]);
  for (const spec of wanVaeTensorSpecs(config)) tensors.set((options.rename ?? ((n) => names.get(n) as string))(spec.name), f32(weights.get(spec.name) as Float32Array, spec.shape));
  options.edit?.(tensors);
  await writeSafetensors({ path: join(dir, 'diffusion_pytorch_model.safetensors'), tensors, metadata: { format: 'pt' } });
  if (options.json !== null) {
    const json = options.json ?? {
      _class_name: 'AutoencoderKLWan',
      _diffusers_version: '0.33.0',
      attn_scales: [],
      base_dim: config.dim,
      dim_mult: config.dimMult,
      dropout: 0.0,
      latents_mean: [-0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921],
      latents_std: [2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.916],
      num_res_blocks: config.numResBlocks,
      temperal_downsample: config.temperalDownsample,
      z_dim: config.zDim,
    };
    await writeFile(join(dir, 'config.json'), JSON.stringify(json));
  }
}

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
  tmp = await mkdtemp(join(tmpdir(), 'wan-vae-load-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('the diffusers names', () => {
  it("equal diffusers' convert_vae for every decoder tensor of wan-vae (108), and are distinct", () => {
    const names = wanVaeDiffusersNames(WAN_VAE_CONFIG_PRESETS['wan-vae']);
    expect(names.size).toBe(108);
    for (const [original, diffusers] of names) expect([original, diffusers]).toEqual([original, convertVaeKey(original)]);
    expect(new Set(names.values()).size).toBe(108);
    // Spot checks against AutoencoderKLWan's modules (autoencoder_kl_wan.py): WanUpBlock.resnets / upsamplers, WanMidBlock.
    expect(names.get('decoder.upsamples.3.time_conv.weight')).toBe('decoder.up_blocks.0.upsamplers.0.time_conv.weight');
    expect(names.get('decoder.upsamples.11.resample.1.weight')).toBe('decoder.up_blocks.2.upsamplers.0.resample.1.weight');
    expect(names.get('decoder.upsamples.4.shortcut.weight')).toBe('decoder.up_blocks.1.resnets.0.conv_shortcut.weight');
    expect(names.get('decoder.upsamples.14.residual.6.bias')).toBe('decoder.up_blocks.3.resnets.2.conv2.bias');
  });
});

describe('loadWanVaeWeights from the original .pth (fixtures/load/vae-micro.pth, made by torch.save)', () => {
  it('reads every decoder tensor bit for bit, skips the encoder half, reports the naming', async () => {
    const loaded = await loadWanVaeWeights({ path: MICRO_PTH, config: MICRO });
    expect(loaded.naming).toBe('original');
    expect(loaded.format).toBe('pth');
    expect(loaded.prefix).toBe('');
    expect(loaded.configFile).toBeNull();
    expect(loaded.ignored).toEqual(['encoder.conv1.weight', 'conv1.bias']);
    expect(loaded.weights.size).toBe(62);
    const synthetic = syntheticWanVaeWeights({ config: MICRO, seed: MICRO_SEED });
    expectSameWeights(loaded.weights, synthetic);
    const latentShape = [16, 2, 2, 3];
    const latents = syntheticWanVaeLatents({ latentShape, seed: MICRO_SEED });
    const a = wanVaeDecodeCpu({ weights: loaded.weights, config: MICRO, latents, latentShape });
    const b = wanVaeDecodeCpu({ weights: synthetic, config: MICRO, latents, latentShape });
    expect(a.shape).toEqual([3, 5, 16, 24]);
    expect(Buffer.compare(Buffer.from(a.frames.buffer), Buffer.from(b.frames.buffer))).toBe(0);
  });

  it('finds Wan2.1_VAE.pth in the original Wan2.1 folder', async () => {
    const dir = join(tmp, 'Wan2.1-T2V-1.3B');
    await mkdir(dir, { recursive: true });
    await copyFile(MICRO_PTH, join(dir, 'Wan2.1_VAE.pth'));
    const loaded = await loadWanVaeWeights({ path: dir, config: MICRO });
    expect(loaded.path).toBe(join(dir, 'Wan2.1_VAE.pth'));
    expectSameWeights(loaded.weights, syntheticWanVaeWeights({ config: MICRO, seed: MICRO_SEED }));
  });

  it('against the default wan-vae config: one WanTensorSetError naming the file', async () => {
    const error = await rejection(loadWanVaeWeights({ path: MICRO_PTH }));
    expect(error).toBeInstanceOf(WanTensorSetError);
    expect(error.message).toContain(`${MICRO_PTH}: the tensors do not match the Wan-VAE decoder (wan-vae) (original naming): `);
    // The micro layout numbers its blocks differently: some of its tensors are not wan-vae's.
    expect((error as WanTensorSetError).unexpected).toContain('decoder.upsamples.2.shortcut.weight');
    expect((error as WanTensorSetError).missing).toContain('decoder.upsamples.14.residual.6.bias');
  });

  it('a file that is not a torch.save zip: PthError passes through', async () => {
    const bad = join(tmp, 'bad.pth');
    await writeFile(bad, 'not a zip at all, just text');
    expect(await rejection(loadWanVaeWeights({ path: bad }))).toBeInstanceOf(PthError);
  });

  it.skipIf(spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status !== 0)(
    'a wan-vae-tiny .pth written by PyTorch now (make_fixtures.py, 2 MB, not committed) decodes to the golden output',
    async () => {
      const golden = loadVaeGolden();
      const out = join(tmp, 'wan-vae-tiny.pth');
      const run = spawnSync('/usr/bin/python3', [SCRIPT, '--vae-config', 'wan-vae-tiny', '--vae-seed', String(golden.seed), '--vae-out', out, '--only-vae'], { encoding: 'utf8' });
      expect(run.status, run.stderr).toBe(0);
      const loaded = await loadWanVaeWeights({ path: out, config: tiny });
      expectSameWeights(loaded.weights, syntheticWanVaeWeights({ config: tiny, seed: golden.seed }));
      const latents = syntheticWanVaeLatents({ latentShape: golden.latentShape, seed: golden.seed });
      const result = wanVaeDecodeCpu({ weights: loaded.weights, config: tiny, latents, latentShape: golden.latentShape });
      expect(compareGolden(result.frames, golden.output).relL2).toBeLessThan(1e-5);
    },
    60_000,
  );
});

describe('loadWanVaeWeights from a diffusers folder (AutoencoderKLWan names, safetensors + config.json)', () => {
  it('loads wan-vae-tiny from the pipeline folder (vae/), config from config.json, and decodes to the golden output', async () => {
    const golden = loadVaeGolden();
    const pipe = join(tmp, 'pipe');
    await writeDiffusersVae({ dir: join(pipe, 'vae'), config: tiny, seed: golden.seed });
    const loaded = await loadWanVaeWeights({ path: pipe });
    expect(loaded.naming).toBe('diffusers');
    expect(loaded.format).toBe('safetensors');
    expect(loaded.path).toBe(join(pipe, 'vae'));
    expect(loaded.configFile).toBe(join(pipe, 'vae', 'config.json'));
    expect(loaded.config).toEqual(tiny);
    expect(loaded.ignored).toEqual(['encoder.conv_in.weight', 'quant_conv.bias']);
    expect(loaded.storedNames.get('decoder.upsamples.3.time_conv.weight')).toBe('decoder.up_blocks.0.upsamplers.0.time_conv.weight');
    expectSameWeights(loaded.weights, syntheticWanVaeWeights({ config: tiny, seed: golden.seed }));
    const latents = syntheticWanVaeLatents({ latentShape: golden.latentShape, seed: golden.seed });
    const result = wanVaeDecodeCpu({ weights: loaded.weights, config: tiny, latents, latentShape: golden.latentShape });
    const diff = compareGolden(result.frames, golden.output);
    expect(diff.relL2).toBeLessThan(1e-5);
    expect(diff.sumSquaresError).toBeLessThan(1e-5);
    // The vae/ folder itself and its safetensors file load the same; a config passed in must agree with config.json.
    expect((await loadWanVaeWeights({ path: join(pipe, 'vae'), config: tiny })).naming).toBe('diffusers');
    const file = await loadWanVaeWeights({ path: join(pipe, 'vae', 'diffusion_pytorch_model.safetensors') });
    expect(file.config).toEqual(tiny);
    const mismatch = await rejection(loadWanVaeWeights({ path: pipe, config: MICRO }));
    expect(mismatch).toBeInstanceOf(WanConfigMismatchError);
    expect(mismatch.message).toBe(`${join(pipe, 'vae', 'config.json')}: does not match the config passed in: dim is 8, expected 2; dimMult is [1,2,4,4], expected [1,1,2,2]; numResBlocks is 2, expected 0`);
  });

  it('original names in safetensors under a wrapper prefix: detected and stripped', async () => {
    const dir = join(tmp, 'wrapped');
    await writeDiffusersVae({ dir, config: MICRO, seed: 3, rename: (n) => `state_dict.${n}`, json: null });
    const loaded = await loadWanVaeWeights({ path: dir, config: MICRO });
    expect([loaded.naming, loaded.prefix]).toEqual(['original', 'state_dict.']);
    expectSameWeights(loaded.weights, syntheticWanVaeWeights({ config: MICRO, seed: 3 }));
  });

  it('a missing and an extra tensor: one WanTensorSetError with the stored names', async () => {
    const dir = join(tmp, 'set');
    await writeDiffusersVae({
      dir,
      config: MICRO,
      seed: 3,
      edit: (t) => {
        t.delete('decoder.conv_out.bias');
        t.set('decoder.up_blocks.9.resnets.0.norm1.gamma', f32(new Float32Array(2), [2, 1, 1, 1]));
      },
    });
    const error = await rejection(loadWanVaeWeights({ path: dir }));
    expect(error).toBeInstanceOf(WanTensorSetError);
    expect(error.message).toBe(
      `${dir}: the tensors do not match the Wan-VAE decoder (dim 2) (diffusers naming): 1 missing (decoder.conv_out.bias); 1 unexpected (decoder.up_blocks.9.resnets.0.norm1.gamma)`,
    );
  });

  it('a wrong shape: WanTensorShapeError naming the file and the tensor as stored, before any data is read', async () => {
    const dir = join(tmp, 'shape');
    await writeDiffusersVae({ dir, config: MICRO, seed: 3, edit: (t) => t.set('decoder.conv_in.bias', f32(new Float32Array(5), [5])) });
    const error = await rejection(loadWanVaeWeights({ path: dir }));
    expect(error).toBeInstanceOf(WanTensorShapeError);
    expect(error.message).toBe(`${join(dir, 'diffusion_pytorch_model.safetensors')}: tensor "decoder.conv_in.bias" has shape [5], expected [4] (the Wan-VAE decoder (dim 2))`);
  });

  it('mixed namings and unknown names: WanNamingError', async () => {
    const dir = join(tmp, 'mixed');
    await writeDiffusersVae({ dir, config: MICRO, seed: 3, edit: (t) => t.set('decoder.head.2.bias', t.get('decoder.conv_out.bias') as TensorToWrite) });
    const error = await rejection(loadWanVaeWeights({ path: dir }));
    expect(error).toBeInstanceOf(WanNamingError);
    expect(error.message).toMatch(/the names mix the diffusers naming \(62 tensors\) and the original naming \(1 tensors\)/);
    const other = join(tmp, 'other');
    await writeDiffusersVae({ dir: other, config: MICRO, seed: 3, rename: (n) => `x${n}`, json: null });
    expect(await rejection(loadWanVaeWeights({ path: other, config: MICRO }))).toBeInstanceOf(WanNamingError);
  });
});
