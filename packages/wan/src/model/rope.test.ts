import { describe, expect, it } from 'vitest';
import { applyRope, ropeAxisPairs, ropeTable } from './rope';

describe('ropeAxisPairs', () => {
  it.each([
    [128, [22, 21, 21]],
    [12, [2, 2, 2]],
    [64, [12, 10, 10]],
  ])('splits head dim %i into %j pairs (t, h, w)', (headDim, pairs) => {
    expect(ropeAxisPairs(headDim)).toEqual(pairs);
  });
});

describe('ropeTable', () => {
  // wan21-architecture.md 1.3, the formulas written out: angle = f 10000^(-2j/44), h 10000^(-2(j-22)/42), w 10000^(-2(j-43)/42).
  const direct = (f: number, h: number, w: number, j: number): number =>
    j < 22 ? f * 10000 ** (-(2 * j) / 44) : j < 43 ? h * 10000 ** (-(2 * (j - 22)) / 42) : w * 10000 ** (-(2 * (j - 43)) / 42);

  it('turns pair j of token (f, h, w) by the angle of its axis, tokens raster-ordered', () => {
    const grid = [3, 4, 5] as const;
    const table = ropeTable({ headDim: 128, grid });
    expect(table.tokens).toBe(60);
    expect(table.pairs).toBe(64);
    let worst = 0;
    for (let s = 0; s < 60; s++) {
      const [f, h, w] = [Math.floor(s / 20), Math.floor(s / 5) % 4, s % 5];
      for (let j = 0; j < 64; j++) {
        const angle = direct(f, h, w, j);
        worst = Math.max(worst, Math.abs((table.cos[s * 64 + j] as number) - Math.cos(angle)), Math.abs((table.sin[s * 64 + j] as number) - Math.sin(angle)));
      }
    }
    expect(worst).toBeLessThan(1e-12);
    // token (2, 3, 4) = s 59: pair 0 turns by f, pair 22 by h, pair 43 by w (frequency 1)
    expect(Math.acos(table.cos[59 * 64] as number)).toBeCloseTo(2, 12);
    expect(Math.acos(table.cos[59 * 64 + 22] as number)).toBeCloseTo(3, 12);
    expect(table.sin[59 * 64 + 43]).toBe(Math.sin(4));
  });
});

describe('applyRope', () => {
  it('rotates adjacent pairs of every head in float64 and rounds to float32', () => {
    const grid = [2, 2, 3] as const;
    const table = ropeTable({ headDim: 128, grid });
    const x = Float32Array.from({ length: 12 * 256 }, (_, i) => Math.sin(i * 0.37));
    const rotated = applyRope({ x: x.slice(), numHeads: 2, table });
    for (const [s, head, j] of [
      [0, 0, 0],
      [11, 1, 22],
      [7, 0, 63],
      [5, 1, 40],
    ] as const) {
      const at = s * 256 + head * 128 + 2 * j;
      const [f, h, w] = [Math.floor(s / 6), Math.floor(s / 3) % 2, s % 3];
      const angle = j < 22 ? f * 10000 ** (-(2 * j) / 44) : j < 43 ? h * 10000 ** (-(2 * (j - 22)) / 42) : w * 10000 ** (-(2 * (j - 43)) / 42);
      const [x0, x1] = [x[at] as number, x[at + 1] as number];
      expect(rotated[at]).toBeCloseTo(Math.fround(x0 * Math.cos(angle) - x1 * Math.sin(angle)), 7);
      expect(rotated[at + 1]).toBeCloseTo(Math.fround(x0 * Math.sin(angle) + x1 * Math.cos(angle)), 7);
    }
    // token 0 is at position (0, 0, 0): not turned at all
    expect(rotated.subarray(0, 256)).toEqual(x.subarray(0, 256));
  });
});
