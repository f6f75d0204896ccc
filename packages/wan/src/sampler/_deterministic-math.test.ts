import { describe, expect, it } from 'vitest';
import { deterministicCos2Pi, deterministicLog, deterministicSin2Pi } from './_deterministic-math';

const ULP_1 = 2 ** -52;

describe('deterministicLog', () => {
  it('agrees with Math.log to a few ulps on (0, 1] and beyond', () => {
    const inputs = [2 ** -53, 1e-16, 1e-9, 0.001, 0.1, 0.3, 0.5, 0.7071067811865476, 0.7071067811865477, 0.75, 0.999999, 1, 1.5, 2, 1e10];
    for (let k = 1; k <= 2000; k++) inputs.push(k / 2001, (k / 2001) ** 7);
    for (const u of inputs) {
      expect(Math.abs(deterministicLog(u) - Math.log(u)), `u = ${u}`).toBeLessThanOrEqual(4 * ULP_1 * Math.max(1, Math.abs(Math.log(u))));
    }
  });

  it('is exact at powers of two and at 1', () => {
    expect(deterministicLog(1)).toBe(0);
    expect(deterministicLog(0.5)).toBe(-0.6931471805599453);
  });
});

describe('deterministicSin2Pi and deterministicCos2Pi', () => {
  it('agree with Math.sin and Math.cos of 2 pi u to 1e-15 on [0, 1)', () => {
    for (let k = 0; k < 4096; k++) {
      const u = k / 4096 + 1 / 65536 / 3;
      expect(Math.abs(deterministicSin2Pi(u) - Math.sin(2 * Math.PI * u)), `u = ${u}`).toBeLessThan(1e-15);
      expect(Math.abs(deterministicCos2Pi(u) - Math.cos(2 * Math.PI * u)), `u = ${u}`).toBeLessThan(1e-15);
    }
  });

  it('hits the axes exactly at the quarter turns', () => {
    expect([0, 0.25, 0.5, 0.75].map(deterministicSin2Pi)).toEqual([0, 1, -0, -1]);
    expect([0, 0.25, 0.5, 0.75].map(deterministicCos2Pi)).toEqual([1, -0, -1, 0]);
  });
});
