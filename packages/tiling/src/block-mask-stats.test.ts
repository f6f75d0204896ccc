import { InvalidArgumentError } from '@fpsattn/fp8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { anyWindow, smallGrid, smallTile, runs } from './_arbitraries.test-helpers';
import { buildBlockMask } from './block-mask';
import { blockMaskStats, headBlockMasksStats } from './block-mask-stats';
import { buildHeadBlockMasks } from './head-block-masks';
import { createTileLayout } from './tile-layout';
import { bruteForcePairCount, bruteForceTokenMask } from './testing';
import { WAN_720P_GRID } from './token-grid';

describe('blockMaskStats', () => {
  it('counts exactly the real token pairs of the brute-force mask (random grids, tiles and windows)', () => {
    fc.assert(
      fc.property(smallGrid, smallTile, anyWindow, fc.integer({ min: 1, max: 256 }), (grid, tile, window, headDim) => {
        const mask = buildBlockMask({ layout: createTileLayout({ grid, tile }), window });
        const stats = blockMaskStats({ mask, headDim });
        const pairs = bruteForcePairCount(bruteForceTokenMask({ grid, tile, window }));
        const n = grid.frames * grid.height * grid.width;
        expect(stats.attendedPairs).toBe(pairs);
        expect(stats.density).toBe(pairs / (n * n));
        expect(stats.attentionFlops).toBe(4 * headDim * pairs);
        expect(stats.denseFlops).toBe(4 * headDim * n * n);
        expect(stats.denseBlocks).toBe(mask.nnz);
      }),
      { numRuns: runs(300) },
    );
  });

  it('reports density 1 for the full window', () => {
    const mask = buildBlockMask({ layout: createTileLayout({ grid: { frames: 3, height: 5, width: 7 }, tile: [2, 2, 3] }), window: { kind: 'full' } });
    const stats = blockMaskStats({ mask });
    expect(stats.density).toBe(1);
    expect(stats.tileDensity).toBe(1);
    expect(stats.flopsRelative).toBe(1);
  });

  it.each([
    // window (tiles), dense blocks = 630 * |W|, tile density (peers.md quotes 11.9% and 7.1%)
    [[3, 5, 5], 630 * 75, 75 / 630],
    [[3, 3, 5], 630 * 45, 45 / 630],
  ] as const)('720p, tile (3,5,8), clamped window %o: M x |W(u)| blocks', (tiles, blocks, tileDensity) => {
    const mask = buildBlockMask({ layout: createTileLayout({ grid: WAN_720P_GRID, tile: [3, 5, 8] }), window: { kind: 'clamped', tiles } });
    const stats = blockMaskStats({ mask, headDim: 128, rowMultiple: 128 });
    expect(stats.denseBlocks).toBe(blocks);
    expect(stats.tileDensity).toBeCloseTo(tileDensity, 12);
    // Every tile is full (the grid divides), so the real-pair density equals the tile density.
    expect(stats.density).toBeCloseTo(tileDensity, 12);
    expect(stats.blockRows).toBe(128);
    expect(stats.executedFlops).toBe(4 * 128 * blocks * 128 * 128);
    expect(stats.executedRelative).toBeCloseTo(stats.flopsRelative * (128 / 120) ** 2, 12);
  });

  it.each([
    ['headDim', 0],
    ['rowMultiple', -1],
  ])('rejects %s = %s', (argument, value) => {
    const mask = buildBlockMask({ layout: createTileLayout({ grid: { frames: 1, height: 1, width: 2 }, tile: [1, 1, 1] }), window: { kind: 'full' } });
    try {
      blockMaskStats({ mask, [argument]: value });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).argument).toBe(argument);
    }
  });
});

describe('headBlockMasksStats', () => {
  it('sums pairs and FLOPs over heads and averages density', () => {
    const layout = createTileLayout({ grid: { frames: 4, height: 6, width: 6 }, tile: [2, 3, 3] });
    const masks = buildHeadBlockMasks({
      layout,
      windows: [{ kind: 'full' }, { kind: 'clamped', tiles: [1, 1, 1] }, { kind: 'full' }],
    });
    const stats = headBlockMasksStats({ masks, headDim: 64 });
    const full = blockMaskStats({ mask: masks.masks[0]!, headDim: 64 });
    const own = blockMaskStats({ mask: masks.masks[1]!, headDim: 64 });
    expect(stats.heads).toBe(3);
    expect(stats.attendedPairs).toBe(2 * full.attendedPairs + own.attendedPairs);
    expect(stats.density).toBeCloseTo((2 + own.density) / 3, 14);
    expect(stats.attentionFlops).toBe(2 * full.attentionFlops + own.attentionFlops);
    expect(stats.flopsRelative).toBeCloseTo(stats.density, 14);
  });
});

describe('headBlockMasksStats validation', () => {
  const masks = buildHeadBlockMasks({ layout: createTileLayout({ grid: { frames: 2, height: 2, width: 2 }, tile: [1, 1, 1] }), windows: [{ kind: 'full' }] });
  it.each([
    ['headDim', 0],
    ['headDim', Number.NaN],
    ['headDim', -64],
    ['rowMultiple', 0],
    ['rowMultiple', Number.NaN],
  ] as const)('rejects %s = %s like blockMaskStats instead of using the default', (argument, value) => {
    expect(() => headBlockMasksStats({ masks, [argument]: value })).toThrow(InvalidArgumentError);
    expect(() => headBlockMasksStats({ masks, [argument]: value })).toThrow(new RegExp(`'${argument}'`));
  });
});
