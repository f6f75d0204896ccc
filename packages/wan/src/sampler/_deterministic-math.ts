// log, sin(2 pi u) and cos(2 pi u) from float64 + - * / only, in a fixed order of operations, so that every IEEE 754
// machine (any JavaScript engine, numpy, a CUDA kernel built without FMA contraction) gets the same bits. Math.log and
// Math.sin are not specified to the last bit and differ between engines and libms. Accuracy: a few ulps of float64,
// far below the float32 rounding of the noise they feed (gaussian-noise.ts). fixtures/make_fixtures.py repeats these
// operations one for one.

const LN2 = 0.6931471805599453; // the float64 nearest ln 2
const SQRT2 = 1.4142135623730951;
const HALF_PI = 1.5707963267948966;
const LOG_TERMS = 12; // ln(m) = 2 f sum_{k < 12} f^2k / (2k + 1) with |f| <= 0.1716: the next term is < 1e-19
const SIN_TERMS = 10; // theta^1 .. theta^19 on [0, pi/4]: the next term is < 1e-22
const COS_TERMS = 11; // theta^0 .. theta^20

// Coefficients in Float64Arrays (the same float64 values as number arrays would hold), and no allocation anywhere
// below.

/** 1 / (2k + 1), k = 0 .. LOG_TERMS - 1. */
const LOG_COEFFICIENTS = Float64Array.from({ length: LOG_TERMS }, (_, k) => 1 / (2 * k + 1));

/** The Taylor coefficients (-1)^k / (2k+1)! and (-1)^k / (2k)!, the factorials by repeated float64 products. */
const [SIN_COEFFICIENTS, COS_COEFFICIENTS] = (() => {
  const sin: number[] = [];
  const cos: number[] = [];
  let factorial = 1;
  for (let j = 0; j < 2 * COS_TERMS; j++) {
    if (j > 0) factorial = factorial * j;
    const sign = Math.floor(j / 2) % 2 === 0 ? 1 : -1;
    if (j % 2 === 0) cos.push(sign / factorial);
    else if (sin.length < SIN_TERMS) sin.push(sign / factorial);
  }
  return [Float64Array.from(sin), Float64Array.from(cos)];
})();

// The high word of a float64 through aliased typed arrays (faster than a DataView); which word is the high one depends
// on the machine's byte order.
const scratchFloat = new Float64Array(1);
const scratchWords = new Uint32Array(scratchFloat.buffer);
const HIGH_WORD = new Uint8Array(Uint16Array.of(1).buffer)[0] === 1 ? 1 : 0;

/** 2^-e at index e + 1023: u * 2^-e is the mantissa m in [1, 2) of a normal u = m 2^e, exactly (a power of two). */
const INVERSE_POWERS_OF_TWO = Float64Array.from({ length: 2047 }, (_, k) => 2 ** (1023 - k));

// The three polynomials c[0] + x (c[1] + x (c[2] + ...)) by Horner's rule from the highest coefficient (LOG_TERMS,
// SIN_TERMS, COS_TERMS of them), written out: the same float64 operations in the same order as a loop (the fixtures
// pin them), but a straight chain for V8 (the noise evaluates them 2.4M times each for a 720p latent).

function logPolynomial(x: number): number {
  const c = LOG_COEFFICIENTS;
  return ((((((((((c[11]! * x + c[10]!) * x + c[9]!) * x + c[8]!) * x + c[7]!) * x + c[6]!) * x + c[5]!) * x + c[4]!) * x + c[3]!) * x + c[2]!) * x + c[1]!) * x + c[0]!;
}

function sinPolynomial(x: number): number {
  const c = SIN_COEFFICIENTS;
  return ((((((((c[9]! * x + c[8]!) * x + c[7]!) * x + c[6]!) * x + c[5]!) * x + c[4]!) * x + c[3]!) * x + c[2]!) * x + c[1]!) * x + c[0]!;
}

function cosPolynomial(x: number): number {
  const c = COS_COEFFICIENTS;
  return (((((((((c[10]! * x + c[9]!) * x + c[8]!) * x + c[7]!) * x + c[6]!) * x + c[5]!) * x + c[4]!) * x + c[3]!) * x + c[2]!) * x + c[1]!) * x + c[0]!;
}

/** ln(u) for a positive normal float64 u (the noise calls it on (0, 1]). */
export function deterministicLog(u: number): number {
  // u = m * 2^e with m in [1, 2): e from the bits, m = u * 2^-e (exact); then m in [sqrt(1/2), sqrt(2)]
  scratchFloat[0] = u;
  let e = ((scratchWords[HIGH_WORD]! >>> 20) & 0x7ff) - 1023;
  let m = u * INVERSE_POWERS_OF_TWO[e + 1023]!;
  if (m > SQRT2) {
    m = m / 2;
    e = e + 1;
  }
  const f = (m - 1) / (m + 1); // ln(m) = 2 atanh(f)
  const f2 = f * f;
  return e * LN2 + 2 * f * logPolynomial(f2);
}

/** The signs of (sin, cos) of an angle turned by 0 to 3 quarter turns, after the swap of odd quadrants. */
const SIN_SIGNS = Float64Array.of(1, 1, -1, -1);
const COS_SIGNS = Float64Array.of(1, -1, -1, 1);

/**
 * sin(2 pi u[i]) into sin[i] and cos(2 pi u[i]) into cos[i] for i < count, u in [0, 1), from one reduction each: u
 * is reduced exactly to an angle in [0, pi/4] of one quadrant, whose sine and cosine are then swapped and signed by
 * the quadrant. Both polynomials run for every u and the placements are selects and products by +-1 (exact, the same
 * bits as negation), not branches: the quadrant of a random u is unpredictable, and this loop is most of the noise's
 * time.
 */
export function deterministicSinCos2PiInto(options: { u: Float64Array; count: number; sin: Float64Array; cos: Float64Array }): void {
  const { u, count, sin, cos } = options;
  for (let i = 0; i < count; i++) {
    const turns = 4 * u[i]!;
    const quadrant = Math.floor(turns); // 4u and 4u - quadrant are exact
    const t = turns - quadrant;
    const low = t <= 0.5;
    const theta = (low ? t : 1 - t) * HALF_PI; // the angle, or pi/2 - the angle
    const x = theta * theta;
    const sinTheta = theta * sinPolynomial(x);
    const cosTheta = cosPolynomial(x);
    const sinAngle = low ? sinTheta : cosTheta;
    const cosAngle = low ? cosTheta : sinTheta;
    // quarter turns: (s, c) -> (c, -s) -> (-s, -c) -> (-c, s)
    const q = quadrant | 0;
    const odd = (q & 1) === 1;
    sin[i] = (odd ? cosAngle : sinAngle) * SIN_SIGNS[q]!;
    cos[i] = (odd ? sinAngle : cosAngle) * COS_SIGNS[q]!;
  }
}

const one = { u: new Float64Array(1), count: 1, sin: new Float64Array(1), cos: new Float64Array(1) };

/** sin(2 pi u) for u in [0, 1). */
export function deterministicSin2Pi(u: number): number {
  one.u[0] = u;
  deterministicSinCos2PiInto(one);
  return one.sin[0]!;
}

/** cos(2 pi u) for u in [0, 1). */
export function deterministicCos2Pi(u: number): number {
  one.u[0] = u;
  deterministicSinCos2PiInto(one);
  return one.cos[0]!;
}
