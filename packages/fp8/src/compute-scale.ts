import { InvalidArgumentError } from './errors/invalid-argument-error';
import { NonFiniteValueError } from './errors/non-finite-value-error';
import { type Fp8Format, fp8FormatSpec } from './formats';

/**
 * The smallest scale (2^-126, the smallest normal float32). Clamping here keeps `1 / scale` finite (at most 2^126),
 * so quantization can multiply by the reciprocal, and it costs nothing real: it only matters for groups whose amax
 * is below 448 * 2^-126 (about 5e-36).
 */
export const MIN_SCALE = 2 ** -126;

/**
 * The scale that maps a group's largest magnitude onto the format's largest finite value: amax / maxFinite, computed
 * in float32 as the GPU kernels do (amax is taken as float32, then one correctly rounded float32 division).
 *
 * - amax = 0 (an all-zero group, or a group holding only NaNs that were ignored): scale 1. Any positive scale
 *   encodes zeros exactly; 1 keeps dequantization a no-op instead of dividing by zero.
 * - amax / maxFinite below 2^-126: scale 2^-126 (MIN_SCALE), so that its reciprocal is finite.
 * - amax negative, NaN or infinite: an error, never a scale. Callers compute amax over finite values only.
 *
 * @example computeScale({ amax: 896, format: 'e4m3' }) // 2
 */
export function computeScale(options: { amax: number; format: Fp8Format }): number;
export function computeScale(options: { amax: number; format: Fp8Format }): number {
  const { amax, format: name } = options;
  const spec = fp8FormatSpec(name);
  if (typeof amax !== 'number' || Number.isNaN(amax) || !Number.isFinite(Math.fround(amax))) {
    throw new NonFiniteValueError({ tensor: 'amax', index: 0, value: amax, hint: 'a scale needs a finite amax' });
  }
  if (amax < 0) {
    throw new InvalidArgumentError({ argument: 'amax', value: amax, message: `expected a magnitude >= 0, got ${amax}` });
  }
  if (amax === 0) return 1;
  return Math.max(Math.fround(Math.fround(amax) / spec.maxFinite), MIN_SCALE);
}

/**
 * float32(1 / scale), correctly rounded (CUDA's `__frcp_rn`). Quantization multiplies by it instead of dividing by the
 * scale: one multiply per element instead of an IEEE division, which is what keeps the GPU kernels memory-bound.
 */
export function reciprocalScale(scale: number): number {
  // Stryker disable next-line ConditionalExpression: the typeof test only narrows the type: Number.isFinite is false for every non-number (equivalent)
  if (typeof scale !== 'number' || !Number.isFinite(scale) || scale < MIN_SCALE) {
    throw new InvalidArgumentError({ argument: 'scale', value: scale, message: `expected a finite scale >= 2^-126, got ${scale}` });
  }
  return Math.fround(1 / scale);
}
