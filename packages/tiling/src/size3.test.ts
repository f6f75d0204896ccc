import { describe, expect, it } from 'vitest';
import { blockMaskNnz } from './block-mask-nnz';
import { BlockMaskCache } from './block-mask-cache';
import { buildBlockMask } from './block-mask';
import { toDims3, toGridDims } from './size3';
import { createTileLayout } from './tile-layout';
import { createTokenGrid } from './token-grid';
import { seedHalfWidths, validateWindow, windowKey } from './window-3d';

describe('toDims3 and toGridDims', () => {
  it('turn either shape into the other, frozen', () => {
    const dims = toDims3({ frames: 3, height: 5, width: 8 });
    expect(dims).toEqual([3, 5, 8]);
    expect(Object.isFrozen(dims)).toBe(true);
    expect(toDims3([1, 2, 3])).toEqual([1, 2, 3]);
    const grid = toGridDims([21, 45, 80]);
    expect(grid).toEqual({ frames: 21, height: 45, width: 80 });
    expect(Object.isFrozen(grid)).toBe(true);
    expect(toGridDims({ frames: 1, height: 2, width: 3, numTokens: 6 } as never)).toEqual({ frames: 1, height: 2, width: 3 });
  });

  it('returns a copy, not the array it was given', () => {
    const input: [number, number, number] = [1, 2, 3];
    const dims = toDims3(input);
    input[0] = 9;
    expect(dims).toEqual([1, 2, 3]);
  });

  it.each([
    [[1, 2], /'size': expected \[t, h, w\] or \{ frames, height, width \} with three positive integers, got \[1,2\]/],
    [[1, 2, 3, 4], /'size': expected \[t, h, w\]/],
    [[1, 0, 3], /'size\[1\]': expected a positive integer, got 0/],
    [[1, 2, 2.5], /'size\[2\]': expected a positive integer, got 2.5/],
    [{ frames: 1, height: 2 }, /'size.width': expected a positive integer, got undefined/],
    [{ frames: -1, height: 2, width: 3 }, /'size.frames': expected a positive integer, got -1/],
    [null, /'size': expected \[t, h, w\] or \{ frames, height, width \}.*got null/],
    [7, /'size': expected \[t, h, w\].*got 7/],
  ])('rejects %j naming the field', (value, message) => {
    expect(() => toDims3(value as never)).toThrow(message);
    expect(() => toGridDims(value as never)).toThrow(message);
  });
});

describe('public entries accept both 3D shapes', () => {
  it('builds the same grid, layout, mask and key from arrays and objects', () => {
    expect(createTokenGrid([2, 3, 4])).toEqual(createTokenGrid({ frames: 2, height: 3, width: 4 }));
    const a = createTileLayout({ grid: [4, 6, 10], tile: [2, 3, 4] });
    const b = createTileLayout({ grid: { frames: 4, height: 6, width: 10 }, tile: { frames: 2, height: 3, width: 4 } });
    expect(b.tile).toEqual([2, 3, 4]);
    expect(b.tilesPerAxis).toEqual(a.tilesPerAxis);
    const window = { kind: 'clamped', tiles: { frames: 1, height: 2, width: 2 } } as const;
    const mask = buildBlockMask({ layout: b, window });
    expect(mask.window).toEqual({ kind: 'clamped', tiles: [1, 2, 2] });
    expect(mask.colIdx).toEqual(buildBlockMask({ layout: a, window: { kind: 'clamped', tiles: [1, 2, 2] } }).colIdx);
    expect(blockMaskNnz({ grid: [4, 6, 10], tile: { frames: 2, height: 3, width: 4 }, window })).toBe(mask.nnz);
    expect(windowKey({ kind: 'seed', tokens: { frames: 6, height: 8, width: 10 } })).toBe('seed:6x8x10');
    expect(seedHalfWidths({ tokens: { frames: 6, height: 8, width: 10 }, tile: [3, 2, 2] })).toEqual([1, 2, 2]);
    const cache = new BlockMaskCache();
    const fromObjects = cache.get({ grid: { frames: 4, height: 6, width: 10 }, tile: [2, 3, 4], window });
    expect(cache.get({ grid: [4, 6, 10], tile: { frames: 2, height: 3, width: 4 }, window: { kind: 'clamped', tiles: [1, 2, 2] } })).toBe(fromObjects);
    expect(cache.hits).toBe(1);
  });

  it('names the window field of an object-shaped size', () => {
    expect(() => validateWindow({ kind: 'seed', tokens: { frames: 1, height: 0, width: 1 } })).toThrow(/'window.tokens.height': expected a positive integer, got 0/);
    expect(() => validateWindow({ kind: 'clamped', tiles: [1, 1] as never })).toThrow(/'window.tiles': expected \[t, h, w\]/);
  });
});
