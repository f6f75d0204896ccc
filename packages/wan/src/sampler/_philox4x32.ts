// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011; Random123's
// philox4x32_R with R = 10): a counter-based generator, 4 x 32-bit words of output per (counter, key) pair and no state.
// Checked against Random123's known-answer vectors (tests/kat_vectors) in _philox4x32.test.ts.

const PHILOX_M0 = 0xd2511f53; // round multipliers
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9; // key schedule increments (golden ratio, sqrt(3) - 1)
const PHILOX_W1 = 0xbb67ae85;
const ROUNDS = 10;
const TWO_16 = 0x10000;

/** The high 32 bits of the 64-bit product of two uint32 values, exactly, in float64 arithmetic. */
function mulHi32(a: number, b: number): number {
  // a * b = a * bHi * 2^16 + a * bLo with both partial products below 2^48 (exact in float64)
  const bLo = b & 0xffff;
  const bHi = b >>> 16;
  return Math.floor((a * bHi + Math.floor((a * bLo) / TWO_16)) / TWO_16) >>> 0;
}

/**
 * One Philox4x32-10 block: `out` (4 uint32 words) for `counter` (4 words) and `key` (2 words). `out` may be the
 * counter array itself. Returns `out`.
 */
export function philox4x32_10(options: { counter: ArrayLike<number>; key: ArrayLike<number>; out: Uint32Array }): Uint32Array {
  const { counter, key, out } = options;
  let c0 = counter[0]! >>> 0;
  let c1 = counter[1]! >>> 0;
  let c2 = counter[2]! >>> 0;
  let c3 = counter[3]! >>> 0;
  let k0 = key[0]! >>> 0;
  let k1 = key[1]! >>> 0;
  for (let round = 0; round < ROUNDS; round++) {
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
  return out;
}
