import { InvalidArgumentError } from '@fpsattn/fp8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { smallGrid, smallTile, runs } from './_arbitraries.test-helpers';
import { createTileLayout, tileCoords, tileIndex, tileOfToken } from './tile-layout';
import { bruteForceTileId } from './testing';

describe('createTileLayout', () => {
  it.each([
    // grid, tile, tilesPerAxis, numTiles
    [{ frames: 21, height: 45, width: 80 }, [3, 5, 8], [7, 9, 10], 630],
    [{ frames: 21, height: 30, width: 52 }, [3, 5, 8], [7, 6, 7], 294],
    [{ frames: 21, height: 30, width: 52 }, [3, 10, 4], [7, 3, 13], 273],
    [{ frames: 21, height: 45, width: 80 }, [6, 8, 8], [4, 6, 10], 240],
    [{ frames: 1, height: 7, width: 9 }, [3, 4, 4], [1, 2, 3], 6],
    [{ frames: 2, height: 2, width: 2 }, [5, 5, 5], [1, 1, 1], 1],
  ] as const)('cuts %o into %o tiles', (grid, tile, perAxis, numTiles) => {
    const layout = createTileLayout({ grid, tile });
    expect(layout.tilesPerAxis).toEqual(perAxis);
    expect(layout.numTiles).toBe(numTiles);
    expect(layout.tileOffsets[numTiles]).toBe(grid.frames * grid.height * grid.width);
  });

  it('gives partial edge tiles only their real tokens', () => {
    const layout = createTileLayout({ grid: { frames: 1, height: 7, width: 9 }, tile: [3, 4, 4] });
    // rows of 4 then 3, columns of 4, 4, 1
    expect([...layout.tileSizes]).toEqual([16, 16, 4, 12, 12, 3]);
    expect([...layout.tileOffsets]).toEqual([0, 16, 32, 36, 48, 60, 63]);
  });

  it('agrees with brute-force tile ids and sizes on random grids', () => {
    fc.assert(
      fc.property(smallGrid, smallTile, (grid, tile) => {
        const layout = createTileLayout({ grid, tile });
        const n = grid.frames * grid.height * grid.width;
        const sizes = new Array<number>(layout.numTiles).fill(0);
        for (let r = 0; r < n; r++) {
          const id = bruteForceTileId({ grid, tile, token: r });
          expect(tileOfToken({ layout, token: r })).toBe(id);
          sizes[id]!++;
        }
        expect([...layout.tileSizes]).toEqual(sizes);
        for (let u = 0; u < layout.numTiles; u++) {
          const [ct, ch, cw] = tileCoords({ layout, tile: u });
          expect(tileIndex({ layout, coords: [ct, ch, cw] })).toBe(u);
        }
      }),
      { numRuns: runs(200) },
    );
  });

  it.each([
    ['tile[0]', [0, 4, 4], 0],
    ['tile[1]', [1, -1, 4], -1],
    ['tile[2]', [1, 1, 1.5], 1.5],
  ] as const)('rejects a bad %s', (argument, tile, value) => {
    try {
      createTileLayout({ grid: { frames: 2, height: 2, width: 2 }, tile });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).argument).toBe(argument);
      expect((e as InvalidArgumentError).value).toBe(value);
    }
  });

  it('rejects a tile that is not three numbers', () => {
    expect(() => createTileLayout({ grid: { frames: 2, height: 2, width: 2 }, tile: [2, 2] as never })).toThrow(/'tile'/);
  });
});
