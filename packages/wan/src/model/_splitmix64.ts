/**
 * The 64-bit integer mixers of the synthetic generator (synthetic-weights.ts): splitmix64 and FNV-1a, both mod 2^64.
 * `splitmix64` and `fnv1a64` are the BigInt definitions (one value at a time); `uniformStream` computes a run of
 * splitmix64 outputs on 32-bit halves (about 30x faster than BigInt), bit for bit the same.
 */

const MASK_64 = (1n << 64n) - 1n;
const TWO_32 = 0x1_0000_0000;
const TWO_24 = 0x100_0000;

/** splitmix64's increment, the 64-bit golden ratio: floor(2^64 / phi), odd. */
export const GOLDEN_GAMMA_64 = 0x9e3779b97f4a7c15n;
const MIX_1 = 0xbf58476d1ce4e5b9n;
const MIX_2 = 0x94d049bb133111ebn;
const FNV_OFFSET_BASIS_64 = 0xcbf29ce484222325n;
const FNV_PRIME_64 = 0x100000001b3n;

/** Halves of the two multipliers of splitmix64. */
const MIX_1_HI = 0xbf58476d;
const MIX_1_LO = 0x1ce4e5b9;
const MIX_2_HI = 0x94d049bb;
const MIX_2_LO = 0x133111eb;

/** splitmix64 (Steele, Lea, Flood 2014) of x in [0, 2^64). */
export function splitmix64(x: bigint): bigint {
  let z = (x + GOLDEN_GAMMA_64) & MASK_64;
  z = ((z ^ (z >> 30n)) * MIX_1) & MASK_64;
  z = ((z ^ (z >> 27n)) * MIX_2) & MASK_64;
  return z ^ (z >> 31n);
}

/** FNV-1a, 64-bit, of a byte string. */
export function fnv1a64(bytes: Uint8Array): bigint {
  let h = FNV_OFFSET_BASIS_64;
  for (const b of bytes) h = ((h ^ BigInt(b)) * FNV_PRIME_64) & MASK_64;
  return h;
}

/**
 * floor(a * b / 2^32) for a, b in [0, 2^32): the high half of a 32x32-bit product, from 16-bit pieces (all exact).
 * Positional on purpose: an arithmetic primitive called twice per value in the generator's inner loop.
 */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p00 = a0 * b0;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const mid = (p00 >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return (a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (mid >>> 16)) >>> 0;
}

/**
 * `out[i] = 2 * (splitmix64((base + i) mod 2^64) >> 40) / 2^24 - 1` for every i: the 24 top bits of each output as a
 * uniform value in [-1, 1), exact in float64 (and in float32). `base` is in [0, 2^64).
 *
 * On 32-bit halves (hi, lo): x >> s is (hi >>> s, lo >>> s | hi << (32 - s)); the low half of a product mod 2^64 is
 * imul(aLo, bLo), the high half mulHigh32(aLo, bLo) + imul(aHi, bLo) + imul(aLo, bHi) mod 2^32; and the top 24 bits of
 * z ^ (z >> 31) depend on the high half only.
 */
export function uniformStream(options: { base: bigint; out: Float64Array }): Float64Array {
  const { out } = options;
  const start = (options.base + GOLDEN_GAMMA_64) & MASK_64;
  const startHi = Number(start >> 32n);
  const startLo = Number(start & 0xffff_ffffn);
  for (let i = 0; i < out.length; i++) {
    // z = base + gamma + i
    const sumLo = startLo + (i % TWO_32);
    let lo = sumLo >>> 0;
    let hi = (startHi + Math.floor(i / TWO_32) + (sumLo >= TWO_32 ? 1 : 0)) >>> 0;
    // z = (z ^ (z >> 30)) * MIX_1
    lo = (lo ^ ((lo >>> 30) | (hi << 2))) >>> 0;
    hi = (hi ^ (hi >>> 30)) >>> 0;
    let nextHi = (mulHigh32(lo, MIX_1_LO) + Math.imul(hi, MIX_1_LO) + Math.imul(lo, MIX_1_HI)) >>> 0;
    lo = Math.imul(lo, MIX_1_LO) >>> 0;
    hi = nextHi;
    // z = (z ^ (z >> 27)) * MIX_2
    lo = (lo ^ ((lo >>> 27) | (hi << 5))) >>> 0;
    hi = (hi ^ (hi >>> 27)) >>> 0;
    nextHi = (mulHigh32(lo, MIX_2_LO) + Math.imul(hi, MIX_2_LO) + Math.imul(lo, MIX_2_HI)) >>> 0;
    // (z ^ (z >> 31)) >> 40 = (hi ^ (hi >>> 31)) >>> 8
    const top24 = ((nextHi ^ (nextHi >>> 31)) >>> 8) / TWO_24;
    out[i] = 2 * top24 - 1;
  }
  return out;
}
