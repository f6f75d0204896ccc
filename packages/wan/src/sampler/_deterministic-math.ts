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

/** 1 / (2k + 1), k = 0 .. LOG_TERMS - 1. */
const LOG_COEFFICIENTS = Array.from({ length: LOG_TERMS }, (_, k) => 1 / (2 * k + 1));

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
  return [sin, cos];
})();

const scratch = new DataView(new ArrayBuffer(8));

function horner(coefficients: readonly number[], x: number): number {
  let p = coefficients[coefficients.length - 1]!;
  for (let k = coefficients.length - 2; k >= 0; k--) p = p * x + coefficients[k]!;
  return p;
}

/** ln(u) for a positive normal float64 u (the noise calls it on (0, 1]). */
export function deterministicLog(u: number): number {
  // u = m * 2^e with m in [1, 2), read from the bits (exact); then m in [sqrt(1/2), sqrt(2)]
  scratch.setFloat64(0, u);
  const high = scratch.getUint32(0);
  let e = ((high >>> 20) & 0x7ff) - 1023;
  scratch.setUint32(0, (high & 0x800fffff) | 0x3ff00000);
  let m = scratch.getFloat64(0);
  if (m > SQRT2) {
    m = m / 2;
    e = e + 1;
  }
  const f = (m - 1) / (m + 1); // ln(m) = 2 atanh(f)
  const f2 = f * f;
  return e * LN2 + 2 * f * horner(LOG_COEFFICIENTS, f2);
}

/** sin and cos of 2 pi u for u in [0, 1): reduced exactly to an angle in [0, pi/4] of one quadrant. */
function reduce(u: number): { quadrant: number; sin: number; cos: number } {
  const quadrant = Math.floor(4 * u); // 4u and 4u - quadrant are exact
  const t = 4 * u - quadrant;
  if (t <= 0.5) {
    const theta = t * HALF_PI;
    const x = theta * theta;
    return { quadrant, sin: theta * horner(SIN_COEFFICIENTS, x), cos: horner(COS_COEFFICIENTS, x) };
  }
  const theta = (1 - t) * HALF_PI; // pi/2 - angle
  const x = theta * theta;
  return { quadrant, sin: horner(COS_COEFFICIENTS, x), cos: theta * horner(SIN_COEFFICIENTS, x) };
}

/** sin(2 pi u) for u in [0, 1). */
export function deterministicSin2Pi(u: number): number {
  const { quadrant, sin, cos } = reduce(u);
  return [sin, cos, -sin, -cos][quadrant]!;
}

/** cos(2 pi u) for u in [0, 1). */
export function deterministicCos2Pi(u: number): number {
  const { quadrant, sin, cos } = reduce(u);
  return [cos, -sin, -cos, sin][quadrant]!;
}
