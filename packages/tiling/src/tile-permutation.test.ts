import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { smallGrid, smallTile, runs } from './_arbitraries.test-helpers';
import { createTileLayout } from './tile-layout';
import { createTilePermutation } from './tile-permutation';
import { bruteForceTilePermutation } from './testing';
import { WAN_480P_GRID, WAN_720P_GRID } from './token-grid';

function isBijection(a: Int32Array): boolean {
  const seen = new Uint8Array(a.length);
  for (const v of a) {
    if (v < 0 || v >= a.length || seen[v]) return false;
    seen[v] = 1;
  }
  return true;
}

describe('createTilePermutation', () => {
  it('orders a 1x4x4 grid into 2x2 tiles', () => {
    const layout = createTileLayout({ grid: { frames: 1, height: 4, width: 4 }, tile: [1, 2, 2] });
    const { forward } = createTilePermutation({ layout });
    expect([...forward]).toEqual([0, 1, 4, 5, 2, 3, 6, 7, 8, 9, 12, 13, 10, 11, 14, 15]);
  });

  it('keeps partial tiles compact (a 1x3x3 grid in 2x2 tiles)', () => {
    const layout = createTileLayout({ grid: { frames: 1, height: 3, width: 3 }, tile: [1, 2, 2] });
    const { forward } = createTilePermutation({ layout });
    expect([...forward]).toEqual([0, 1, 3, 4, 2, 5, 6, 7, 8]);
  });

  it('is a bijection whose inverse inverts it, and matches the brute-force sort (random grids)', () => {
    fc.assert(
      fc.property(smallGrid, smallTile, (grid, tile) => {
        const { forward, inverse } = createTilePermutation({ layout: createTileLayout({ grid, tile }) });
        expect(isBijection(forward)).toBe(true);
        expect(isBijection(inverse)).toBe(true);
        for (let i = 0; i < forward.length; i++) expect(inverse[forward[i]!]).toBe(i);
        expect([...forward]).toEqual(bruteForceTilePermutation({ grid, tile }));
      }),
      { numRuns: runs(300) },
    );
  });

  it('places tile u at [tileOffsets[u], tileOffsets[u+1])', () => {
    fc.assert(
      fc.property(smallGrid, smallTile, (grid, tile) => {
        const layout = createTileLayout({ grid, tile });
        const { forward } = createTilePermutation({ layout });
        const expected = bruteForceTilePermutation({ grid, tile });
        for (let u = 0; u < layout.numTiles; u++) {
          const begin = layout.tileOffsets[u]!;
          const end = layout.tileOffsets[u + 1]!;
          expect(end - begin).toBe(layout.tileSizes[u]);
          expect([...forward.subarray(begin, end)]).toEqual(expected.slice(begin, end));
        }
      }),
      { numRuns: runs(100) },
    );
  });

  it.each([
    ['480p', WAN_480P_GRID, [3, 5, 8]],
    ['480p', WAN_480P_GRID, [3, 10, 4]],
    ['720p', WAN_720P_GRID, [3, 5, 8]],
    ['720p', WAN_720P_GRID, [6, 8, 8]],
  ] as const)('is a bijection on the Wan %s grid with tile %o', (_name, grid, tile) => {
    const { forward, inverse } = createTilePermutation({ layout: createTileLayout({ grid, tile }) });
    expect(isBijection(forward)).toBe(true);
    for (let i = 0; i < forward.length; i++) if (inverse[forward[i]!] !== i) throw new Error(`inverse fails at ${i}`);
  });
});
