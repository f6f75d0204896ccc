/**
 * Deterministic synthetic weights for any umT5 config, bit for bit those of the PyTorch oracle
 * (packages/wan/oracle/umt5_encoder.py), from the DiT's generator (../model/synthetic-weights.ts): for a tensor `name`
 * and seed s, v_i in [-1, 1) is the stream `syntheticUniforms({ name, count, seed })`, and the value is float32 of
 * ```
 *   1 + 0.1 v_i      1-D tensors (norm1, norm2 and the final norm: RMSNorm weights)
 *   v_i              token_embedding.weight and each blocks.{i}.pos_embedding.embedding.weight (bias table)
 *   v_i / sqrt(in)   every Linear weight [out, in] (fan-in)
 * ```
 */
import { shapeSize } from '../model/_shape-size';
import { type SyntheticSeed, syntheticUniforms } from '../model/synthetic-weights';
import { type Umt5Config, validateUmt5Config } from './config';
import { umt5TensorSpecs } from './keys';
import type { Umt5Weights } from './types';

/** The synthetic values of one encoder tensor (the rules of the file's comment). */
export function syntheticUmt5Tensor(options: { name: string; shape: readonly number[]; seed: SyntheticSeed }): Float32Array {
  const { name, shape } = options;
  const v = syntheticUniforms({ name, count: shapeSize(shape), seed: options.seed });
  const out = new Float32Array(v.length);
  if (shape.length === 1) {
    for (let i = 0; i < v.length; i++) out[i] = 1 + 0.1 * (v[i] as number);
  } else if (name === 'token_embedding.weight' || name.endsWith('pos_embedding.embedding.weight')) {
    out.set(v);
  } else {
    const divisor = Math.sqrt(shape[1] as number);
    for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) / divisor;
  }
  return out;
}

/** Every weight of `config` (keys.ts, state-dict order), synthetic for `seed`. */
export function syntheticUmt5Weights(options: { config: Umt5Config; seed: SyntheticSeed }): Umt5Weights {
  const config = validateUmt5Config({ config: options.config });
  const weights = new Map<string, Float32Array>();
  for (const { name, shape } of umt5TensorSpecs(config)) weights.set(name, syntheticUmt5Tensor({ name, shape, seed: options.seed }));
  return weights;
}
