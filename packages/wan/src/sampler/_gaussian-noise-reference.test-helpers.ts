// gaussianNoise as it was before the fast path (commit 4424344): Philox4x32-10 with a float-split mulHi, one block per
// pair of values, and the deterministic log / sin / cos through a DataView and small arrays. Kept, self-contained, as
// the reference the fast gaussianNoise must match bit for bit (gaussian-noise.test.ts).

const PHILOX_M0 = 0xd2511f53;
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9;
const PHILOX_W1 = 0xbb67ae85;
const TWO_16 = 0x10000;
const TWO_26 = 0x4000000;
const TWO_32 = 0x100000000;
const TWO_53 = 9007199254740992;

function mulHi32(a: number, b: number): number {
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  return Math.floor((a * bHi + Math.floor((a * bLo) / TWO_16)) / TWO_16) >>> 0;
}

/** Philox4x32-10 as it was: mulHi by float division and Math.floor. */
export function referencePhilox4x32_10(counter: ArrayLike<number>, key: ArrayLike<number>, out: Uint32Array): void {
  let c0 = counter[0]! >>> 0;
  let c1 = counter[1]! >>> 0;
  let c2 = counter[2]! >>> 0;
  let c3 = counter[3]! >>> 0;
  let k0 = key[0]! >>> 0;
  let k1 = key[1]! >>> 0;
  for (let round = 0; round < 10; round++) {
    if (round > 0) {
      k0 = (k0 + PHILOX_W0) >>> 0;
      k1 = (k1 + PHILOX_W1) >>> 0;
    }
    const hi0 = mulHi32(PHILOX_M0, c0);
    const lo0 = Math.imul(PHILOX_M0, c0) >>> 0;
    const hi1 = mulHi32(PHILOX_M1, c2);
    const lo1 = Math.imul(PHILOX_M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

const LN2 = 0.6931471805599453;
const SQRT2 = 1.4142135623730951;
const HALF_PI = 1.5707963267948966;
const LOG_COEFFICIENTS = Array.from({ length: 12 }, (_, k) => 1 / (2 * k + 1));
const [SIN_COEFFICIENTS, COS_COEFFICIENTS] = (() => {
  const sin: number[] = [];
  const cos: number[] = [];
  let factorial = 1;
  for (let j = 0; j < 22; j++) {
    if (j > 0) factorial = factorial * j;
    const sign = Math.floor(j / 2) % 2 === 0 ? 1 : -1;
    if (j % 2 === 0) cos.push(sign / factorial);
    else if (sin.length < 10) sin.push(sign / factorial);
  }
  return [sin, cos];
})();
const scratch = new DataView(new ArrayBuffer(8));

function horner(coefficients: readonly number[], x: number): number {
  let p = coefficients[coefficients.length - 1]!;
  for (let k = coefficients.length - 2; k >= 0; k--) p = p * x + coefficients[k]!;
  return p;
}

function log(u: number): number {
  scratch.setFloat64(0, u);
  const high = scratch.getUint32(0);
  let e = ((high >>> 20) & 0x7ff) - 1023;
  scratch.setUint32(0, (high & 0x800fffff) | 0x3ff00000);
  let m = scratch.getFloat64(0);
  if (m > SQRT2) {
    m = m / 2;
    e = e + 1;
  }
  const f = (m - 1) / (m + 1);
  const f2 = f * f;
  return e * LN2 + 2 * f * horner(LOG_COEFFICIENTS, f2);
}

function reduce(u: number): { quadrant: number; sin: number; cos: number } {
  const quadrant = Math.floor(4 * u);
  const t = 4 * u - quadrant;
  if (t <= 0.5) {
    const theta = t * HALF_PI;
    const x = theta * theta;
    return { quadrant, sin: theta * horner(SIN_COEFFICIENTS, x), cos: horner(COS_COEFFICIENTS, x) };
  }
  const theta = (1 - t) * HALF_PI;
  const x = theta * theta;
  return { quadrant, sin: horner(COS_COEFFICIENTS, x), cos: theta * horner(SIN_COEFFICIENTS, x) };
}

function sin2Pi(u: number): number {
  const { quadrant, sin, cos } = reduce(u);
  return [sin, cos, -sin, -cos][quadrant]!;
}

function cos2Pi(u: number): number {
  const { quadrant, sin, cos } = reduce(u);
  return [cos, -sin, -cos, sin][quadrant]!;
}

/** The reference stream: values offset .. offset + size - 1 of seed [low word, high word] (no option checks). */
export function referenceGaussianNoise(options: { key: readonly [number, number]; size: number; offset: number }): Float32Array {
  const { key, size, offset } = options;
  const values = new Float32Array(size);
  const counter = new Uint32Array(4);
  const block = new Uint32Array(4);
  const end = offset + size;
  for (let n = offset; n < end; ) {
    const j = Math.floor(n / 2);
    counter[0] = j % TWO_32;
    counter[1] = Math.floor(j / TWO_32);
    referencePhilox4x32_10(counter, key, block);
    const u1 = ((block[0]! >>> 5) * TWO_26 + (block[1]! >>> 6) + 1) / TWO_53;
    const u2 = ((block[2]! >>> 5) * TWO_26 + (block[3]! >>> 6)) / TWO_53;
    const r = Math.sqrt(-2 * log(u1));
    if (n % 2 === 0) {
      values[n - offset] = r * cos2Pi(u2);
      if (n + 1 < end) values[n + 1 - offset] = r * sin2Pi(u2);
      n += 2;
    } else {
      values[n - offset] = r * sin2Pi(u2);
      n += 1;
    }
  }
  return values;
}
