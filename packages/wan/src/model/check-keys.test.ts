import { describe, expect, it } from 'vitest';
import { checkWanTensors, checkWanWeights, type WanTensorShapeInfo } from './check-keys';
import { WAN_CONFIG_PRESETS } from './config';
import { WanTensorSetError, WanTensorShapeError } from './errors';
import { type WanNaming, wanNameFromOriginal } from './key-naming';
import { wanTensorSpecs } from './keys';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];
const specs = wanTensorSpecs(tiny);

function header(naming: WanNaming): Map<string, WanTensorShapeInfo> {
  return new Map(specs.map((s) => [wanNameFromOriginal({ name: s.name, naming }) as string, { shape: s.shape, file: 'shard-1.safetensors' }]));
}

function caught(run: () => unknown): Error {
  try {
    run();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
}

describe('checkWanTensors', () => {
  it.each(['original', 'diffusers', 'comfyui'] as const)('accepts the %s names of wan-tiny and maps each original name to the stored one', (naming) => {
    const checked = checkWanTensors({ config: tiny, tensors: header(naming), source: 'ckpt' });
    expect(checked.naming).toBe(naming);
    expect([...checked.names.keys()]).toEqual(specs.map((s) => s.name));
    expect(checked.names.get('blocks.1.norm3.bias')).toBe(wanNameFromOriginal({ name: 'blocks.1.norm3.bias', naming }));
  });

  it('lists missing and unexpected tensors, counts and first names, as the checkpoint spells them', () => {
    const tensors = header('diffusers');
    for (const name of ['blocks.1.ffn.net.0.proj.weight', 'blocks.1.ffn.net.0.proj.bias', 'proj_out.bias']) tensors.delete(name);
    tensors.set('blocks.2.scale_shift_table', { shape: [1, 6, 256] });
    const error = caught(() => checkWanTensors({ config: tiny, tensors, source: 'ckpt' }));
    expect(error).toBeInstanceOf(WanTensorSetError);
    expect(error.message).toBe(
      'ckpt: the tensors do not match wan-tiny (diffusers naming): 3 missing (blocks.1.ffn.net.0.proj.weight, blocks.1.ffn.net.0.proj.bias, proj_out.bias); 1 unexpected (blocks.2.scale_shift_table)',
    );
    expect((error as WanTensorSetError).code).toBe('FPSATTN_WAN_MODEL_TENSOR_SET_MISMATCH');
  });

  it('cuts long lists after five names', () => {
    const tensors = header('original');
    for (const s of specs.filter((t) => t.name.startsWith('blocks.1.'))) tensors.delete(s.name);
    const error = caught(() => checkWanTensors({ config: tiny, tensors, source: 'ckpt', naming: 'original' })) as WanTensorSetError;
    expect(error.message).toBe(
      'ckpt: the tensors do not match wan-tiny (original naming): 27 missing (blocks.1.modulation, blocks.1.self_attn.q.weight, blocks.1.self_attn.q.bias, blocks.1.self_attn.k.weight, blocks.1.self_attn.k.bias, ...)',
    );
    expect(error.missing.length).toBe(27);
    expect(error.unexpected).toEqual([]);
  });

  it('names the first tensor of the wrong shape, its file, both shapes and the rule, then the others', () => {
    const tensors = header('original');
    tensors.set('blocks.0.ffn.0.weight', { shape: [512, 128], file: 'shard-2.safetensors' });
    tensors.set('head.head.weight', { shape: [64, 256, 1] });
    tensors.set('blocks.1.modulation', { shape: [6, 256] });
    const error = caught(() => checkWanTensors({ config: tiny, tensors, source: 'ckpt' }));
    expect(error).toBeInstanceOf(WanTensorShapeError);
    expect(error.message).toBe(
      'shard-2.safetensors: tensor "blocks.0.ffn.0.weight" has shape [512, 128], expected [512, 256] ([ffnDim, dim] of wan-tiny); 2 more tensors of the wrong shape (blocks.1.modulation, head.head.weight)',
    );
    expect(error).toMatchObject({ code: 'FPSATTN_WAN_MODEL_SHAPE_MISMATCH', tensor: 'blocks.0.ffn.0.weight', expected: [512, 256], actual: [512, 128] });
  });

  it('checks the shapes a config implies (wan-1.3b against a 14B header)', () => {
    const big = new Map(wanTensorSpecs(WAN_CONFIG_PRESETS['wan-14b']).map((s) => [s.name, { shape: s.shape }]));
    const error = caught(() => checkWanTensors({ config: WAN_CONFIG_PRESETS['wan-1.3b'], tensors: big, source: 'model.safetensors' }));
    expect(error.message).toBe(
      'model.safetensors: the tensors do not match wan-1.3b (original naming): 270 unexpected (blocks.30.modulation, blocks.30.self_attn.q.weight, blocks.30.self_attn.q.bias, blocks.30.self_attn.k.weight, blocks.30.self_attn.k.bias, ...)',
    );
  });
});

describe('checkWanWeights', () => {
  const weights = (): Map<string, Float32Array> => new Map(specs.map((s) => [s.name, new Float32Array(s.shape.reduce((a, b) => a * b, 1))]));

  it('accepts a full set and names a missing, extra or short array', () => {
    expect(() => checkWanWeights({ config: tiny, weights: weights() })).not.toThrow();
    const missing = weights();
    missing.delete('head.head.bias');
    missing.set('extra', new Float32Array(1));
    expect(() => checkWanWeights({ config: tiny, weights: missing })).toThrow(
      'weights: the tensors do not match wan-tiny (original naming): 1 missing (head.head.bias); 1 unexpected (extra)',
    );
    const short = weights();
    short.set('blocks.0.norm3.bias', new Float32Array(255));
    expect(() => checkWanWeights({ config: tiny, weights: short })).toThrow(
      'weights: tensor "blocks.0.norm3.bias" has shape [255], expected [256] (a Float32Array of 256 values, [dim] of wan-tiny)',
    );
  });
});
