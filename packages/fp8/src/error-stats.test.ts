import { describe, expect, it } from 'vitest';
import { errorStats } from './error-stats';

describe('errorStats', () => {
  it('computes the four statistics of a hand-worked example', () => {
    // ref = (3, 4), approx = (3, 5): diff = (0, 1)
    const s = errorStats({ reference: [3, 4], approx: [3, 5] });
    expect(s.relativeL2).toBeCloseTo(1 / 5, 15);
    expect(s.cosine).toBeCloseTo((9 + 20) / (5 * Math.sqrt(34)), 15);
    expect(s.maxAbsError).toBe(1);
    expect(s.snrDb).toBeCloseTo(10 * Math.log10(25), 12);
  });

  it('reports an exact match as zero error and infinite SNR', () => {
    const s = errorStats({ reference: Float32Array.of(1, -2), approx: Float64Array.of(1, -2) });
    expect(s).toMatchObject({ relativeL2: 0, cosine: 1, maxAbsError: 0, snrDb: Infinity, nonFiniteCount: 0 });
  });

  it('does not hide a NaN: it is counted and turns the statistics to NaN', () => {
    const s = errorStats({ reference: [1, 2, 3], approx: [1, Number.NaN, 3] });
    expect(s.nonFiniteCount).toBe(1);
    expect(s.relativeL2).toBeNaN();
  });

  it('rejects arrays of different lengths', () => {
    expect(() => errorStats({ reference: [1, 2], approx: [1] })).toThrow(/'approx': expected length 2, got length 1/);
  });
});
