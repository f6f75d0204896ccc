import { describe, expect, it } from 'vitest';
import { expectSamplerError } from './_errors.test-helpers';
import { noiseFixture } from './_fixtures.test-helpers';
import { referenceGaussianNoise } from './_gaussian-noise-reference.test-helpers';
import { gaussianNoise } from './gaussian-noise';

function bits(values: Float32Array): number[] {
  return Array.from(new Uint32Array(values.buffer, values.byteOffset, values.length));
}

/** A fixture seed as gaussianNoise takes it: a number when it is safe, a bigint otherwise. */
function seedOf(text: string): number | bigint {
  const seed = BigInt(text);
  return seed <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(seed) : seed;
}

describe('gaussianNoise', () => {
  it.each(noiseFixture.cases.map((c) => [c.seed, c.offset, c] as const))(
    'gives the bits of the Python transcription for seed %s from offset %i',
    (seed, offset, expected) => {
      const values = gaussianNoise({ seed: seedOf(seed), shape: [expected.values.length], offset });
      expect(bits(values)).toEqual(expected.bits);
      expect(Array.from(values)).toEqual(expected.values);
    },
  );

  it('gives the same bits for the same seed, as a number or a bigint, in any shape', () => {
    const flat = gaussianNoise({ seed: 42, shape: [2 * 3 * 5] });
    expect(bits(gaussianNoise({ seed: 42, shape: [2 * 3 * 5] }))).toEqual(bits(flat));
    expect(bits(gaussianNoise({ seed: 42n, shape: [2, 3, 5] }))).toEqual(bits(flat));
  });

  it('gives different values for different seeds, also seeds that differ only in the high word', () => {
    const a = gaussianNoise({ seed: 1, shape: [64] });
    for (const seed of [2, 2 ** 32 + 1, 1n + (1n << 63n)]) {
      const b = gaussianNoise({ seed, shape: [64] });
      expect(a.filter((value, k) => value === b[k]).length).toBe(0);
    }
  });

  it('draws any piece of the stream on its own (offset), even and odd', () => {
    const whole = gaussianNoise({ seed: 9, shape: [41] });
    for (const [offset, length] of [[0, 41], [1, 10], [6, 7], [13, 28], [40, 1]]) {
      expect(bits(gaussianNoise({ seed: 9, shape: [length!], offset }))).toEqual(bits(whole.subarray(offset!, offset! + length!)));
    }
  });

  it('has mean 0 and standard deviation 1 over 1e5 values, and the tails of a normal distribution', () => {
    const values = gaussianNoise({ seed: 2024, shape: [100_000] });
    let sum = 0;
    for (const v of values) sum += v;
    const mean = sum / values.length;
    let squares = 0;
    let withinOne = 0;
    let withinTwo = 0;
    for (const v of values) {
      squares += (v - mean) ** 2;
      if (Math.abs(v) < 1) withinOne++;
      if (Math.abs(v) < 2) withinTwo++;
    }
    const std = Math.sqrt(squares / values.length);
    // 1e5 samples: the standard error of the mean is 0.0032, of the std 0.0022, of a fraction below 0.0015
    expect(Math.abs(mean)).toBeLessThan(0.01);
    expect(Math.abs(std - 1)).toBeLessThan(0.01);
    expect(Math.abs(withinOne / values.length - 0.682689)).toBeLessThan(0.005);
    expect(Math.abs(withinTwo / values.length - 0.954500)).toBeLessThan(0.005);
  });

  it("has the Python transcription's mean and std on its first 20000 values", () => {
    const values = gaussianNoise({ seed: 2024, shape: [noiseFixture.seed2024.count] });
    const mean = values.reduce((s, v) => s + v, 0) / values.length;
    const std = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
    expect(mean).toBeCloseTo(noiseFixture.seed2024.mean, 12);
    expect(std).toBeCloseTo(noiseFixture.seed2024.std, 12);
  });

  it.each([
    ['seed -1', { seed: -1 }, 'sampler: seed is -1: expected an integer in [0, 2^64): a number up to 2^53 - 1 or a bigint'],
    ['seed 1.5', { seed: 1.5 }, 'sampler: seed is 1.5: expected an integer in [0, 2^64): a number up to 2^53 - 1 or a bigint'],
    ['seed 2 ** 53', { seed: 2 ** 53 }, 'sampler: seed is 9007199254740992: expected an integer in [0, 2^64): a number up to 2^53 - 1 or a bigint'],
    ['seed -1n', { seed: -1n }, 'sampler: seed is -1n: expected an integer in [0, 2^64): a number up to 2^53 - 1 or a bigint'],
    ['seed 1n << 64n', { seed: 1n << 64n }, 'sampler: seed is 18446744073709551616n: expected an integer in [0, 2^64): a number up to 2^53 - 1 or a bigint'],
    ["seed '7'", { seed: '7' }, 'sampler: seed is "7": expected an integer in [0, 2^64): a number up to 2^53 - 1 or a bigint'],
    ['shape []', { shape: [] }, 'sampler: shape is []: expected a non-empty array of positive integers'],
    ['shape [4, 0]', { shape: [4, 0] }, 'sampler: shape[1] is 0: expected a positive integer'],
    ['shape [2.5]', { shape: [2.5] }, 'sampler: shape[0] is 2.5: expected a positive integer'],
    ['offset -1', { offset: -1 }, 'sampler: offset is -1: expected an integer >= 0 with offset + size <= 2^53 - 1'],
    ['offset 2 ** 53 - 4', { offset: 2 ** 53 - 4 }, 'sampler: offset is 9007199254740988: expected an integer >= 0 with offset + size <= 2^53 - 1'],
  ])('rejects %s', async (_, options, message) => {
    await expectSamplerError(() => gaussianNoise({ seed: 0, shape: [4], ...options } as never), { name: 'SamplerOptionError', message });
  });
});

describe('gaussianNoise against the implementation before its fast path', () => {
  /** The seed as gaussianNoise takes it and the Philox key the reference takes. */
  const seeds: [number | bigint, readonly [number, number]][] = [
    [0, [0, 0]],
    [1, [1, 0]],
    [42, [42, 0]],
    [0xffffffff, [0xffffffff, 0]],
    [2 ** 32, [0, 1]],
    [Number.MAX_SAFE_INTEGER, [0xffffffff, 0x1fffff]],
    [(1n << 64n) - 1n, [0xffffffff, 0xffffffff]],
    [0xdeadbeefn + (0x9e3779b9n << 32n), [0xdeadbeef, 0x9e3779b9]],
  ];
  const TWO_33 = 2 ** 33;

  it.each(seeds)('gives the same bits for seed %s at every small offset and ragged length', (seed, key) => {
    for (let offset = 0; offset < 9; offset++) {
      for (let length = 1; length <= 19; length++) {
        const fast = gaussianNoise({ seed, shape: [length], offset });
        expect(bits(fast), `offset ${offset} length ${length}`).toEqual(bits(referenceGaussianNoise({ key, size: length, offset })));
      }
    }
  });

  it.each([
    ['1 000 003 values from 0', 0, [1_000_003]],
    ['a ragged 3-D tensor from an odd offset', 12_345, [7, 13, 11]],
    ['a 4-D latent piece from an even offset', 2 ** 31, [2, 3, 9, 16]],
    // the pair counter's low word wraps to 0 and its high word carries, at an odd and an even start
    ['values across the counter word carry (odd start)', TWO_33 - 7, [15]],
    ['values across the counter word carry (even start)', TWO_33 - 8, [16]],
    ['values across the second carry', 2 * TWO_33 - 3, [6]],
    ['the last values of the index range', Number.MAX_SAFE_INTEGER - 11, [11]],
  ])('gives the same bits for %s', (_, offset, shape) => {
    const size = shape.reduce((a, b) => a * b, 1);
    for (const [seed, key] of seeds.slice(0, 3).concat(seeds.slice(6))) {
      expect(bits(gaussianNoise({ seed, shape, offset }))).toEqual(bits(referenceGaussianNoise({ key, size, offset })));
    }
  });

  it('gives the same bits for 200 random seeds, offsets and lengths', () => {
    let state = 12345;
    const next = () => (state = (Math.imul(state, 1664525) + 1013904223) >>> 0);
    for (let trial = 0; trial < 200; trial++) {
      const key = [next(), (next() & (trial % 2 ? 0xffffffff : 0x1fffff)) >>> 0] as const;
      const seed = trial % 2 ? BigInt(key[0]) + (BigInt(key[1]) << 32n) : key[0] + key[1] * 2 ** 32;
      const offset = trial % 3 === 0 ? next() % 64 : next() * 2 ** (next() % 20);
      const length = 1 + (next() % 300);
      expect(bits(gaussianNoise({ seed, shape: [length], offset })), `trial ${trial}`).toEqual(bits(referenceGaussianNoise({ key, size: length, offset })));
    }
  });
});
