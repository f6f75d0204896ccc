import { describe, expect, it } from 'vitest';
import { timestepSinusoid } from './timestep-embedding';

describe('timestepSinusoid', () => {
  it.each([0, 1, 500, 999, 37.5])('is [cos(t f_j), sin(t f_j)], f_j = 10000^(-j/128), cos first, at t = %s', (t) => {
    const emb = timestepSinusoid({ timestep: t, freqDim: 256 });
    expect(emb.length).toBe(256);
    for (let j = 0; j < 128; j++) {
      const angle = t * Math.exp((-j / 128) * Math.log(10000));
      expect(Math.abs((emb[j] as number) - Math.cos(angle))).toBeLessThan(1e-7);
      expect(Math.abs((emb[128 + j] as number) - Math.sin(angle))).toBeLessThan(1e-7);
    }
  });

  it('is float32 of the float64 values (t = 999)', () => {
    const emb = timestepSinusoid({ timestep: 999, freqDim: 256 });
    expect(emb[0]).toBe(Math.fround(Math.cos(999)));
    expect(emb[128]).toBe(Math.fround(Math.sin(999)));
    expect(emb[1]).toBe(Math.fround(Math.cos(999 * 10000 ** (-1 / 128))));
    expect(Array.from(timestepSinusoid({ timestep: 0, freqDim: 4 }))).toEqual([1, 1, 0, 0]);
  });
});
