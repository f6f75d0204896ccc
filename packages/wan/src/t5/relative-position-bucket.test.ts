import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { relativePositionBucket, relativePositionBuckets } from './relative-position-bucket';

/**
 * A brute-force transcription for umT5's 32 buckets and max distance 128, in integers only: for n >= 8 the reference's
 * trunc(log(n / 8) / log(16) * 8) is trunc(2 log2(n / 8)), the largest j with 8 * 2^(j / 2) <= n, i.e. n^2 >= 64 * 2^j.
 */
function bruteForceBucket(relativePosition: number): number {
  const base = relativePosition > 0 ? 16 : 0;
  const n = Math.abs(relativePosition);
  if (n < 8) return base + n;
  let j = 0;
  while (j < 7 && n * n >= 64 * 2 ** (j + 1)) j++;
  return base + 8 + j;
}

const umt5 = { numBuckets: 32, maxDistance: 128 };

/** fixtures/relative-position-buckets.json: the reference's float32 torch code over a range (oracle/umt5_encoder.py). */
interface BucketTable {
  min: number;
  max: number;
  bidirectional: number[];
  unidirectional: number[];
}
const TABLE = new URL('./fixtures/relative-position-buckets.json', import.meta.url);

describe('relativePositionBucket', () => {
  it('matches the brute-force transcription for every relative position in [-300, 300]', () => {
    for (let r = -300; r <= 300; r++) expect([r, relativePositionBucket({ relativePosition: r, ...umt5 })]).toEqual([r, bruteForceBucket(r)]);
  });

  it.each([
    [0, 0],
    [-7, 7],
    [7, 23],
    [-8, 8],
    [-11, 8],
    [-12, 9],
    [-16, 10],
    [16, 26],
    [-32, 12],
    [-64, 14],
    [-127, 15],
    [-128, 15],
    [1000, 31],
  ])('puts key - query = %i in bucket %i', (relativePosition, bucket) => {
    expect(relativePositionBucket({ relativePosition, ...umt5 })).toBe(bucket);
  });

  it.skipIf(!existsSync(TABLE))("equals the reference's float32 torch computation on [-600, 600], both directions", () => {
    const table = JSON.parse(readFileSync(TABLE, 'utf8')) as BucketTable;
    const ours = (bidirectional: boolean): number[] =>
      Array.from({ length: table.max - table.min + 1 }, (_, i) => relativePositionBucket({ relativePosition: table.min + i, ...umt5, bidirectional }));
    expect(ours(true)).toEqual(table.bidirectional);
    expect(ours(false)).toEqual(table.unidirectional);
  });
});

describe('relativePositionBuckets', () => {
  it('holds bucket(j - i) at [i * length + j]', () => {
    const length = 150;
    const table = relativePositionBuckets({ length, ...umt5 });
    for (const [i, j] of [
      [0, 0],
      [0, 149],
      [149, 0],
      [20, 31],
      [31, 20],
    ] as const) {
      expect(table[i * length + j]).toBe(bruteForceBucket(j - i));
    }
  });
});
