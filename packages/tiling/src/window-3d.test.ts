import { InvalidArgumentError } from '@fpsattn/fp8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyWindow, runs } from './_arbitraries.test-helpers';
import { createTileLayout } from './tile-layout';
import { bruteForceAxisInWindow } from './testing';
import { seedHalfWidths, validateWindow, windowAxisRange, windowKey, windowRanges, type WindowSpec } from './window-3d';

describe('seedHalfWidths', () => {
  it.each([
    // tokens, tile, half-widths = floor(W / 2T)
    [[6, 10, 16], [3, 5, 8], [1, 1, 1]],
    [[5, 9, 15], [3, 5, 8], [0, 0, 0]],
    [[12, 20, 32], [3, 5, 8], [2, 2, 2]],
    [[11, 19, 31], [3, 5, 8], [1, 1, 1]],
    [[1, 1, 1], [1, 1, 1], [0, 0, 0]],
    [[2, 3, 4], [1, 1, 1], [1, 1, 2]],
  ] as const)('window %o tokens with tile %o has half-widths %o tiles', (tokens, tile, half) => {
    expect(seedHalfWidths({ tokens, tile })).toEqual(half);
  });
});

describe('windowAxisRange', () => {
  const seed = (w: number): WindowSpec => ({ kind: 'seed', tokens: [w, w, w] });
  const clamped = (w: number): WindowSpec => ({ kind: 'clamped', tiles: [w, w, w] });
  it.each([
    // window, tile size, numTiles, center, [start, end)
    ['seed W=4 T=1, interior', seed(4), 1, 10, 5, [3, 8]],
    ['seed W=4 T=1, truncated at 0', seed(4), 1, 10, 0, [0, 3]],
    ['seed W=4 T=1, truncated at the end', seed(4), 1, 10, 9, [7, 10]],
    ['seed W=5 T=1 (floor 2.5 = 2)', seed(5), 1, 10, 5, [3, 8]],
    ['seed W=3 T=2 (floor 0.75 = 0): own tile only', seed(3), 2, 10, 5, [5, 6]],
    ['seed W larger than the grid', seed(100), 1, 4, 1, [0, 4]],
    ['clamped w=3, interior', clamped(3), 1, 10, 5, [4, 7]],
    ['clamped w=3, clamped at 0', clamped(3), 1, 10, 0, [0, 3]],
    ['clamped w=3, clamped at the end', clamped(3), 1, 10, 9, [7, 10]],
    ['clamped w=4 (even: c-2 .. c+1)', clamped(4), 1, 10, 5, [3, 7]],
    ['clamped w=4 at the end', clamped(4), 1, 10, 9, [6, 10]],
    ['clamped w=1: own tile', clamped(1), 1, 10, 4, [4, 5]],
    ['clamped w = numTiles', clamped(5), 1, 5, 0, [0, 5]],
    ['clamped w > numTiles clamps to the axis', clamped(9), 1, 5, 3, [0, 5]],
    ['full', { kind: 'full' } as WindowSpec, 1, 6, 2, [0, 6]],
  ] as const)('%s', (_name, window, tile, numTiles, center, range) => {
    expect(windowAxisRange({ window, axis: 0, center, numTiles, tile })).toEqual(range);
  });

  it('agrees with the brute-force definition on random axes', () => {
    fc.assert(
      fc.property(anyWindow, fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 4 }), fc.constantFrom(0, 1, 2), (window, numTiles, tile, axis) => {
        for (let c = 0; c < numTiles; c++) {
          const [s, e] = windowAxisRange({ window, axis, center: c, numTiles, tile });
          for (let k = 0; k < numTiles; k++) {
            expect(k >= s && k < e).toBe(bruteForceAxisInWindow({ window, axis, q: c, k, numTiles, tile }));
          }
          if (window.kind === 'clamped') expect(e - s).toBe(Math.min(window.tiles[axis], numTiles));
        }
      }),
      { numRuns: runs(300) },
    );
  });
});

describe('windowRanges', () => {
  it('gives the per-axis box of a query tile', () => {
    const layout = createTileLayout({ grid: { frames: 21, height: 45, width: 80 }, tile: [3, 5, 8] });
    expect(windowRanges({ layout, window: { kind: 'clamped', tiles: [3, 3, 5] }, queryTile: [0, 4, 9] })).toEqual({
      start: [0, 3, 5],
      end: [3, 6, 10],
    });
  });
});

describe('validateWindow', () => {
  it.each([
    [{ kind: 'seed', tokens: [0, 4, 4] }, 'window.tokens[0]', 0],
    [{ kind: 'seed', tokens: [4, 4] }, 'window.tokens', [4, 4]],
    [{ kind: 'clamped', tiles: [3, -1, 3] }, 'window.tiles[1]', -1],
    [{ kind: 'clamped', tiles: [3, 3, 2.5] }, 'window.tiles[2]', 2.5],
    [{ kind: 'sliding', tiles: [3, 3, 3] }, 'window.kind', 'sliding'],
  ])('rejects %o naming %s', (window, argument, value) => {
    try {
      validateWindow(window as WindowSpec);
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).argument).toBe(argument);
      expect((e as InvalidArgumentError).value).toEqual(value);
    }
  });

  it('lists the allowed kinds', () => {
    expect(() => validateWindow({ kind: 'nope' } as never)).toThrow(/'seed', 'clamped', 'full'/);
  });
});

describe('windowKey', () => {
  it.each([
    [{ kind: 'seed', tokens: [6, 10, 16] }, 'seed:6x10x16'],
    [{ kind: 'clamped', tiles: [3, 3, 5] }, 'clamped:3x3x5'],
    [{ kind: 'full' }, 'full'],
  ] as const)('keys %o as %s', (window, key) => {
    expect(windowKey(window)).toBe(key);
  });
});
