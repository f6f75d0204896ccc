import { InvalidArgumentError } from './errors/invalid-argument-error';
import { NonFiniteValueError } from './errors/non-finite-value-error';
import { type Fp8Format, fp8FormatSpec } from './formats';

/** The smallest positive float32 (2^-149): the scale of groups whose amax / maxFinite underflows float32. */
export const MIN_POSITIVE_FLOAT32 = 2 ** -149;

/**
 * The scale that maps a group's largest magnitude onto the format's largest finite value: amax / maxFinite, computed
 * in float32 as the GPU kernels do (amax is taken as float32, then one correctly rounded float32 division).
 *
 * - amax = 0 (an all-zero group, or a group holding only NaNs that were ignored): scale 1. Any positive scale
 *   encodes zeros exactly; 1 keeps dequantization a no-op instead of dividing by zero.
 * - amax so small that amax / maxFinite underflows float32: scale 2^-149, so that codes stay finite.
 * - amax negative, NaN or infinite: an error, never a scale. Callers compute amax over finite values only.
 */
export function computeScale(amax: number, format: Fp8Format): number {
  const spec = fp8FormatSpec(format);
  if (typeof amax !== 'number' || Number.isNaN(amax) || !Number.isFinite(Math.fround(amax))) {
    throw new NonFiniteValueError({ tensor: 'amax', index: 0, value: amax, hint: 'a scale needs a finite amax' });
  }
  if (amax < 0) {
    throw new InvalidArgumentError({ argument: 'amax', value: amax, message: `expected a magnitude >= 0, got ${amax}` });
  }
  if (amax === 0) return 1;
  const scale = Math.fround(Math.fround(amax) / spec.maxFinite);
  return scale === 0 ? MIN_POSITIVE_FLOAT32 : scale;
}
