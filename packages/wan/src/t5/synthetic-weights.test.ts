import { describe, expect, it } from 'vitest';
import { WanInputError } from '../model/errors';
import { UMT5_CONFIG_PRESETS } from './config';
import { checkUmt5Weights } from './check-weights';
import { umt5TensorSpecs } from './keys';
import { syntheticUmt5Tensor, syntheticUmt5Weights } from './synthetic-weights';

const tiny = UMT5_CONFIG_PRESETS['umt5-tiny'];

describe('syntheticUmt5Weights', () => {
  it('makes every tensor of the config, in state-dict order, and passes the weight check', () => {
    const weights = syntheticUmt5Weights({ config: tiny, seed: 1 });
    expect([...weights.keys()]).toEqual(umt5TensorSpecs(tiny).map((s) => s.name));
    expect(() => checkUmt5Weights({ config: tiny, weights })).not.toThrow();
  });

  it('follows the scaling rules: norms 1 + 0.1 v, embeddings and bias tables v, Linears v / sqrt(in)', () => {
    const weights = syntheticUmt5Weights({ config: tiny, seed: 1 });
    const range = (name: string): [number, number] => {
      const data = weights.get(name) as Float32Array;
      return [Math.min(...data), Math.max(...data)];
    };
    const [normMin, normMax] = range('blocks.1.norm2.weight');
    expect(normMin).toBeGreaterThanOrEqual(0.9);
    expect(normMax).toBeLessThan(1.1);
    expect(range('token_embedding.weight')[1]).toBeGreaterThan(0.99);
    expect(range('blocks.0.pos_embedding.embedding.weight')[0]).toBeLessThan(-0.5);
    const bound = 1 / Math.sqrt(tiny.dimFfn);
    const [fc2Min, fc2Max] = range('blocks.0.ffn.fc2.weight');
    expect(fc2Min).toBeGreaterThanOrEqual(-bound);
    expect(fc2Max).toBeLessThan(bound);
    expect(fc2Max).toBeGreaterThan(0.9 * bound);
  });

  it('is deterministic per (name, seed) and differs between names and seeds', () => {
    const a = syntheticUmt5Tensor({ name: 'blocks.0.attn.q.weight', shape: [64, 32], seed: 5 });
    expect(syntheticUmt5Tensor({ name: 'blocks.0.attn.q.weight', shape: [64, 32], seed: 5 })).toEqual(a);
    expect(syntheticUmt5Tensor({ name: 'blocks.0.attn.k.weight', shape: [64, 32], seed: 5 })).not.toEqual(a);
    expect(syntheticUmt5Tensor({ name: 'blocks.0.attn.q.weight', shape: [64, 32], seed: 6 })).not.toEqual(a);
  });

  it('refuses a negative seed', () => {
    expect(() => syntheticUmt5Weights({ config: tiny, seed: -1 })).toThrow(WanInputError);
  });
});
