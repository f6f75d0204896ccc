import { deterministicCos2Pi, deterministicLog, deterministicSin2Pi } from './_deterministic-math';
import { philox4x32_10 } from './_philox4x32';
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

  const values = new Float32Array(size);
  const counter = new Uint32Array(4);
  const block = new Uint32Array(4);
  const end = offset + size;
  for (let n = offset; n < end; ) {
    const j = Math.floor(n / 2);
    counter[0] = j % TWO_32;
    counter[1] = Math.floor(j / TWO_32);
    philox4x32_10({ counter, key, out: block });
    const u1 = ((block[0]! >>> 5) * TWO_26 + (block[1]! >>> 6) + 1) / TWO_53;
    const u2 = ((block[2]! >>> 5) * TWO_26 + (block[3]! >>> 6)) / TWO_53;
    const r = Math.sqrt(-2 * deterministicLog(u1));
    if (n % 2 === 0) {
      values[n - offset] = r * deterministicCos2Pi(u2);
      if (n + 1 < end) values[n + 1 - offset] = r * deterministicSin2Pi(u2);
      n += 2;
    } else {
      values[n - offset] = r * deterministicSin2Pi(u2);
      n += 1;
    }
  }
  return values;
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
