import { InvalidArgumentError } from '@fpsattn/fp8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { smallGrid, smallTile, runs } from './_arbitraries.test-helpers';
import { createPaddedTileLayout, paddedBlockRows } from './padded-tile-layout';
import { createTileLayout } from './tile-layout';
import { createTilePermutation } from './tile-permutation';
import { WAN_480P_GRID, WAN_720P_GRID } from './token-grid';

describe('paddedBlockRows', () => {
  it.each([
    [120, 128, 128],
    [384, 128, 384],
    [385, 128, 512],
    [60, 64, 64],
    [1, 16, 16],
    [7, 1, 7],
  ])('pads %i tokens to a multiple of %i: %i rows', (tokens, multiple, rows) => {
    expect(paddedBlockRows({ tileTokens: tokens, rowMultiple: multiple })).toBe(rows);
  });
});

describe('createPaddedTileLayout', () => {
  it.each([
    // grid, tile, rowMultiple, blockRows, overhead
    [WAN_720P_GRID, [3, 5, 8], 128, 128, (630 * 128) / 75_600],
    [WAN_720P_GRID, [6, 8, 8], 128, 384, (240 * 384) / 75_600],
    [WAN_480P_GRID, [3, 10, 4], 128, 128, (273 * 128) / 32_760],
    [WAN_480P_GRID, [3, 5, 8], 64, 128, (294 * 128) / 32_760],
    [{ frames: 2, height: 4, width: 4 }, [2, 2, 2], 8, 8, 1],
  ] as const)('pads %o with tile %o to %i-row multiples', (grid, tile, rowMultiple, blockRows, overhead) => {
    const padded = createPaddedTileLayout({ layout: createTileLayout({ grid, tile }), rowMultiple });
    expect(padded.blockRows).toBe(blockRows);
    expect(padded.overhead).toBeCloseTo(overhead, 12);
    expect(padded.paddingRows).toBe(padded.numRows - grid.frames * grid.height * grid.width);
  });

  it('reports the 1.49x waste of (6,8,8) on 720p that peers.md mentions (rows^2)', () => {
    const padded = createPaddedTileLayout({ layout: createTileLayout({ grid: WAN_720P_GRID, tile: [6, 8, 8] }), rowMultiple: 128 });
    expect(padded.overhead ** 2).toBeCloseTo(1.49, 2);
  });

  it('marks valid slots, maps slot <-> token, and starts tile u at u * blockRows (random grids)', () => {
    fc.assert(
      fc.property(smallGrid, smallTile, fc.integer({ min: 1, max: 40 }), (grid, tile, rowMultiple) => {
        const layout = createTileLayout({ grid, tile });
        const permutation = createTilePermutation({ layout });
        const padded = createPaddedTileLayout({ layout, rowMultiple, permutation });
        expect(padded.blockRows % rowMultiple).toBe(0);
        expect(padded.blockRows).toBeGreaterThanOrEqual(layout.tileTokens);
        expect(padded.blockRows - layout.tileTokens).toBeLessThan(rowMultiple);
        let validCount = 0;
        for (let u = 0; u < layout.numTiles; u++) {
          for (let j = 0; j < padded.blockRows; j++) {
            const slot = u * padded.blockRows + j;
            const isReal = j < layout.tileSizes[u]!;
            expect(padded.valid[slot]).toBe(isReal ? 1 : 0);
            if (isReal) {
              validCount++;
              const token = permutation.forward[layout.tileOffsets[u]! + j]!;
              expect(padded.slotToToken[slot]).toBe(token);
              expect(padded.tokenToSlot[token]).toBe(slot);
            } else {
              expect(padded.slotToToken[slot]).toBe(-1);
            }
          }
        }
        expect(validCount).toBe(layout.grid.numTokens);
      }),
      { numRuns: runs(150) },
    );
  });

  it.each([0, -128, 1.5])('rejects rowMultiple %s', (rowMultiple) => {
    const layout = createTileLayout({ grid: { frames: 1, height: 2, width: 2 }, tile: [1, 1, 1] });
    expect(() => createPaddedTileLayout({ layout, rowMultiple })).toThrow(InvalidArgumentError);
    expect(() => createPaddedTileLayout({ layout, rowMultiple })).toThrow(/rowMultiple/);
  });

  it('accepts a permutation of an equal layout (same object, or same grid and tile)', () => {
    const grid = { frames: 2, height: 4, width: 4 };
    const layout = createTileLayout({ grid, tile: [2, 2, 2] });
    const reference = createPaddedTileLayout({ layout, rowMultiple: 8 });
    for (const permutation of [createTilePermutation({ layout }), createTilePermutation({ layout: createTileLayout({ grid: { ...grid }, tile: [2, 2, 2] }) })]) {
      expect([...createPaddedTileLayout({ layout, rowMultiple: 8, permutation }).slotToToken]).toEqual([...reference.slotToToken]);
    }
  });

  it.each([
    // the permutation's grid and tile, against a 2x4x4 grid cut into 2x2x2 tiles
    [{ frames: 2, height: 4, width: 4 }, [1, 1, 1]],
    [{ frames: 2, height: 4, width: 4 }, [2, 2, 1]],
    [{ frames: 2, height: 4, width: 5 }, [2, 2, 2]],
  ] as const)('rejects a permutation built for grid %o and tile %o', (grid, tile) => {
    const layout = createTileLayout({ grid: { frames: 2, height: 4, width: 4 }, tile: [2, 2, 2] });
    const permutation = createTilePermutation({ layout: createTileLayout({ grid, tile }) });
    expect(() => createPaddedTileLayout({ layout, rowMultiple: 8, permutation })).toThrow(InvalidArgumentError);
    expect(() => createPaddedTileLayout({ layout, rowMultiple: 8, permutation })).toThrow(/'permutation'.*built for grid/);
  });

  it.each([
    // grid, tile, rowMultiple: numTiles * blockRows > 2^31 - 1
    [{ frames: 1, height: 1, width: 2 }, [1, 1, 1], 2 ** 30],
    [{ frames: 1, height: 1, width: 3 }, [1, 1, 1], 2 ** 30 - 1],
    [WAN_720P_GRID, [1, 1, 1], 2 ** 15],
  ] as const)('rejects %o / %o with rowMultiple %i before allocating: more than 2^31-1 rows', (grid, tile, rowMultiple) => {
    const layout = createTileLayout({ grid, tile });
    expect(() => createPaddedTileLayout({ layout, rowMultiple })).toThrow(InvalidArgumentError);
    expect(() => createPaddedTileLayout({ layout, rowMultiple })).toThrow(/'rowMultiple'.*rows.*more than 2\^31-1.*smaller rowMultiple/);
  });
});
