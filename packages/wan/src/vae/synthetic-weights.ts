/**
 * Deterministic synthetic Wan-VAE decoder weights and latents, bit for bit those of the PyTorch oracle
 * (oracle/vae_decoder.py), from the DiT's generator (model/synthetic-weights.ts: splitmix64 keyed by fnv1a64 of the
 * tensor name and the seed, v_i uniform in [-1, 1)). For a tensor `name`:
 * ```
 *   1 + 0.1 v_i                 names ending `gamma` (RMS norm scales)
 *   0.02 v_i                    other 1-D tensors (biases)
 *   v_i / sqrt(prod(shape[1:])) weights (the fan-in of the convolution)
 * ```
 * rounded to float32. Latents (`vae.latents`, [zDim, F, H, W]) are 2 v_i, uniform in [-2, 2).
 */
import { shapeSize } from '../model/_shape-size';
import { WanInputError } from '../model/errors';
import { type SyntheticSeed, syntheticUniforms } from '../model/synthetic-weights';
import type { WanVaeWeights } from './check-weights';
import { type WanVaeConfig, validateWanVaeConfig } from './config';
import { wanVaeTensorSpecs } from './keys';

/** The synthetic values of one decoder tensor (the rules of the file's comment). */
export function syntheticWanVaeTensor(options: { name: string; shape: readonly number[]; seed: SyntheticSeed }): Float32Array {
  const { name, shape } = options;
  const v = syntheticUniforms({ name, count: shapeSize(shape), seed: options.seed });
  const out = new Float32Array(v.length);
  if (name.endsWith('gamma')) {
    for (let i = 0; i < v.length; i++) out[i] = 1 + 0.1 * (v[i] as number);
  } else if (shape.length === 1) {
    for (let i = 0; i < v.length; i++) out[i] = 0.02 * (v[i] as number);
  } else {
    const divisor = Math.sqrt(shapeSize(shape.slice(1)));
    for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) / divisor;
  }
  return out;
}

/** Every decoder tensor of `config` (keys.ts order), synthetic for `seed`. */
export function syntheticWanVaeWeights(options: { config: WanVaeConfig; seed: SyntheticSeed }): WanVaeWeights {
  validateWanVaeConfig({ config: options.config });
  const weights = new Map<string, Float32Array>();
  for (const { name, shape } of wanVaeTensorSpecs(options.config)) weights.set(name, syntheticWanVaeTensor({ name, shape, seed: options.seed }));
  return weights;
}

/** Synthetic normalised latents `[16, F, H, W]` (the oracle's `vae.latents`): 2 v_i. */
export function syntheticWanVaeLatents(options: { latentShape: readonly number[]; seed: SyntheticSeed }): Float32Array {
  const { latentShape } = options;
  if (!Array.isArray(latentShape) || latentShape.length !== 4 || !latentShape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new WanInputError({ input: 'latentShape', value: latentShape, rule: 'expected four integers >= 1 ([zDim, F, H, W])', caller: 'syntheticWanVaeLatents' });
  }
  const v = syntheticUniforms({ name: 'vae.latents', count: shapeSize(latentShape), seed: options.seed });
  return Float32Array.from(v, (x) => 2 * x);
}
