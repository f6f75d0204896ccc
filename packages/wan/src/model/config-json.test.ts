import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WAN_CONFIG_PRESETS } from './config';
import { checkWanConfig, parseWanConfigJson, readWanConfig, wanConfigToJson } from './config-json';
import { WanConfigError, WanConfigMismatchError } from './errors';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];

/** The 1.3B config.json as wan21-architecture.md 2 gives it (249 bytes with Python's `1e-06`). */
const ORIGINAL_1_3B = `{
  "_class_name": "WanModel",
  "_diffusers_version": "0.30.0",
  "dim": 1536,
  "eps": 1e-06,
  "ffn_dim": 8960,
  "freq_dim": 256,
  "in_dim": 16,
  "model_type": "t2v",
  "num_heads": 12,
  "num_layers": 30,
  "out_dim": 16,
  "text_len": 512
}
`;

/** A diffusers transformer/config.json of the 14B model (the conversion script's values, section 2). */
const DIFFUSERS_14B = {
  _class_name: 'WanTransformer3DModel',
  _diffusers_version: '0.33.0.dev0',
  added_kv_proj_dim: null,
  attention_head_dim: 128,
  cross_attn_norm: true,
  eps: 1e-6,
  ffn_dim: 13824,
  freq_dim: 256,
  image_dim: null,
  in_channels: 16,
  num_attention_heads: 40,
  num_layers: 40,
  out_channels: 16,
  patch_size: [1, 2, 2],
  pos_embed_seq_len: null,
  qk_norm: 'rms_norm_across_heads',
  rope_max_seq_len: 1024,
  text_dim: 4096,
};

function caught(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('parseWanConfigJson', () => {
  it('reads the original config.json of Wan2.1-T2V-1.3B', () => {
    expect(new TextEncoder().encode(ORIGINAL_1_3B).length).toBe(249);
    expect(parseWanConfigJson({ json: JSON.parse(ORIGINAL_1_3B), source: 'c.json' })).toEqual({ config: WAN_CONFIG_PRESETS['wan-1.3b'], naming: 'original' });
  });

  it('reads a diffusers config.json (dim = heads x head dim)', () => {
    expect(parseWanConfigJson({ json: DIFFUSERS_14B, source: 'c.json' })).toEqual({ config: WAN_CONFIG_PRESETS['wan-14b'], naming: 'diffusers' });
  });

  it('detects the naming from the fields when _class_name is absent, and defaults what the released files leave out', () => {
    expect(parseWanConfigJson({ json: { dim: 1536, ffn_dim: 8960, num_heads: 12, num_layers: 30 }, source: 'c' }).config).toEqual(WAN_CONFIG_PRESETS['wan-1.3b']);
    const { _class_name: _, ...rest } = DIFFUSERS_14B;
    expect(parseWanConfigJson({ json: rest, source: 'c' }).naming).toBe('diffusers');
  });

  it('reads text_dim, text_len and patch_size when present (the tiny synthetic configs)', () => {
    for (const naming of ['original', 'diffusers'] as const) {
      expect(parseWanConfigJson({ json: JSON.parse(wanConfigToJson({ config: tiny, naming })), source: 'c' })).toEqual({ config: tiny, naming });
    }
  });

  it.each<[unknown, string]>([
    [[1], 'c.json: holds an array, expected a JSON object'],
    [null, 'c.json: holds null, expected a JSON object'],
    [{ _class_name: 'UNet3DConditionModel' }, 'c.json: _class_name is "UNet3DConditionModel": expected "WanModel" (original) or "WanTransformer3DModel" (diffusers): not a Wan2.1 DiT config'],
    [{ hidden_size: 1 }, 'c.json: holds neither num_heads (original naming) nor num_attention_heads (diffusers naming): not a Wan2.1 DiT config'],
    [{ dim: 1, num_attention_heads: 1 }, 'c.json: holds both original (dim, num_heads) and diffusers (num_attention_heads, attention_head_dim) fields: use one naming'],
    [{ dim: 1536, num_heads: 12, num_layers: 30 }, 'c.json: ffn_dim is missing: expected an integer >= 1 (the field is required)'],
    [{ dim: '1536', ffn_dim: 8960, num_heads: 12, num_layers: 30 }, 'c.json: dim is "1536": expected an integer >= 1'],
    [{ dim: 1536, ffn_dim: 8960, num_heads: 7, num_layers: 30 }, 'c.json: num_heads is 7: dim 1536 must be a multiple of num_heads'],
    [{ dim: 1536, ffn_dim: 8960, num_heads: 12, num_layers: 30, model_type: 'i2v' }, 'c.json: model_type is "i2v": expected "t2v": only the Wan2.1 T2V DiT with its fixed choices is implemented'],
    [{ dim: 1536, ffn_dim: 8960, num_heads: 12, num_layers: 30, eps: -1 }, 'c.json: eps is -1: expected a finite number > 0'],
    [{ dim: 1536, ffn_dim: 8960, num_heads: 12, num_layers: 30, patch_size: [1, 2] }, 'c.json: patch_size is [1,2]: expected three integers >= 1 (t, h, w)'],
    [{ ...DIFFUSERS_14B, image_dim: 1280 }, 'c.json: image_dim is 1280: expected null: only the Wan2.1 T2V DiT with its fixed choices is implemented'],
    [{ ...DIFFUSERS_14B, qk_norm: 'rms_norm' }, 'c.json: qk_norm is "rms_norm": expected "rms_norm_across_heads": only the Wan2.1 T2V DiT with its fixed choices is implemented'],
    [{ ...DIFFUSERS_14B, attention_head_dim: 127 }, 'c.json: num_attention_heads is 40: the head dimension 5080 / 40 = 127 must be even (RoPE rotates pairs)'],
  ])('rejects %j', (json, message) => {
    const error = caught(() => parseWanConfigJson({ json, source: 'c.json' }));
    expect(error).toBeInstanceOf(WanConfigError);
    expect(error.message).toBe(message);
  });
});

describe('wanConfigToJson', () => {
  it('writes the released 1.3B fields, sorted, and leaves text_dim and patch_size out at their defaults', () => {
    expect(wanConfigToJson({ config: WAN_CONFIG_PRESETS['wan-1.3b'] })).toBe(ORIGINAL_1_3B.replace('1e-06', '0.000001'));
  });

  it('round-trips every preset in both namings', () => {
    for (const config of Object.values(WAN_CONFIG_PRESETS)) {
      for (const naming of ['original', 'diffusers'] as const) {
        expect(parseWanConfigJson({ json: JSON.parse(wanConfigToJson({ config, naming })), source: 'c' })).toEqual({ config, naming });
      }
    }
  });
});

describe('checkWanConfig', () => {
  it('returns the config when it agrees and lists every differing field when not', () => {
    expect(checkWanConfig({ expected: tiny, actual: { ...tiny }, source: 'c', expectedName: 'wan-tiny' })).toEqual(tiny);
    const error = caught(() =>
      checkWanConfig({ expected: WAN_CONFIG_PRESETS['wan-1.3b'], actual: WAN_CONFIG_PRESETS['wan-14b'], source: 'ckpt/config.json', expectedName: 'wan-1.3b' }),
    );
    expect(error).toBeInstanceOf(WanConfigMismatchError);
    expect(error.message).toBe(
      'ckpt/config.json: does not match wan-1.3b: dim is 5120, expected 1536; ffnDim is 13824, expected 8960; numHeads is 40, expected 12; numLayers is 40, expected 30',
    );
    expect((error as WanConfigMismatchError).mismatches[0]).toEqual({ field: 'dim', expected: 1536, actual: 5120 });
    expect(caught(() => checkWanConfig({ expected: tiny, actual: { ...tiny, patchSize: [1, 1, 1] }, source: 'c', expectedName: 'wan-tiny' })).message).toBe(
      'c: does not match wan-tiny: patchSize is [1,1,1], expected [1,2,2]',
    );
  });
});

describe('readWanConfig', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'wan-config-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads <dir>/config.json, <dir>/transformer/config.json or the file itself', async () => {
    await mkdir(join(dir, 'a'));
    await writeFile(join(dir, 'a', 'config.json'), ORIGINAL_1_3B);
    await mkdir(join(dir, 'b', 'transformer'), { recursive: true });
    await writeFile(join(dir, 'b', 'transformer', 'config.json'), JSON.stringify(DIFFUSERS_14B));
    expect(await readWanConfig({ path: join(dir, 'a') })).toEqual({ config: WAN_CONFIG_PRESETS['wan-1.3b'], naming: 'original', file: join(dir, 'a', 'config.json') });
    expect(await readWanConfig({ path: join(dir, 'b') })).toEqual({
      config: WAN_CONFIG_PRESETS['wan-14b'],
      naming: 'diffusers',
      file: join(dir, 'b', 'transformer', 'config.json'),
    });
    expect((await readWanConfig({ path: join(dir, 'a', 'config.json') })).naming).toBe('original');
  });

  it('names the directory without a config.json and the file that is not JSON', async () => {
    await mkdir(join(dir, 'empty'));
    await expect(readWanConfig({ path: join(dir, 'empty') })).rejects.toThrow(
      `${join(dir, 'empty')}: holds no config.json (nor transformer/config.json): pass the config, or add the file`,
    );
    await writeFile(join(dir, 'bad.json'), '{ "dim": ');
    await expect(readWanConfig({ path: join(dir, 'bad.json') })).rejects.toThrow(new RegExp(`^${join(dir, 'bad.json')}: is not valid JSON \\(`));
    await expect(readWanConfig({ path: join(dir, 'absent') })).rejects.toThrow(WanConfigError);
  });
});
