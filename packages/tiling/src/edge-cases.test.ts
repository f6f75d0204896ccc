// Edges and messages that mutation testing showed were not pinned (npm run mutation -- tiling).
import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { assertInt32Count, describe as show, MAX_INT32 } from './_validate';
import { buildBlockMask, type BlockMask } from './block-mask';
import { BlockMaskCache, defaultBlockMaskCache, getBlockMask } from './block-mask-cache';
import { blockMaskStats, headBlockMasksStats } from './block-mask-stats';
import { buildHeadBlockMasks } from './head-block-masks';
import { padRows, unpadRows } from './pad-rows';
import { createPaddedTileLayout } from './padded-tile-layout';
import { permuteRows } from './permute-rows';
import { createTileLayout, tileCoords, type TileLayout } from './tile-layout';
import { createTilePermutation } from './tile-permutation';
import { tileRows, untileRows } from './tile-rows';
import { createTokenGrid, tokenCoords } from './token-grid';
import { bruteForceTileCoords } from './testing';
import { seedHalfWidths, validateWindow } from './window-3d';

const thrown = (f: () => unknown): Error => {
  try {
    f();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a throw');
};

describe('coordinates', () => {
  it('gives each tile and token its own coordinates (not only coordinates that round-trip)', () => {
    const grid = { frames: 3, height: 4, width: 5 };
    const layout = createTileLayout({ grid, tile: [2, 3, 2] }); // 2 x 2 x 3 tiles
    expect(tileCoords({ layout, tile: 0 })).toEqual([0, 0, 0]);
    expect(tileCoords({ layout, tile: 4 })).toEqual([0, 1, 1]);
    expect(tileCoords({ layout, tile: 11 })).toEqual([1, 1, 2]);
    for (let r = 0; r < 60; r++) {
      const t = Math.floor(r / 20);
      const h = Math.floor(r / 5) % 4;
      expect(tokenCoords({ grid, token: r })).toEqual([t, h, r % 5]);
      expect(tokenCoords({ grid: [3, 4, 5], token: r })).toEqual([t, h, r % 5]);
      const c = bruteForceTileCoords({ grid, tile: [2, 3, 2], token: r });
      expect(tileCoords({ layout, tile: (c[0] * 2 + c[1]) * 3 + c[2] })).toEqual(c);
    }
  });

  it('accepts a grid of exactly 2^31 - 1 tokens and names the grid beyond', () => {
    expect(createTokenGrid({ frames: MAX_INT32, height: 1, width: 1 }).numTokens).toBe(MAX_INT32);
    const error = thrown(() => createTokenGrid([2 ** 16, 2 ** 15, 1]));
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as InvalidArgumentError).argument).toBe('grid');
    expect(error.message).toBe("Invalid argument 'grid': 2147483648 tokens do not fit the Int32 index arrays (max 2^31-1)");
  });
});

describe('validation helpers', () => {
  it('show values in messages: numbers as printed, strings quoted, undefined, and unprintable values', () => {
    expect(show(Number.NaN)).toBe('NaN');
    expect(show('x')).toBe('"x"');
    expect(show(undefined)).toBe('undefined');
    expect(show([1, 2])).toBe('[1,2]');
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(show(circular)).toBe('[object Object]');
    expect(show(10n)).toBe('10');
  });

  it('accept a count of exactly 2^31 - 1 and reject one more, with the fix in the message', () => {
    const options = { argument: 'window', value: 1, what: 'the mask would hold N key tiles', fix: 'use larger tiles' };
    expect(() => assertInt32Count({ ...options, count: MAX_INT32 })).not.toThrow();
    expect(() => assertInt32Count({ ...options, count: MAX_INT32 + 1 })).toThrow(
      "Invalid argument 'window': the mask would hold N key tiles, more than 2^31-1 (Int32 indices): use larger tiles",
    );
    expect(() => assertInt32Count({ ...options, count: Number.NaN })).toThrow(InvalidArgumentError);
  });
});

describe('windows', () => {
  it.each([null, 3, 'clamped'])('rejects a window %j that is not an object', (window) => {
    expect(() => validateWindow(window as never)).toThrow(`Invalid argument 'window': expected a window object, got ${show(window)}`);
  });

  it('names the bad argument of seedHalfWidths', () => {
    expect(() => seedHalfWidths({ tokens: [1, 0, 1], tile: [1, 1, 1] })).toThrow("Invalid argument 'tokens[1]'");
    expect(() => seedHalfWidths({ tokens: [1, 1, 1], tile: { frames: 1, height: 1, width: 0 } })).toThrow("Invalid argument 'tile.width'");
  });
});

describe('BlockMaskCache', () => {
  const grid = { frames: 2, height: 2, width: 2 };
  const window = { kind: 'full' } as const;

  it('defaults to 64 entries and evicts the least recently used', () => {
    expect(new BlockMaskCache().capacity).toBe(64);
    const cache = new BlockMaskCache({ capacity: 1 });
    cache.get({ grid, tile: [1, 1, 1], window });
    cache.get({ grid, tile: [2, 2, 2], window });
    expect(cache.size).toBe(1);
    expect(cache.has({ grid, tile: [1, 1, 1], window })).toBe(false);
  });

  it.each([null, 7])('rejects parameters %j that are not an object', (options) => {
    expect(() => new BlockMaskCache().get(options as never)).toThrow(
      `Invalid argument 'options': expected { grid, tile, window } or { layout, window }, got ${show(options)}`,
    );
  });

  it('rejects a layout that is not an object, and names the layout tile', () => {
    expect(() => new BlockMaskCache().get({ layout: null as never, window })).toThrow("Invalid argument 'layout': expected a TileLayout, got null");
    const layout = createTileLayout({ grid, tile: [1, 1, 1] });
    expect(() => new BlockMaskCache().get({ layout: { ...layout, tile: [1, 0, 1] } as TileLayout, window })).toThrow("Invalid argument 'layout.tile[1]'");
  });

  it('getBlockMask builds through the process-wide cache', () => {
    const before = defaultBlockMaskCache.misses + defaultBlockMaskCache.hits;
    const mask = getBlockMask({ grid, tile: [1, 2, 1], window });
    expect(mask.nnz).toBe(16);
    expect(getBlockMask({ grid, tile: [1, 2, 1], window })).toBe(mask);
    expect(defaultBlockMaskCache.misses + defaultBlockMaskCache.hits).toBe(before + 2);
  });
});

describe('head masks and their statistics', () => {
  const layout = createTileLayout({ grid: { frames: 2, height: 3, width: 5 }, tile: [1, 2, 2] });
  const windows = [{ kind: 'clamped', tiles: [1, 1, 2] }, { kind: 'full' }, { kind: 'clamped', tiles: [1, 1, 2] }] as const;

  it('sums blocks and FLOPs over heads and shares the statistics of a shared mask', () => {
    const masks = buildHeadBlockMasks({ layout, windows });
    const stats = headBlockMasksStats({ masks, headDim: 64, rowMultiple: 8 });
    const [a, b] = [blockMaskStats({ mask: masks.masks[0]!, headDim: 64, rowMultiple: 8 }), blockMaskStats({ mask: masks.masks[1]!, headDim: 64, rowMultiple: 8 })];
    expect(stats.perHead[0]).toBe(stats.perHead[2]);
    expect(stats.denseBlocks).toBe(2 * a.denseBlocks + b.denseBlocks);
    expect(stats.executedFlops).toBe(2 * a.executedFlops + b.executedFlops);
    expect(stats.executedRelative).toBeCloseTo((2 * a.executedFlops + b.executedFlops) / (3 * a.denseFlops), 12);
    expect(stats.executedRelative).toBeGreaterThan(0.5);
  });

  it.each([[[]], [undefined], [{ kind: 'full' }]])('rejects windows %j that are not a non-empty array', (w) => {
    expect(() => buildHeadBlockMasks({ layout, windows: w as never })).toThrow("Invalid argument 'windows': expected one window per head (at least one)");
  });

  it('rejects packed masks beyond Int32 before allocating them', () => {
    const huge = { numTiles: 2 ** 30 } as TileLayout;
    const fake = (nnz: number) => () => ({ nnz, colIdx: new Int32Array(0), rowPtr: new Int32Array(0) }) as unknown as BlockMask;
    expect(() => buildHeadBlockMasks({ layout: huge, windows: [{ kind: 'full' }, { kind: 'full' }], build: fake(1) })).toThrow(
      'the packed mask would have 2147483649 row pointers (2 heads x 1073741824 query tiles + 1), more than 2^31-1 (Int32 indices): use larger tiles or fewer heads per mask',
    );
    expect(() => buildHeadBlockMasks({ layout, windows: [{ kind: 'full' }, { kind: 'seed', tokens: [1, 1, 1] }], build: fake(2 ** 30) })).toThrow(
      'the packed mask would hold 2147483648 key tiles summed over 2 heads, more than 2^31-1 (Int32 indices): use larger tiles, smaller windows or fewer heads per mask',
    );
  });
});

describe('row gathers', () => {
  const layout = createTileLayout({ grid: { frames: 1, height: 2, width: 3 }, tile: [1, 2, 2] });
  const permutation = createTilePermutation({ layout });
  const padded = createPaddedTileLayout({ layout, rowMultiple: 4 });

  it('name the source and its expected size', () => {
    expect(() => tileRows({ permutation, src: new Float32Array(5), rowWidth: 2 })).toThrow("Shape mismatch for 'src': expected 6 tokens x 2 = 12, got 5");
    expect(() => untileRows({ permutation, src: new Float32Array(5), rowWidth: 2 })).toThrow("Shape mismatch for 'src': expected 6 tokens x 2 = 12, got 5");
    expect(() => padRows({ padded, src: new Float32Array(5), rowWidth: 1 })).toThrow("Shape mismatch for 'src': expected 6 x 1, got 5");
    expect(() => unpadRows({ padded, src: new Float32Array(5), rowWidth: 1 })).toThrow("Shape mismatch for 'src': expected 8 x 1, got 5");
  });

  it('write into the out array they are given', () => {
    const src = Float32Array.of(0, 1, 2, 3, 4, 5);
    const out = new Float32Array(6);
    expect(tileRows({ permutation, src, rowWidth: 1, out })).toBe(out);
    expect(untileRows({ permutation, src: out, rowWidth: 1, out: new Float32Array(6) })).toEqual(src);
    const paddedOut = new Float32Array(8);
    expect(padRows({ padded, src, rowWidth: 1, out: paddedOut, fill: -1 })).toBe(paddedOut);
    expect(Array.from(paddedOut)).toEqual([0, 1, 3, 4, 2, 5, -1, -1]);
    const back = new Float32Array(6);
    expect(unpadRows({ padded, src: paddedOut, rowWidth: 1, out: back })).toBe(back);
    expect(back).toEqual(src);
  });

  it('permuteRows fills -1 rows with `fill` on every path (narrow, medium, wide rows)', () => {
    for (const rowWidth of [1, 3, 16]) {
      const src = Float32Array.from({ length: 2 * rowWidth }, (_, i) => i + 1);
      const out = permuteRows({ src, rowWidth, index: [1, -1, 0], fill: -2 });
      expect(Array.from(out)).toEqual([...src.subarray(rowWidth), ...new Array(rowWidth).fill(-2), ...src.subarray(0, rowWidth)]);
    }
  });

  it('permuteRows names bad shapes, rows and overlapping outputs, and accepts adjacent ones', () => {
    expect(() => permuteRows({ src: new Float32Array(5), rowWidth: 2, index: [0] })).toThrow(
      "Shape mismatch for 'src': expected a multiple of rowWidth 2, got 5 (src must hold whole rows)",
    );
    expect(() => permuteRows({ src: new Float32Array(4), rowWidth: 2, index: [0], out: new Float32Array(3) })).toThrow(
      "Shape mismatch for 'out': expected 2, got 3 (index.length * rowWidth)",
    );
    expect(() => permuteRows({ src: new Float32Array(4), rowWidth: 2, index: [2] })).toThrow("Invalid argument 'index[0]': expected an integer row in [-1, 2), got 2");
    const buffer = new Float32Array(8);
    const src = buffer.subarray(0, 4);
    expect(() => permuteRows({ src, rowWidth: 2, index: [0, 1], out: buffer.subarray(3, 7) })).toThrow("Invalid argument 'out': out must not overlap src");
    expect(() => permuteRows({ src: buffer.subarray(4, 8), rowWidth: 2, index: [0, 1], out: buffer.subarray(1, 5) })).toThrow('out must not overlap src');
    expect(permuteRows({ src, rowWidth: 2, index: [0, 1], out: buffer.subarray(4, 8) })).toEqual(src); // adjacent, not overlapping
    expect(permuteRows({ src: buffer.subarray(4, 8), rowWidth: 2, index: [0, 1], out: buffer.subarray(0, 4) })).toEqual(buffer.subarray(4, 8));
    // Same byte offsets in different buffers do not overlap.
    expect(permuteRows({ src: Float32Array.of(1, 2), rowWidth: 1, index: [1, 0], out: new Float32Array(2) })).toEqual(Float32Array.of(2, 1));
  });

  it('createPaddedTileLayout refuses a permutation of another grid or tile, axis by axis, naming both', () => {
    const grid = { frames: 2, height: 3, width: 4 };
    const base = createTileLayout({ grid, tile: [1, 2, 2] });
    const others = [
      createTileLayout({ grid: { ...grid, frames: 3 }, tile: [1, 2, 2] }),
      createTileLayout({ grid: { ...grid, height: 4 }, tile: [1, 2, 2] }),
      createTileLayout({ grid: { ...grid, width: 5 }, tile: [1, 2, 2] }),
      createTileLayout({ grid, tile: [2, 2, 2] }),
      createTileLayout({ grid, tile: [1, 1, 2] }),
      createTileLayout({ grid, tile: [1, 2, 1] }),
    ];
    for (const other of others) {
      expect(() => createPaddedTileLayout({ layout: base, rowMultiple: 4, permutation: createTilePermutation({ layout: other }) })).toThrow(InvalidArgumentError);
    }
    expect(thrown(() => createPaddedTileLayout({ layout: base, rowMultiple: 4, permutation: createTilePermutation({ layout: others[3]! }) })).message).toBe(
      "Invalid argument 'permutation': the permutation was built for grid 2x3x4, tile 2x2x2, not for grid 2x3x4, tile 1x2x2: pass createTilePermutation({ layout }) or omit it",
    );
    const same = createTilePermutation({ layout: createTileLayout({ grid: { ...grid }, tile: [1, 2, 2] }) });
    expect(createPaddedTileLayout({ layout: base, rowMultiple: 4, permutation: same }).numRows).toBe(base.numTiles * 4);
  });
});

describe('block masks', () => {
  it('lists the right key tiles on a grid of one tile row per axis edge', () => {
    const layout = createTileLayout({ grid: { frames: 3, height: 1, width: 3 }, tile: [1, 1, 1] });
    const mask = buildBlockMask({ layout, window: { kind: 'clamped', tiles: [3, 1, 1] } });
    expect(Array.from(mask.rowPtr)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24, 27]);
  });
});
