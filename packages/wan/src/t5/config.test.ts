import { describe, expect, it } from 'vitest';
import { shapeSize } from '../model/_shape-size';
import { WanConfigError } from '../model/errors';
import { UMT5_CONFIG_PRESETS, UMT5_PRESET_NAMES, describeUmt5Config, umt5HeadDim, validateUmt5Config } from './config';
import { umt5TensorSpecs } from './keys';

const xxl = UMT5_CONFIG_PRESETS['umt5-xxl'];

describe('umT5 configs and keys', () => {
  it('has 242 tensors and 5,680,910,336 parameters in umT5-XXL (wan21-architecture.md 6.2)', () => {
    const specs = umt5TensorSpecs(xxl);
    expect(specs).toHaveLength(242);
    expect(specs.reduce((n, s) => n + shapeSize(s.shape), 0)).toBe(5_680_910_336);
    expect(umt5HeadDim(xxl)).toBe(64);
  });

  it('names the tensors as the reference state dict does', () => {
    const names = umt5TensorSpecs(xxl).map((s) => s.name);
    expect(names.slice(0, 11)).toEqual([
      'token_embedding.weight',
      'blocks.0.norm1.weight',
      'blocks.0.attn.q.weight',
      'blocks.0.attn.k.weight',
      'blocks.0.attn.v.weight',
      'blocks.0.attn.o.weight',
      'blocks.0.norm2.weight',
      'blocks.0.ffn.gate.0.weight',
      'blocks.0.ffn.fc1.weight',
      'blocks.0.ffn.fc2.weight',
      'blocks.0.pos_embedding.embedding.weight',
    ]);
    expect(names.at(-1)).toBe('norm.weight');
    const shapeOf = (name: string): readonly number[] | undefined => umt5TensorSpecs(xxl).find((s) => s.name === name)?.shape;
    expect(shapeOf('token_embedding.weight')).toEqual([256384, 4096]);
    expect(shapeOf('blocks.23.ffn.fc2.weight')).toEqual([4096, 10240]);
    expect(shapeOf('blocks.23.pos_embedding.embedding.weight')).toEqual([32, 64]);
  });

  it('validates every preset and names presets in messages', () => {
    for (const name of UMT5_PRESET_NAMES) {
      expect(validateUmt5Config({ config: UMT5_CONFIG_PRESETS[name] })).toBe(UMT5_CONFIG_PRESETS[name]);
      expect(describeUmt5Config(UMT5_CONFIG_PRESETS[name])).toBe(name);
    }
    expect(describeUmt5Config({ ...xxl, numLayers: 3 })).toBe('the umT5 config (dim 4096, 3 layers)');
  });

  it.each([
    [{ dim: 0 }, /dim is 0: expected an integer >= 1/],
    [{ numHeads: 5 }, /numHeads is 5: dimAttn 4096 must be a multiple of numHeads/],
    [{ numBuckets: 31 }, /numBuckets is 31: expected an even number >= 4/],
    [{ maxDistance: 8 }, /maxDistance is 8: expected more than numBuckets \/ 4 = 8/],
    [{ eps: -1 }, /eps is -1: expected a finite number > 0/],
  ])('refuses %j', (override, message) => {
    expect(() => validateUmt5Config({ config: { ...xxl, ...override } })).toThrow(WanConfigError);
    expect(() => validateUmt5Config({ config: { ...xxl, ...override } })).toThrow(message);
  });
});
