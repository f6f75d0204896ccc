// The declared tolerance of the two DiT norm ops (layerNormModulate, rmsNormRope) against their CPU twins. Private.
import type { Exactness } from '../core/define-op';

/**
 * Per element |cuda - twin| <= atol * magnitude + rtol * |twin| (magnitude: the twin reports it per element).
 * - rtol = 2^-7, one BF16 ulp: both sides round a float32 value to BF16 once; when their float32 values differ by a
 *   hair (the statistics are summed in another order), the two roundings can land one BF16 ulp apart.
 * - atol * magnitude covers what that hair becomes where the output cancels: the kernel sums in float32 over at most
 *   64 sequential terms per thread and log2(256) + 5 tree levels, so its mean is off by up to ~74 u * mean|x| and its
 *   1/sqrt by ~40 u relative (u = 2^-24); the twin's statistics are float64. Where (x - mean), n * (1 + scale) + shift
 *   or a RoPE difference a cos - b sin nearly cancels, that absolute error is larger than an ulp of the small result.
 *   magnitude bounds every term the error scales with (layerNormModulate: |1 + scale| (|weight| (|n| + R) + |bias|)
 *   + |shift|, R = (std + |mean|) / sqrt(var + eps); rmsNormRope: |y|, or |a cos| + |b sin| under RoPE), and
 *   2^-16 = 256 u leaves a margin of more than 2 over the worst-case float32 bound.
 */
export const NORM_EXACTNESS: Exactness = Object.freeze({
  tolerance: Object.freeze({
    atol: 2 ** -16,
    rtol: 2 ** -7,
    note:
      'per element |cuda - twin| <= atol * magnitude + rtol * |twin|, magnitude reported by the twin (the size of the terms ' +
      'before cancellation); rtol is one BF16 ulp of output rounding, atol covers float32 statistics summed in another ' +
      'order than the float64 twin (~74 u worst case) where the output cancels',
  }),
});
