import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeTensorBytes, encodeTensorBytes, swapBytes } from './tensor-data';
import { int64ToFloat32, tensorToFloat32 } from './to-float32';

/** The float32 nearest to an integer, ties to even, found by comparing exact distances to the candidates (past 2^24 every float32 is an integer). */
function nearestFloat32(value: bigint): number {
  if (value >= -(2n ** 24n) && value <= 2n ** 24n) return Number(value); // exact in float32
  const guess = Math.fround(Number(value));
  const bits = new Uint32Array(new Float32Array([guess]).buffer)[0] as number;
  const neighbour = (step: number) => new Float32Array(new Uint32Array([bits + step]).buffer)[0] as number;
  const candidates = guess === 0 ? [0] : [neighbour(-1), guess, neighbour(1)].filter(Number.isFinite);
  const distance = (c: number) => {
    const d = BigInt(c) - value;
    return d < 0n ? -d : d;
  };
  return candidates.reduce((best, c) => {
    const db = distance(best);
    const dc = distance(c);
    if (dc < db) return c;
    if (dc > db) return best;
    return (new Uint32Array(new Float32Array([c]).buffer)[0] as number) % 2 === 0 ? c : best;
  });
}

describe('int64ToFloat32', () => {
  it('rounds any 64-bit integer once, to the nearest float32 (ties to even)', () => {
    const int64 = fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
      // Near float32 midpoints, where rounding twice goes wrong.
      fc.tuple(fc.integer({ min: 25, max: 63 }), fc.bigInt({ min: 0n, max: 2n ** 23n }), fc.integer({ min: -2, max: 2 }), fc.boolean()).map(
        ([e, m, nudge, negative]) => {
          const step = 2n ** BigInt(e - 24);
          const v = 2n ** BigInt(e) + m * 2n * step + step + BigInt(nudge);
          return negative ? -v : v;
        },
      ),
    );
    fc.assert(
      fc.property(int64, (v) => {
        expect(int64ToFloat32(v)).toBe(nearestFloat32(v));
      }),
      { numRuns: 3000 },
    );
  });

  it.each([
    [0n, 0],
    [2n ** 54n + 2n ** 30n + 1n, 2 ** 54 + 2 ** 31],
    [-(2n ** 54n + 2n ** 30n + 1n), -(2 ** 54 + 2 ** 31)],
    [2n ** 54n + 2n ** 30n, 2 ** 54],
    [2n ** 64n - 1n, 2 ** 64],
  ])('%s -> %s', (v, expected) => expect(int64ToFloat32(v)).toBe(expected));
});

describe('tensorToFloat32', () => {
  it('returns F32 data itself', () => {
    const data = new Float32Array([1, 2]);
    expect(tensorToFloat32({ dtype: 'F32', data })).toBe(data);
  });
});

describe('decodeTensorBytes', () => {
  it('decodes little-endian values at any byte offset, into memory of its own', () => {
    const file = new Uint8Array([0xaa, 0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]);
    const values = decodeTensorBytes({ dtype: 'F32', bytes: file.subarray(1) });
    expect(values).toEqual(new Float32Array([1, -2.5]));
    file[4] = 0;
    expect(values[0]).toBe(1);
    expect(decodeTensorBytes({ dtype: 'I64', bytes: new Uint8Array([1, 2, 3, 4, 5, 6, 7, 0x80, 9]).subarray(0, 8) })).toEqual(new BigInt64Array([BigInt.asIntN(64, 0x8007060504030201n)]));
  });

  it('rejects a byte count that is not a whole number of values', () => {
    expect(() => decodeTensorBytes({ dtype: 'BF16', bytes: new Uint8Array(3) })).toThrow("Invalid argument 'bytes': holds 3 bytes, not a whole number of 2-byte BF16 values");
  });

  it('encodes typed arrays as their little-endian bytes', () => {
    expect(encodeTensorBytes(new Uint16Array([0x3c00]))).toEqual(new Uint8Array([0x00, 0x3c]));
  });
});

describe('swapBytes', () => {
  it('reverses each element in place (the big-endian host path)', () => {
    const bytes = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    swapBytes(bytes, 4);
    expect(bytes).toEqual(new Uint8Array([4, 3, 2, 1, 8, 7, 6, 5]));
    swapBytes(bytes, 8);
    expect(bytes).toEqual(new Uint8Array([5, 6, 7, 8, 1, 2, 3, 4]));
    swapBytes(bytes, 1);
    expect(bytes).toEqual(new Uint8Array([5, 6, 7, 8, 1, 2, 3, 4]));
  });
});
