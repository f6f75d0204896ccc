import { describe, expect, it } from 'vitest';
import { roundToBfloat16 } from './_bfloat16';

describe('roundToBfloat16', () => {
  it.each([
    [1, 1],
    [1 + 2 ** -8, 1], // a tie: to the even neighbour 1
    [1 + 3 * 2 ** -8, 1 + 2 ** -6], // a tie: to the even neighbour 1 + 2^-6
    [1 + 2 ** -8 + 2 ** -20, 1 + 2 ** -7], // just above the tie
    [-0.044715, -0.044677734375],
    [Math.sqrt(2 / Math.PI), 0.796875],
    [3.4e38, Infinity], // past the largest bfloat16 (about 3.39e38)
    [Infinity, Infinity],
  ])('rounds %d to %d', (x, expected) => {
    expect(roundToBfloat16(x)).toBe(expected);
  });

  it('keeps NaN', () => {
    expect(roundToBfloat16(Number.NaN)).toBeNaN();
  });
});
