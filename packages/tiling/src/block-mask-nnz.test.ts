import { InvalidArgumentError } from '@fpsattn/fp8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyWindow, smallGrid, smallTile, runs } from './_arbitraries.test-helpers';
import { buildBlockMask } from './block-mask';
import { blockMaskNnz } from './block-mask-nnz';
import { createTileLayout } from './tile-layout';
import { WAN_480P_GRID, WAN_720P_GRID } from './token-grid';

describe('blockMaskNnz', () => {
  it('equals the nnz of the built mask (random grids, tiles and windows)', () => {
    fc.assert(
      fc.property(smallGrid, smallTile, anyWindow, (grid, tile, window) => {
        expect(blockMaskNnz({ grid, tile, window })).toBe(buildBlockMask({ layout: createTileLayout({ grid, tile }), window }).nnz);
      }),
      { numRuns: runs(400) },
    );
  });

  it.each([
    // grid, tile, window, nnz
    [WAN_720P_GRID, [3, 5, 8], { kind: 'clamped', tiles: [3, 5, 5] }, 630 * 75],
    [WAN_480P_GRID, [3, 10, 4], { kind: 'clamped', tiles: [3, 1, 7] }, 273 * 21],
    [WAN_720P_GRID, [3, 5, 8], { kind: 'full' }, 630 * 630],
    [WAN_720P_GRID, [1, 1, 1], { kind: 'clamped', tiles: [21, 45, 80] }, 75_600 * 75_600],
    [{ frames: 1, height: 1, width: 5 }, [1, 1, 1], { kind: 'seed', tokens: [1, 1, 2] }, 5 + 2 * 4],
  ] as const)('counts %o / %o / %o without building: %i', (grid, tile, window, nnz) => {
    expect(blockMaskNnz({ grid, tile, window })).toBe(nnz);
  });

  it.each([
    ['grid.width', { grid: { frames: 1, height: 1, width: 0 }, tile: [1, 1, 1], window: { kind: 'full' } }],
    ['tile[1]', { grid: { frames: 1, height: 1, width: 1 }, tile: [1, Number.NaN, 1], window: { kind: 'full' } }],
    ['window.kind', { grid: { frames: 1, height: 1, width: 1 }, tile: [1, 1, 1], window: { kind: 'bogus' } }],
  ])('names %s when invalid', (argument, options) => {
    expect(() => blockMaskNnz(options as never)).toThrow(InvalidArgumentError);
    expect(() => blockMaskNnz(options as never)).toThrow(`'${argument}'`);
  });
});
