import { UnknownFormatError } from './errors/unknown-format-error';

/** The two OCP 8-bit floating-point formats. `e4m3` is the "e4m3fn" variant: no infinities, a single NaN pattern. */
export type Fp8Format = 'e4m3' | 'e5m2';

export const FP8_FORMAT_NAMES: readonly Fp8Format[] = ['e4m3', 'e5m2'];

/** Everything the encoders and decoders need to know about one format, derived from its bit layout. */
export interface Fp8FormatSpec {
  readonly name: Fp8Format;
  readonly exponentBits: number;
  readonly mantissaBits: number;
  readonly bias: number;
  /** Largest finite magnitude: 448 (e4m3), 57344 (e5m2). */
  readonly maxFinite: number;
  /** Code of +maxFinite: 0x7e (e4m3), 0x7b (e5m2). */
  readonly maxFiniteCode: number;
  /** Smallest positive subnormal: 2^-9 (e4m3), 2^-16 (e5m2). */
  readonly minSubnormal: number;
  /** Smallest positive normal: 2^-6 (e4m3), 2^-14 (e5m2). */
  readonly minNormal: number;
  /** Code of +infinity, or null when the format has none (e4m3). */
  readonly infinityCode: number | null;
  /** The NaN code CUDA's conversions produce, whatever the input NaN's sign: 0x7f for both formats. */
  readonly canonicalNanCode: number;
}

export const E4M3: Fp8FormatSpec = Object.freeze({
  name: 'e4m3',
  exponentBits: 4,
  mantissaBits: 3,
  bias: 7,
  maxFinite: 448,
  maxFiniteCode: 0x7e,
  minSubnormal: 2 ** -9,
  minNormal: 2 ** -6,
  infinityCode: null,
  canonicalNanCode: 0x7f,
});

export const E5M2: Fp8FormatSpec = Object.freeze({
  name: 'e5m2',
  exponentBits: 5,
  mantissaBits: 2,
  bias: 15,
  maxFinite: 57344,
  maxFiniteCode: 0x7b,
  minSubnormal: 2 ** -16,
  minNormal: 2 ** -14,
  infinityCode: 0x7c,
  canonicalNanCode: 0x7f,
});

/** Looks a format up by name; throws UnknownFormatError (never returns undefined) for anything else. */
export function fp8FormatSpec(format: Fp8Format): Fp8FormatSpec {
  if (format === 'e4m3') return E4M3;
  if (format === 'e5m2') return E5M2;
  throw new UnknownFormatError({ format, allowed: FP8_FORMAT_NAMES });
}
