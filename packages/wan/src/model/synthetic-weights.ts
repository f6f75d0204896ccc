/**
 * Deterministic synthetic weights for any Wan config, defined exactly so that an independent implementation (the
 * numpy oracle behind fixtures/dit-golden.json) produces the same float32 bits.
 *
 * For a tensor `name` (UTF-8) of n elements and the run seed s:
 * ```
 * base  = fnv1a64(name) ^ (s * 0x9E3779B97F4A7C15 mod 2^64)
 * u_i   = (splitmix64((base + i) mod 2^64) >> 40) / 2^24          # [0, 1), 24 bits
 * v_i   = 2 u_i - 1                                              # [-1, 1), float64 (exact)
 * value = float32 of, in float64:
 *   1 + 0.1 v_i              1-D, name ending norm_q.weight, norm_k.weight or norm3.weight (RMS / affine norm weights)
 *   0.02 v_i                 other 1-D tensors (biases)
 *   v_i / sqrt(dim)          names ending modulation ([1, 6, dim] and [1, 2, dim])
 *   v_i / sqrt(prod(shape[1:]))   every other tensor: the fan-in of [out, in] linears and of the patch conv
 * ```
 * `head.head.weight` is random like every linear (the official init zeroes it, which would make the output constant,
 * wan21-architecture.md 7).
 */
import { GOLDEN_GAMMA_64, fnv1a64, uniformStream } from './_splitmix64';
import { shapeSize } from './_shape-size';
import { type WanConfig, validateWanConfig } from './config';
import { WanInputError } from './errors';
import { wanTensorSpecs } from './keys';
import type { WanWeights } from './types';

/** A seed of the synthetic generator: an integer in [0, 2^64), as a number (up to 2^53 - 1) or a bigint. */
export type SyntheticSeed = number | bigint;

const MASK_64 = (1n << 64n) - 1n;
const NORM_WEIGHT_SUFFIXES = ['norm_q.weight', 'norm_k.weight', 'norm3.weight'];

function seedBigInt(seed: SyntheticSeed): bigint {
  const ok =
    typeof seed === 'bigint' ? seed >= 0n && seed <= MASK_64 : typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0;
  if (!ok) throw new WanInputError({ input: 'seed', value: seed, rule: 'expected an integer in [0, 2^64): a number up to 2^53 - 1, or a bigint', caller: 'synthetic weights' });
  return BigInt(seed);
}

/**
 * v_i = 2 u_i - 1 for i < count, the raw stream of the tensor `name` (see the file's comment), in float64. Every value
 * is a multiple of 2^-23 in [-1, 1), so exact in float32 too.
 */
export function syntheticUniforms(options: { name: string; count: number; seed: SyntheticSeed }): Float64Array {
  const seed = seedBigInt(options.seed);
  const base = fnv1a64(new TextEncoder().encode(options.name)) ^ ((seed * GOLDEN_GAMMA_64) & MASK_64);
  return uniformStream({ base, out: new Float64Array(options.count) });
}

/** The synthetic values of one tensor of a DiT of width `dim` (the rules of the file's comment). */
export function syntheticWanTensor(options: { name: string; shape: readonly number[]; seed: SyntheticSeed; dim: number }): Float32Array {
  const { name, shape, dim } = options;
  const v = syntheticUniforms({ name, count: shapeSize(shape), seed: options.seed });
  const out = new Float32Array(v.length);
  if (shape.length === 1 && NORM_WEIGHT_SUFFIXES.some((suffix) => name.endsWith(suffix))) {
    for (let i = 0; i < v.length; i++) out[i] = 1 + 0.1 * (v[i] as number);
  } else if (shape.length === 1) {
    for (let i = 0; i < v.length; i++) out[i] = 0.02 * (v[i] as number);
  } else {
    const divisor = Math.sqrt(name.endsWith('modulation') ? dim : shapeSize(shape.slice(1)));
    for (let i = 0; i < v.length; i++) out[i] = (v[i] as number) / divisor;
  }
  return out;
}

/** Every weight of `config` (keys.ts, original names, state-dict order), synthetic for `seed`. */
export function syntheticWanWeights(options: { config: WanConfig; seed: SyntheticSeed }): WanWeights {
  const config = validateWanConfig({ config: options.config });
  seedBigInt(options.seed);
  const weights = new Map<string, Float32Array>();
  for (const { name, shape } of wanTensorSpecs(config)) {
    weights.set(name, syntheticWanTensor({ name, shape, seed: options.seed, dim: config.dim }));
  }
  return weights;
}
