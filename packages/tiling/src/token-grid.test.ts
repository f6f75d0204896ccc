import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { createTokenGrid, tokenCoords, tokenIndex, WAN_480P_GRID, WAN_720P_GRID } from './token-grid';

describe('createTokenGrid', () => {
  it.each([
    [{ frames: 21, height: 30, width: 52 }, 32_760],
    [{ frames: 21, height: 45, width: 80 }, 75_600],
    [{ frames: 1, height: 1, width: 1 }, 1],
    [{ frames: 1, height: 7, width: 13 }, 91],
  ])('counts the tokens of %o', (dims, tokens) => {
    expect(createTokenGrid(dims).numTokens).toBe(tokens);
  });

  it('matches the Wan constants', () => {
    expect(createTokenGrid(WAN_480P_GRID)).toEqual(WAN_480P_GRID);
    expect(createTokenGrid(WAN_720P_GRID)).toEqual(WAN_720P_GRID);
  });

  it.each([
    ['grid.frames', { frames: 0, height: 2, width: 2 }, 0],
    ['grid.height', { frames: 1, height: -3, width: 2 }, -3],
    ['grid.width', { frames: 1, height: 2, width: 2.5 }, 2.5],
    ['grid.frames', { frames: Number.NaN, height: 2, width: 2 }, Number.NaN],
    ['grid.width', { frames: 1, height: 2, width: Infinity }, Infinity],
  ])('rejects a bad %s, naming it and its value', (argument, dims, value) => {
    const error = (() => {
      try {
        createTokenGrid(dims);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe(argument);
    expect((error as InvalidArgumentError).value).toBe(value);
    expect((error as Error).message).toContain(argument);
    expect((error as Error).message).toContain(String(value));
  });

  it('rejects grids whose indices overflow Int32', () => {
    expect(() => createTokenGrid({ frames: 2048, height: 1024, width: 1024 })).toThrow(/Int32/);
  });
});

describe('tokenIndex / tokenCoords', () => {
  it('uses Wan raster order: w fastest, then h, then t', () => {
    const grid = createTokenGrid({ frames: 3, height: 4, width: 5 });
    expect(tokenIndex({ grid, coords: [0, 0, 1] })).toBe(1);
    expect(tokenIndex({ grid, coords: [0, 1, 0] })).toBe(5);
    expect(tokenIndex({ grid, coords: [1, 0, 0] })).toBe(20);
    for (let r = 0; r < grid.numTokens; r++) {
      const [t, h, w] = tokenCoords({ grid, token: r });
      expect(tokenIndex({ grid, coords: [t, h, w] })).toBe(r);
    }
  });
});
