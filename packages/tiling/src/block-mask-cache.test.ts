import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { BlockMaskCache, blockMaskKey, getBlockMask } from './block-mask-cache';
import { buildBlockMask } from './block-mask';
import { buildHeadBlockMasks } from './head-block-masks';
import { createTileLayout } from './tile-layout';
import { WAN_720P_GRID } from './token-grid';
import type { WindowSpec } from './window-3d';

const grid = { frames: 4, height: 6, width: 8 };
const w = (n: number): WindowSpec => ({ kind: 'clamped', tiles: [1, n, n] });

describe('blockMaskKey', () => {
  it('includes every parameter', () => {
    expect(blockMaskKey({ grid: WAN_720P_GRID, tile: [3, 5, 8], window: { kind: 'clamped', tiles: [3, 3, 5] } })).toBe(
      '21x45x80|3x5x8|clamped:3x3x5',
    );
  });
});

describe('BlockMaskCache', () => {
  it('returns the same mask for the same parameters and counts hits', () => {
    const cache = new BlockMaskCache({ capacity: 4 });
    const a = cache.get({ grid, tile: [2, 2, 2], window: w(1) });
    const b = cache.get({ grid: { ...grid }, tile: [2, 2, 2], window: { kind: 'clamped', tiles: [1, 1, 1] } });
    expect(b).toBe(a);
    expect(cache.hits).toBe(1);
    expect(cache.misses).toBe(1);
    expect([...a.colIdx]).toEqual([...buildBlockMask({ layout: createTileLayout({ grid, tile: [2, 2, 2] }), window: w(1) }).colIdx]);
  });

  it('separates different tiles, windows and grids', () => {
    const cache = new BlockMaskCache();
    const a = cache.get({ grid, tile: [2, 2, 2], window: w(1) });
    expect(cache.get({ grid, tile: [2, 2, 1], window: w(1) })).not.toBe(a);
    expect(cache.get({ grid, tile: [2, 2, 2], window: w(2) })).not.toBe(a);
    expect(cache.get({ grid: { ...grid, frames: 5 }, tile: [2, 2, 2], window: w(1) })).not.toBe(a);
    expect(cache.size).toBe(4);
  });

  it('evicts the least recently used entry', () => {
    const cache = new BlockMaskCache({ capacity: 2 });
    cache.get({ grid, tile: [2, 2, 2], window: w(1) });
    cache.get({ grid, tile: [2, 2, 2], window: w(2) });
    cache.get({ grid, tile: [2, 2, 2], window: w(1) }); // w(1) is now the most recent
    cache.get({ grid, tile: [2, 2, 2], window: w(3) }); // evicts w(2)
    expect(cache.size).toBe(2);
    expect(cache.has({ grid, tile: [2, 2, 2], window: w(1) })).toBe(true);
    expect(cache.has({ grid, tile: [2, 2, 2], window: w(2) })).toBe(false);
    cache.clear();
    expect(cache.size).toBe(0);
  });

  it('rejects a bad capacity', () => {
    expect(() => new BlockMaskCache({ capacity: 0 })).toThrow(/capacity/);
  });

  it('backs getBlockMask with a shared default cache', () => {
    const window: WindowSpec = { kind: 'clamped', tiles: [3, 3, 5] };
    expect(getBlockMask({ grid: WAN_720P_GRID, tile: [3, 5, 8], window })).toBe(getBlockMask({ grid: WAN_720P_GRID, tile: [3, 5, 8], window }));
  });

  it('takes { layout, window } too, so (o) => cache.get(o) works as buildHeadBlockMasks build', () => {
    const cache = new BlockMaskCache();
    const layout = createTileLayout({ grid, tile: [2, 2, 2] });
    const heads = buildHeadBlockMasks({ layout, windows: [w(1), w(2), w(1)], build: (o) => cache.get(o) });
    expect(cache.misses).toBe(2);
    expect(heads.masks[0]!.layout).toBe(layout);
    expect(cache.get({ grid, tile: [2, 2, 2], window: w(2) })).toBe(heads.masks[1]); // same key either way
    expect(cache.hits).toBe(1);
    expect([...heads.masks[1]!.colIdx]).toEqual([...buildBlockMask({ layout, window: w(2) }).colIdx]);
  });

  const badParams = [
    // argument named, parameters
    ['grid.frames', { grid: { frames: '4', height: '6', width: '8' }, tile: [2, 2, 2], window: w(1) }],
    ['tile[0]', { grid, tile: ['2', '2', '2'], window: w(1) }],
    ['tile', { grid, tile: [2, 2], window: w(1) }],
    ['window.kind', { grid, tile: [2, 2, 2], window: { kind: 'bogus' } }],
    ['window.tiles[1]', { grid, tile: [2, 2, 2], window: { kind: 'clamped', tiles: [1, 0, 1] } }],
  ] as const;

  it.each(badParams)('get rejects an invalid %s on a cache hit as on a miss', (argument, params) => {
    const warm = new BlockMaskCache();
    warm.get({ grid, tile: [2, 2, 2], window: w(1) }); // key '4x6x8|2x2x2|clamped:1x1x1' is now cached
    for (const cache of [warm, new BlockMaskCache()]) {
      expect(() => cache.get(params as never)).toThrow(InvalidArgumentError);
      expect(() => cache.get(params as never)).toThrow(`'${argument}'`);
    }
  });

  it.each(badParams)('has and blockMaskKey reject an invalid %s', (argument, params) => {
    expect(() => new BlockMaskCache().has(params as never)).toThrow(`'${argument}'`);
    expect(() => blockMaskKey(params as never)).toThrow(InvalidArgumentError);
  });
});
