import { describe, expect, it } from 'vitest';
import { WAN_CONFIG_PRESETS } from './config';
import { wanTensorSpecs } from './keys';

const count = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

describe('wanTensorSpecs', () => {
  // wan21-architecture.md 3.2: 15 global tensors + 27 per block; 825 / 1,418,996,800 (1.3B), 1,095 / 14,288,491,584 (14B).
  // wan-tiny counted by hand: per block 6d + 2 (4 (d^2 + d) + 2d) + 2d + (fd + f) + (df + d) = 792,320 at d 256, f 512.
  it.each([
    ['wan-1.3b', 825, 1_418_996_800, 46_440_704],
    ['wan-14b', 1095, 14_288_491_584, 351_394_304],
    ['wan-tiny', 69, 2_218_816, 792_320],
  ] as const)('lists %s: %i tensors, %i parameters, %i per block', (name, tensors, parameters, perBlock) => {
    const config = WAN_CONFIG_PRESETS[name];
    const specs = wanTensorSpecs(config);
    expect(specs.length).toBe(tensors);
    expect(new Set(specs.map((s) => s.name)).size).toBe(tensors);
    expect(specs.reduce((sum, s) => sum + count(s.shape), 0)).toBe(parameters);
    const block0 = specs.filter((s) => s.name.startsWith('blocks.0.'));
    expect(block0.length).toBe(27);
    expect(block0.reduce((sum, s) => sum + count(s.shape), 0)).toBe(perBlock);
    expect(specs.filter((s) => !s.name.startsWith('blocks.')).length).toBe(15);
  });

  it('gives the shapes of section 3.2 (1.3B)', () => {
    const shapes = Object.fromEntries(wanTensorSpecs(WAN_CONFIG_PRESETS['wan-1.3b']).map((s) => [s.name, s.shape]));
    expect(shapes).toMatchObject({
      'patch_embedding.weight': [1536, 16, 1, 2, 2],
      'patch_embedding.bias': [1536],
      'text_embedding.0.weight': [1536, 4096],
      'text_embedding.2.weight': [1536, 1536],
      'time_embedding.0.weight': [1536, 256],
      'time_embedding.2.bias': [1536],
      'time_projection.1.weight': [9216, 1536],
      'time_projection.1.bias': [9216],
      'head.modulation': [1, 2, 1536],
      'head.head.weight': [64, 1536],
      'head.head.bias': [64],
      'blocks.29.modulation': [1, 6, 1536],
      'blocks.29.self_attn.o.weight': [1536, 1536],
      'blocks.29.self_attn.norm_k.weight': [1536],
      'blocks.29.norm3.weight': [1536],
      'blocks.29.norm3.bias': [1536],
      'blocks.29.cross_attn.v.bias': [1536],
      'blocks.29.ffn.0.weight': [8960, 1536],
      'blocks.29.ffn.0.bias': [8960],
      'blocks.29.ffn.2.weight': [1536, 8960],
    });
    expect(Object.keys(shapes).filter((n) => /norm1|norm2|head\.norm|freqs/.test(n))).toEqual([]);
  });

  it('lists the block tensors in state-dict order (the block\'s own modulation first)', () => {
    const names = wanTensorSpecs(WAN_CONFIG_PRESETS['wan-tiny']).map((s) => s.name);
    expect(names.slice(0, 13)).toEqual([
      'patch_embedding.weight',
      'patch_embedding.bias',
      'text_embedding.0.weight',
      'text_embedding.0.bias',
      'text_embedding.2.weight',
      'text_embedding.2.bias',
      'time_embedding.0.weight',
      'time_embedding.0.bias',
      'time_embedding.2.weight',
      'time_embedding.2.bias',
      'time_projection.1.weight',
      'time_projection.1.bias',
      'blocks.0.modulation',
    ]);
    expect(names.slice(-3)).toEqual(['head.modulation', 'head.head.weight', 'head.head.bias']);
    expect(names.slice(13, 39)).toEqual([
      ...['q', 'k', 'v', 'o'].flatMap((p) => [`blocks.0.self_attn.${p}.weight`, `blocks.0.self_attn.${p}.bias`]),
      'blocks.0.self_attn.norm_q.weight',
      'blocks.0.self_attn.norm_k.weight',
      'blocks.0.norm3.weight',
      'blocks.0.norm3.bias',
      ...['q', 'k', 'v', 'o'].flatMap((p) => [`blocks.0.cross_attn.${p}.weight`, `blocks.0.cross_attn.${p}.bias`]),
      'blocks.0.cross_attn.norm_q.weight',
      'blocks.0.cross_attn.norm_k.weight',
      'blocks.0.ffn.0.weight',
      'blocks.0.ffn.0.bias',
      'blocks.0.ffn.2.weight',
      'blocks.0.ffn.2.bias',
    ]);
  });
});
