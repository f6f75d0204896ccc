// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3", SC 2011; Random123's
// philox4x32_R with R = 10): a counter-based generator, 4 x 32-bit words of output per (counter, key) pair and no state.
// Checked against Random123's known-answer vectors (tests/kat_vectors) in _philox4x32.test.ts.

const PHILOX_M0 = 0xd2511f53; // round multipliers
const PHILOX_M1 = 0xcd9e8d57;
const PHILOX_W0 = 0x9e3779b9; // key schedule increments (golden ratio, sqrt(3) - 1)
const PHILOX_W1 = 0xbb67ae85;
const ROUNDS = 10;
// The multipliers' 16-bit halves, for mulHi32's partial products.
const M0_LO = PHILOX_M0 & 0xffff;
const M0_HI = PHILOX_M0 >>> 16;
const M1_LO = PHILOX_M1 & 0xffff;
const M1_HI = PHILOX_M1 >>> 16;

/**
 * The high 32 bits of the 64-bit product of m = mHi 2^16 + mLo and a 32-bit word w, exactly, in int32 arithmetic
 * only (Math.imul, shifts, masks): schoolbook on 16-bit halves, each partial product < 2^32 read back unsigned with
 * `>>> 16` / `& 0xffff`, and the sum < 2^32 wrapped with `| 0` (the int32 bit pattern of the uint32 result). V8 keeps
 * all of it in integer registers: about 3x faster than splitting only w and flooring float64 products.
 */
function mulHi32(mLo: number, mHi: number, w: number): number {
  const wLo = w & 0xffff;
  const wHi = w >>> 16;
  const loHi = Math.imul(mLo, wHi);
  const hiLo = Math.imul(mHi, wLo);
  const middle = (Math.imul(mLo, wLo) >>> 16) + (loHi & 0xffff) + (hiLo & 0xffff); // < 3 * 2^16: the carries
  return (Math.imul(mHi, wHi) + (loHi >>> 16) + (hiLo >>> 16) + (middle >>> 16)) | 0;
}

/**
 * One Philox4x32-10 block from words instead of arrays, for the noise's inner loop: no array reads per call, words
 * kept as int32 (same bits as the uint32 words; the Uint32Array store reinterprets them), the 4 output words written
 * to `out`.
 */
export function philox4x32_10Words(c0: number, c1: number, c2: number, c3: number, k0: number, k1: number, out: Uint32Array): void {
  // The constants as int32 locals: tsup emits module constants as `var`s, which V8 reloads and treats as possibly
  // non-integer heap numbers inside the loop (about 3x slower).
  const m0 = PHILOX_M0 | 0;
  const m1 = PHILOX_M1 | 0;
  const m0Lo = M0_LO | 0;
  const m0Hi = M0_HI | 0;
  const m1Lo = M1_LO | 0;
  const m1Hi = M1_HI | 0;
  const w0 = PHILOX_W0 | 0;
  const w1 = PHILOX_W1 | 0;
  const rounds = ROUNDS | 0;
  c0 |= 0;
  c1 |= 0;
  c2 |= 0;
  c3 |= 0;
  k0 |= 0;
  k1 |= 0;
  for (let round = 0; round < rounds; round++) {
    const hi0 = mulHi32(m0Lo, m0Hi, c0);
    const lo0 = Math.imul(m0, c0);
    const hi1 = mulHi32(m1Lo, m1Hi, c2);
    const lo1 = Math.imul(m1, c2);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 = (k0 + w0) | 0; // the key schedule for the next round (unused after the last)
    k1 = (k1 + w1) | 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/**
 * One Philox4x32-10 block: `out` (4 uint32 words) for `counter` (4 words) and `key` (2 words). `out` may be the
 * counter array itself. Returns `out`.
 */
export function philox4x32_10(options: { counter: ArrayLike<number>; key: ArrayLike<number>; out: Uint32Array }): Uint32Array {
  const { counter, key, out } = options;
  philox4x32_10Words(counter[0]! >>> 0, counter[1]! >>> 0, counter[2]! >>> 0, counter[3]! >>> 0, key[0]! >>> 0, key[1]! >>> 0, out);
  return out;
}
