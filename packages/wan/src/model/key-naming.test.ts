import { describe, expect, it } from 'vitest';
import { WAN_CONFIG_PRESETS } from './config';
import { WanNamingError } from './errors';
import { COMFYUI_PREFIX, WAN_NAMINGS, detectWanNaming, wanNameFromOriginal, wanNameToOriginal } from './key-naming';
import { wanTensorSpecs } from './keys';

const names14b = wanTensorSpecs(WAN_CONFIG_PRESETS['wan-14b']).map((s) => s.name);
const renamed = (naming: 'diffusers' | 'comfyui'): string[] => names14b.map((name) => wanNameFromOriginal({ name, naming }) as string);

describe('wanNameFromOriginal / wanNameToOriginal', () => {
  // wan21-architecture.md 3.3, row by row.
  it.each([
    ['patch_embedding.weight', 'patch_embedding.weight'],
    ['text_embedding.0.weight', 'condition_embedder.text_embedder.linear_1.weight'],
    ['text_embedding.2.bias', 'condition_embedder.text_embedder.linear_2.bias'],
    ['time_embedding.0.bias', 'condition_embedder.time_embedder.linear_1.bias'],
    ['time_embedding.2.weight', 'condition_embedder.time_embedder.linear_2.weight'],
    ['time_projection.1.weight', 'condition_embedder.time_proj.weight'],
    ['head.modulation', 'scale_shift_table'],
    ['head.head.weight', 'proj_out.weight'],
    ['head.head.bias', 'proj_out.bias'],
    ['blocks.7.modulation', 'blocks.7.scale_shift_table'],
    ['blocks.7.self_attn.q.weight', 'blocks.7.attn1.to_q.weight'],
    ['blocks.7.self_attn.k.bias', 'blocks.7.attn1.to_k.bias'],
    ['blocks.7.self_attn.v.weight', 'blocks.7.attn1.to_v.weight'],
    ['blocks.7.self_attn.o.weight', 'blocks.7.attn1.to_out.0.weight'],
    ['blocks.7.self_attn.norm_q.weight', 'blocks.7.attn1.norm_q.weight'],
    ['blocks.7.self_attn.norm_k.weight', 'blocks.7.attn1.norm_k.weight'],
    ['blocks.7.cross_attn.o.bias', 'blocks.7.attn2.to_out.0.bias'],
    ['blocks.7.cross_attn.norm_k.weight', 'blocks.7.attn2.norm_k.weight'],
    ['blocks.7.norm3.weight', 'blocks.7.norm2.weight'], // the affine pre-cross-attention norm: the swap
    ['blocks.7.norm3.bias', 'blocks.7.norm2.bias'],
    ['blocks.7.norm2.weight', 'blocks.7.norm3.weight'], // (never a tensor: the pre-FFN norm has no parameters)
    ['blocks.7.ffn.0.weight', 'blocks.7.ffn.net.0.proj.weight'],
    ['blocks.7.ffn.2.bias', 'blocks.7.ffn.net.2.bias'],
    ['blocks.7.cross_attn.k_img.weight', 'blocks.7.attn2.add_k_proj.weight'],
    ['blocks.7.cross_attn.norm_k_img.weight', 'blocks.7.attn2.norm_added_k.weight'],
    ['img_emb.proj.1.weight', 'condition_embedder.image_embedder.ff.net.0.proj.weight'],
  ])('maps %s to the diffusers %s and back', (original, diffusers) => {
    expect(wanNameFromOriginal({ name: original, naming: 'diffusers' })).toBe(diffusers);
    expect(wanNameToOriginal({ name: diffusers, naming: 'diffusers' })).toBe(original);
  });

  it('round-trips every 14B tensor in every naming, to distinct names', () => {
    for (const naming of WAN_NAMINGS) {
      const there = names14b.map((name) => wanNameFromOriginal({ name, naming }) as string);
      expect(new Set(there).size).toBe(names14b.length);
      expect(there.map((name) => wanNameToOriginal({ name, naming }))).toEqual(names14b);
    }
    expect(renamed('comfyui')[0]).toBe('model.diffusion_model.patch_embedding.weight');
  });

  it('gives null for names no rule covers', () => {
    expect(wanNameToOriginal({ name: 'blocks.0.attn1.to_x.weight', naming: 'diffusers' })).toBeNull();
    expect(wanNameToOriginal({ name: 'blocks.01.attn1.to_q.weight', naming: 'diffusers' })).toBeNull();
    expect(wanNameToOriginal({ name: 'foo', naming: 'diffusers' })).toBeNull();
    expect(wanNameToOriginal({ name: 'patch_embedding.weight', naming: 'comfyui' })).toBeNull();
    expect(wanNameFromOriginal({ name: 'blocks.0.foo.weight', naming: 'diffusers' })).toBeNull();
    expect(wanNameToOriginal({ name: 'anything', naming: 'original' })).toBe('anything');
  });
});

describe('detectWanNaming', () => {
  // 1,095 names less patch_embedding.{weight,bias} and the 40 blocks' norm3 (original) / norm2 (diffusers) pair, which both schemes use.
  it.each([
    ['original', names14b, 'text_embedding.0.weight', 1013],
    ['diffusers', renamed('diffusers'), 'condition_embedder.text_embedder.linear_1.weight', 1013],
    ['comfyui', renamed('comfyui'), `${COMFYUI_PREFIX}text_embedding.0.weight`, 1013],
  ] as const)('detects %s names', (naming, names, evidence, recognized) => {
    expect(detectWanNaming({ names, source: 's' })).toEqual({ naming, evidence, recognized });
  });

  it.each<[string[], string]>([
    [
      ['head.modulation', 'blocks.0.attn1.to_q.weight', 'scale_shift_table'],
      's: the tensor names mix original names (1, e.g. "head.modulation") and diffusers names (2, e.g. "blocks.0.attn1.to_q.weight"): expected one naming scheme',
    ],
    [
      [`${COMFYUI_PREFIX}head.modulation`, 'head.head.weight'],
      's: 1 of 2 tensor names have the ComfyUI prefix "model.diffusion_model." and the others not (e.g. "head.head.weight"): expected all or none',
    ],
    [
      [`${COMFYUI_PREFIX}proj_out.weight`],
      's: the ComfyUI prefix "model.diffusion_model." stands before diffusers names (e.g. "model.diffusion_model.proj_out.weight"): ComfyUI uses the original names',
    ],
    [['a', 'b', 'c', 'd'], 's: none of the 4 tensor names ("a", "b", "c", ...) is a Wan2.1 DiT tensor under the original, diffusers or ComfyUI naming'],
    [['patch_embedding.weight', 'blocks.0.norm2.weight'], 's: none of the 2 tensor names ("patch_embedding.weight", "blocks.0.norm2.weight") is a Wan2.1 DiT tensor under the original, diffusers or ComfyUI naming'],
    [[], 's: none of the 0 tensor names is a Wan2.1 DiT tensor under the original, diffusers or ComfyUI naming'],
  ])('refuses %j', (names, message) => {
    expect(() => detectWanNaming({ names, source: 's' })).toThrow(new WanNamingError({ source: 's', rule: message.slice(3) }));
    expect(() => detectWanNaming({ names, source: 's' })).toThrow(message);
  });
});
