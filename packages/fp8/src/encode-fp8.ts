import { InvalidArgumentError } from './errors/invalid-argument-error';
import { encodeMinifloat } from './_minifloat';
import { E4M3, E5M2, type Fp8Format, type Fp8FormatSpec, fp8FormatSpec } from './formats';

const layouts = {
  e4m3: { ...E4M3, signBit: 0x80, nanCode: E4M3.canonicalNanCode },
  e5m2: { ...E5M2, signBit: 0x80, nanCode: E5M2.canonicalNanCode },
} as const;

export interface EncodeFp8Options {
  /** The number to encode (taken as the exact double; a float32 input is rounded once). */
  value: number;
  format: Fp8Format;
  /**
   * true (default): a finite value beyond the format's range, and an infinity, clamps to +-maxFinite, like CUDA's
   * `__NV_SATFINITE`. false: like `__NV_NOSAT`: overflow gives NaN (e4m3) or +-infinity (e5m2).
   * NaN always encodes to 0x7f, whatever its sign, as CUDA does.
   */
  saturate?: boolean;
}

/** The unsigned code a magnitude beyond the range encodes to. Private to the package (not re-exported). */
export function fp8OverflowCode(spec: Fp8FormatSpec, saturate: boolean): number {
  return saturate ? spec.maxFiniteCode : (spec.infinityCode ?? spec.canonicalNanCode);
}

/**
 * Encodes a number as an 8-bit FP8 code, rounding to nearest with ties to even.
 *
 * Works from the exact double value, so a float32 input is rounded once, exactly like `__nv_cvt_float_to_fp8`.
 * The algorithm is arithmetic where the bulk encoder (`encodeFp8Array`) works on float32 bits: the golden-vector tests
 * check both against CUDA, so each is also a check of the other.
 *
 * @example encodeFp8({ value: 1e6, format: 'e4m3' }) // 0x7e (448, saturated)
 */
export function encodeFp8(options: EncodeFp8Options): number {
  const { value, format } = options;
  const spec = fp8FormatSpec(format);
  if (typeof value !== 'number') {
    throw new InvalidArgumentError({ argument: 'value', value, message: `expected a number, got ${typeof value}` });
  }
  return encodeMinifloat(value, layouts[spec.name], fp8OverflowCode(spec, options.saturate ?? true));
}
