import { deterministicLog, deterministicSinCos2PiInto } from './_deterministic-math';
import { philox4x32_10Words } from './_philox4x32';
import { checkShape } from './_validate';
import { SamplerOptionError } from './errors';
import type { NoiseSeed } from './types';

export interface GaussianNoiseOptions {
  /** An integer in [0, 2^64): a number up to 2^53 - 1, or a bigint. */
  seed: NoiseSeed;
  /** The shape of the tensor; the values fill it in row-major (C) order. */
  shape: readonly number[];
  /**
   * The flat index of the first value in the seed's stream; default 0. `gaussianNoise({ seed, shape: [n], offset })`
   * equals elements offset .. offset + n - 1 of a larger call, so a tensor can be drawn in pieces (one per device).
   */
  offset?: number;
}

const TWO_26 = 0x4000000;
const TWO_32 = 0x100000000;
const TWO_53 = 9007199254740992;
const TWO_64 = 1n << 64n;

/**
 * Standard normal float32 values, the same bits for the same seed on every machine and backend (counter-based; no
 * state, so any element can be computed on its own). Not bit-compatible with `torch.randn`, which the reference uses
 * for its initial noise (4.4); pass the reference's noise to `sample` as `noise` to reproduce one of its runs.
 *
 * Element n of the stream of `seed`:
 * ```
 * key          = [seed mod 2^32, floor(seed / 2^32)]                      # 64-bit seed
 * j            = floor(n / 2)                                             # two values per block
 * [w0, w1, w2, w3] = Philox4x32-10(counter = [j mod 2^32, floor(j / 2^32), 0, 0], key)
 * u1           = ((w0 >>> 5) * 2^26 + (w1 >>> 6) + 1) / 2^53              # 53-bit uniform in (0, 1]
 * u2           = ((w2 >>> 5) * 2^26 + (w3 >>> 6)) / 2^53                  # 53-bit uniform in [0, 1)
 * r            = sqrt(-2 ln u1)                                           # Box-Muller, float64
 * value        = float32(n even ? r cos(2 pi u2) : r sin(2 pi u2))
 * ```
 * ln, sin and cos are computed from + - * / in a fixed order (`_deterministic-math.ts`), sqrt is correctly rounded by
 * IEEE 754: so every step is reproducible bit for bit, and `fixtures/make_fixtures.py` transcribes it in Python.
 */
export function gaussianNoise(options: GaussianNoiseOptions): Float32Array {
  const key = seedKey(options.seed);
  const size = checkShape({ option: 'shape', shape: options.shape });
  const offset = options.offset ?? 0;
  if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0 || offset + size > Number.MAX_SAFE_INTEGER) {
    throw new SamplerOptionError({ option: 'offset', value: offset, rule: 'expected an integer >= 0 with offset + size <= 2^53 - 1' });
  }

  return fillNoise({ key, values: new Float32Array(size), offset });
}

/** Pairs per chunk of fillNoise's passes: the chunk's scratch (5 float64 arrays, 40 KB) stays in L1/L2. */
const CHUNK_PAIRS = 1024;

/**
 * Fills `values` with elements offset .. offset + values.length - 1 of the stream, in chunks of pairs (2q, 2q + 1),
 * each chunk in passes: Philox to uniforms, radii, angles, then the products and stores. Every value is computed by
 * the same operations as one pair at a time; the passes only let the CPU overlap the long dependency chains (Horner
 * polynomials, Philox rounds) of neighbouring pairs, which a per-pair loop body of ~400 instructions hides from it.
 */
function fillNoise(options: { key: Uint32Array; values: Float32Array; offset: number }): Float32Array {
  const { key, values, offset } = options;
  const size = values.length;
  const firstPair = Math.floor(offset / 2);
  const pairCount = Math.floor((offset + size - 1) / 2) - firstPair + 1;
  const u1 = new Float64Array(CHUNK_PAIRS);
  const u2 = new Float64Array(CHUNK_PAIRS);
  const radius = new Float64Array(CHUNK_PAIRS);
  const sin = new Float64Array(CHUNK_PAIRS);
  const cos = new Float64Array(CHUNK_PAIRS);
  for (let done = 0; done < pairCount; done += CHUNK_PAIRS) {
    const count = Math.min(CHUNK_PAIRS, pairCount - done);
    uniformPairs({ key, pair: firstPair + done, count, u1, u2 });
    for (let i = 0; i < count; i++) radius[i] = Math.sqrt(-2 * deterministicLog(u1[i]!));
    deterministicSinCos2PiInto({ u: u2, count, sin, cos });
    const start = 2 * (firstPair + done) - offset; // the index of the chunk's first r cos: -1 for an odd offset
    const piece = values.subarray(Math.max(start, 0), Math.min(start + 2 * count, size));
    storePairs({ piece, first: start < 0 ? -1 : 0, radius, sin, cos, count });
  }
  return values;
}

/**
 * piece[2i + first] = r cos and piece[2i + first + 1] = r sin of the chunk's pair i, rounded to float32; the first
 * (odd offset) and last (odd end) pair may have only one of them inside the piece. Indices relative to the piece stay
 * small integers for V8, however far into a large tensor the chunk lies.
 */
function storePairs(options: { piece: Float32Array; first: number; radius: Float64Array; sin: Float64Array; cos: Float64Array; count: number }): void {
  const { piece, first, radius, sin, cos, count } = options;
  const length = piece.length;
  for (let i = 0, at = first; i < count; i++, at += 2) {
    if (at >= 0) piece[at] = radius[i]! * cos[i]!;
    if (at + 1 < length) piece[at + 1] = radius[i]! * sin[i]!;
  }
}

/**
 * u1 (in (0, 1]) and u2 (in [0, 1)) of `count` pairs from `pair` on (the doc comment of gaussianNoise): one Philox
 * block each, its counter [pair mod 2^32, floor(pair / 2^32), 0, 0] carried as two incremented words.
 */
function uniformPairs(options: { key: Uint32Array; pair: number; count: number; u1: Float64Array; u2: Float64Array }): void {
  const { key, pair, count, u1, u2 } = options;
  const block = new Uint32Array(4);
  const k0 = key[0]!;
  const k1 = key[1]!;
  let c0 = pair % TWO_32;
  let c1 = Math.floor(pair / TWO_32);
  for (let i = 0; i < count; i++) {
    philox4x32_10Words(c0, c1, 0, 0, k0, k1, block);
    u1[i] = ((block[0]! >>> 5) * TWO_26 + (block[1]! >>> 6) + 1) / TWO_53;
    u2[i] = ((block[2]! >>> 5) * TWO_26 + (block[3]! >>> 6)) / TWO_53;
    c0 = (c0 + 1) >>> 0;
    if (c0 === 0) c1 = c1 + 1;
  }
}

/** The Philox key [low word, high word] of a seed in [0, 2^64). */
function seedKey(seed: unknown): Uint32Array {
  if (typeof seed === 'bigint' && seed >= 0n && seed < TWO_64) {
    return Uint32Array.of(Number(seed & 0xffffffffn), Number(seed >> 32n));
  }
  if (typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0) {
    return Uint32Array.of(seed % TWO_32, Math.floor(seed / TWO_32));
  }
  throw new SamplerOptionError({ option: 'seed', value: seed, rule: 'expected an integer in [0, 2^64): a number up to 2^53 - 1 or a bigint' });
}
