/**
 * Round-to-nearest-even encoding of a number into a small binary floating-point format (FP8, FP16), from the exact
 * double value. Private: the public encoders add validation and their format's overflow rules.
 */
export interface MinifloatLayout {
  readonly mantissaBits: number;
  readonly bias: number;
  /** Code of the largest finite magnitude. */
  readonly maxFiniteCode: number;
  /** The sign bit of the code: 0x80 for FP8, 0x8000 for FP16. */
  readonly signBit: number;
  /** Code returned for any NaN input (the sign of NaN is dropped, as CUDA does). */
  readonly nanCode: number;
}

/** Returns the code of `value`, with `overflowCode` (unsigned) for magnitudes that round beyond maxFinite. */
export function encodeMinifloat(value: number, layout: MinifloatLayout, overflowCode: number): number {
  if (Number.isNaN(value)) return layout.nanCode;
  const sign = value < 0 || Object.is(value, -0) ? layout.signBit : 0;
  const magnitude = Math.abs(value);
  if (magnitude === Infinity) return sign | overflowCode;
  // Stryker disable next-line ConditionalExpression: without it zero still encodes to the signed zero code (log2(0) = -Infinity clamps to the subnormal binade, quantized to 0) (equivalent)
  if (magnitude === 0) return sign;

  // Exponent of the binade holding `magnitude`, clamped to the subnormal binade. Math.log2 can be off by one near
  // powers of two, so correct it against exact powers of two.
  const minExponent = 1 - layout.bias;
  let exponent = Math.floor(Math.log2(magnitude));
  // The two corrections below are defensive: Math.log2 is off only within an ulp of a power of two, where both binades
  // round to the same code (the carry), so their mutants are equivalent; at magnitude = 2^exponent likewise.
  // Stryker disable next-line EqualityOperator,ConditionalExpression: see above (equivalent)
  if (2 ** exponent > magnitude) exponent -= 1;
  // Stryker disable next-line EqualityOperator,ConditionalExpression,AssignmentOperator: see above (equivalent, and unreached: V8's log2 never lands a binade low)
  if (2 ** (exponent + 1) <= magnitude) exponent += 1;
  exponent = Math.max(exponent, minExponent);

  // `magnitude / quantum` is exact (division by a power of two, far from underflow) and below 2^(mantissaBits+1),
  // so the floor and the fraction are exact too.
  const quantum = 2 ** (exponent - layout.mantissaBits);
  const scaled = magnitude / quantum;
  const floor = Math.floor(scaled);
  const fraction = scaled - floor;
  const rounded = fraction > 0.5 || (fraction === 0.5 && floor % 2 === 1) ? floor + 1 : floor;

  // Codes are monotonic in magnitude and continuous across binades (the subnormal binade included): the code is the
  // binade's first code plus the rounded significand, and a carry into the next binade falls out by itself.
  const code = (exponent - minExponent) * 2 ** layout.mantissaBits + rounded;
  if (code > layout.maxFiniteCode) return sign | overflowCode;
  return sign | code;
}
