import { InvalidArgumentError } from '@fpsattn/fp8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyWindow, smallGrid, smallTile, runs } from './_arbitraries.test-helpers';
import { buildBlockMask, keyTilesOf } from './block-mask';
import { createTileLayout } from './tile-layout';
import { bruteForceAxisInWindow, bruteForceTileLists, bruteForceTokenMask } from './testing';
import { WAN_480P_GRID, WAN_720P_GRID } from './token-grid';
import type { Dims3 } from './types';
import type { WindowSpec } from './window-3d';

describe('buildBlockMask', () => {
  it('matches the brute-force token mask tile by tile (random grids, tiles and windows)', () => {
    fc.assert(
      fc.property(smallGrid, smallTile, anyWindow, (grid, tile, window) => {
        const mask = buildBlockMask({ layout: createTileLayout({ grid, tile }), window });
        const lists = bruteForceTileLists({ grid, tile, mask: bruteForceTokenMask({ grid, tile, window }) });
        expect(mask.rowPtr.length).toBe(lists.length + 1);
        lists.forEach((list, u) => expect([...keyTilesOf({ mask: mask, tile: u })]).toEqual(list));
        expect(mask.nnz).toBe(lists.reduce((s, l) => s + l.length, 0));
      }),
      { numRuns: runs(400) },
    );
  });

  it('lists key tiles sorted ascending without duplicates', () => {
    fc.assert(
      fc.property(smallGrid, smallTile, anyWindow, (grid, tile, window) => {
        const mask = buildBlockMask({ layout: createTileLayout({ grid, tile }), window });
        for (let u = 0; u < mask.numQueryTiles; u++) {
          const keys = keyTilesOf({ mask: mask, tile: u });
          for (let i = 1; i < keys.length; i++) expect(keys[i]!).toBeGreaterThan(keys[i - 1]!);
          expect([...keys]).toContain(u); // every window holds its own tile
        }
      }),
      { numRuns: runs(200) },
    );
  });

  it('gives every query tile exactly wt*wh*ww key tiles in clamped mode when the grid is large enough', () => {
    fc.assert(
      fc.property(smallGrid, smallTile, fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })), (grid, tile, tiles) => {
        const layout = createTileLayout({ grid, tile });
        const mask = buildBlockMask({ layout, window: { kind: 'clamped', tiles } });
        const per = tiles.map((w, a) => Math.min(w, layout.tilesPerAxis[a]!));
        for (let u = 0; u < mask.numQueryTiles; u++) expect(mask.rowPtr[u + 1]! - mask.rowPtr[u]!).toBe(per[0]! * per[1]! * per[2]!);
      }),
      { numRuns: runs(200) },
    );
  });

  it.each([
    ['ragged grid, truncated seed window', { frames: 5, height: 7, width: 11 }, [2, 3, 4], { kind: 'seed', tokens: [4, 6, 8] }],
    ['one-frame video', { frames: 1, height: 9, width: 10 }, [3, 4, 4], { kind: 'clamped', tiles: [3, 2, 2] }],
    ['one-frame video, seed', { frames: 1, height: 9, width: 10 }, [1, 4, 4], { kind: 'seed', tokens: [9, 8, 8] }],
    ['tile larger than the grid', { frames: 2, height: 3, width: 3 }, [4, 4, 4], { kind: 'clamped', tiles: [3, 3, 3] }],
    ['even clamped window', { frames: 4, height: 8, width: 8 }, [1, 2, 2], { kind: 'clamped', tiles: [2, 4, 2] }],
    ['single token grid', { frames: 1, height: 1, width: 1 }, [1, 1, 1], { kind: 'seed', tokens: [1, 1, 1] }],
  ] as const)('agrees with brute force: %s', (_name, grid, tile, window) => {
    const mask = buildBlockMask({ layout: createTileLayout({ grid, tile }), window: window as WindowSpec });
    const lists = bruteForceTileLists({ grid, tile, mask: bruteForceTokenMask({ grid, tile, window: window as WindowSpec }) });
    lists.forEach((list, u) => expect([...keyTilesOf({ mask: mask, tile: u })]).toEqual(list));
  });

  it.each([
    ['480p', WAN_480P_GRID, [3, 10, 4], { kind: 'clamped', tiles: [3, 3, 5] }],
    ['480p', WAN_480P_GRID, [3, 5, 8], { kind: 'seed', tokens: [9, 15, 24] }],
    ['720p', WAN_720P_GRID, [3, 5, 8], { kind: 'clamped', tiles: [3, 5, 5] }],
    ['720p', WAN_720P_GRID, [6, 8, 8], { kind: 'seed', tokens: [12, 16, 32] }],
  ] as const)('builds the Wan %s grid %o with tile %o and window %o, checked per tile against the definition', (_n, grid, tile, window) => {
    const layout = createTileLayout({ grid, tile });
    const mask = buildBlockMask({ layout, window: window as WindowSpec });
    const [nt, nh, nw] = layout.tilesPerAxis;
    const coords = (u: number): Dims3 => [Math.floor(u / (nh * nw)), Math.floor(u / nw) % nh, u % nw];
    for (let u = 0; u < layout.numTiles; u++) {
      const expected: number[] = [];
      const cu = coords(u);
      for (let v = 0; v < layout.numTiles; v++) {
        const cv = coords(v);
        const inside = ([0, 1, 2] as const).every((axis) =>
          bruteForceAxisInWindow({ window: window as WindowSpec, axis, q: cu[axis], k: cv[axis], numTiles: [nt, nh, nw][axis]!, tile: tile[axis] }),
        );
        if (inside) expected.push(v);
      }
      expect([...keyTilesOf({ mask: mask, tile: u })]).toEqual(expected);
    }
  });

  it.each([
    // grid, tile, window: more than 2^31 - 1 key tiles (the reviewer's case first: 75,600^2 = 5,715,360,000)
    [WAN_720P_GRID, [1, 1, 1], { kind: 'clamped', tiles: [21, 45, 80] }],
    [WAN_720P_GRID, [1, 1, 1], { kind: 'full' }],
    [WAN_720P_GRID, [1, 1, 1], { kind: 'seed', tokens: [42, 90, 160] }],
  ] as const)('rejects %o / %o / %o before allocating: more than 2^31-1 key tiles', (grid, tile, window) => {
    const layout = createTileLayout({ grid, tile });
    expect(() => buildBlockMask({ layout, window })).toThrow(InvalidArgumentError);
    expect(() => buildBlockMask({ layout, window })).toThrow(/'window'.*key tiles.*more than 2\^31-1.*larger tiles or a smaller window/);
  });

  it('rejects an invalid window', () => {
    const layout = createTileLayout({ grid: { frames: 1, height: 2, width: 2 }, tile: [1, 1, 1] });
    expect(() => buildBlockMask({ layout, window: { kind: 'clamped', tiles: [1, 0, 1] } })).toThrow(/window\.tiles\[1\]/);
  });
});

describe('buildBlockMask at 720p', () => {
  // Build time is measured by bench/run.mjs, not asserted here.
  it('lists 75 key tiles for each of the 630 tiles with the (3,5,5) window', () => {
    const mask = buildBlockMask({ layout: createTileLayout({ grid: WAN_720P_GRID, tile: [3, 5, 8] }), window: { kind: 'clamped', tiles: [3, 5, 5] } });
    expect(mask.nnz).toBe(630 * 75);
  });
});
