import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { smallGrid, smallTile, runs } from './_arbitraries.test-helpers';
import { createPaddedTileLayout } from './padded-tile-layout';
import { padRows, unpadRows } from './pad-rows';
import { createTileLayout } from './tile-layout';
import { createTilePermutation } from './tile-permutation';
import { tileRows, untileRows } from './tile-rows';
import { bruteForceTilePermutation } from './testing';
import { WAN_720P_GRID } from './token-grid';

describe('tileRows / untileRows', () => {
  it('puts each tile contiguous and untiles back (random grids, row widths and element types)', () => {
    fc.assert(
      fc.property(
        smallGrid,
        smallTile,
        fc.integer({ min: 1, max: 24 }),
        fc.constantFrom(Float32Array, Uint16Array, Uint8Array),
        (grid, tile, rowWidth, Ctor) => {
          const permutation = createTilePermutation({ layout: createTileLayout({ grid, tile }) });
          const n = grid.frames * grid.height * grid.width;
          const src = new Ctor(n * rowWidth);
          for (let i = 0; i < src.length; i++) src[i] = (i * 31) % 251;
          const tiled = tileRows({ permutation, src, rowWidth });
          const order = bruteForceTilePermutation({ grid, tile });
          for (let i = 0; i < n; i++) {
            for (let j = 0; j < rowWidth; j++) expect(tiled[i * rowWidth + j]).toBe(src[order[i]! * rowWidth + j]);
          }
          expect(untileRows({ permutation, src: tiled, rowWidth })).toEqual(src);
        },
      ),
      { numRuns: runs(150) },
    );
  });

  it('round-trips a 720p bf16 [tokens, 128] tensor', () => {
    const permutation = createTilePermutation({ layout: createTileLayout({ grid: WAN_720P_GRID, tile: [3, 5, 8] }) });
    const rowWidth = 128;
    const src = new Uint16Array(WAN_720P_GRID.numTokens * rowWidth);
    for (let i = 0; i < src.length; i++) src[i] = i & 0xffff;
    const tiled = tileRows({ permutation, src, rowWidth });
    const back = untileRows({ permutation, src: tiled, rowWidth, out: new Uint16Array(src.length) });
    expect(Buffer.from(back.buffer).equals(Buffer.from(src.buffer))).toBe(true);
  });

  it('rejects a tensor with the wrong number of tokens', () => {
    const permutation = createTilePermutation({ layout: createTileLayout({ grid: { frames: 1, height: 2, width: 2 }, tile: [1, 1, 1] }) });
    expect(() => tileRows({ permutation, src: new Float32Array(12), rowWidth: 2 })).toThrow(ShapeMismatchError);
    expect(() => untileRows({ permutation, src: new Float32Array(12), rowWidth: 2 })).toThrow(/4 tokens x 2/);
  });
});

describe('padRows / unpadRows', () => {
  it('writes real rows to their slots, fills padding, and unpads back (random grids)', () => {
    fc.assert(
      fc.property(smallGrid, smallTile, fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 9 }), (grid, tile, rowMultiple, rowWidth) => {
        const padded = createPaddedTileLayout({ layout: createTileLayout({ grid, tile }), rowMultiple });
        const n = grid.frames * grid.height * grid.width;
        const src = Float32Array.from({ length: n * rowWidth }, (_, i) => i + 1);
        const out = padRows({ padded, src, rowWidth, fill: Number.NaN });
        expect(out.length).toBe(padded.numRows * rowWidth);
        for (let s = 0; s < padded.numRows; s++) {
          const r = padded.slotToToken[s]!;
          for (let j = 0; j < rowWidth; j++) {
            if (r < 0) expect(out[s * rowWidth + j]).toBeNaN();
            else expect(out[s * rowWidth + j]).toBe(src[r * rowWidth + j]);
          }
        }
        expect(unpadRows({ padded, src: out, rowWidth })).toEqual(src);
      }),
      { numRuns: runs(150) },
    );
  });

  it('rejects inputs of the wrong length', () => {
    const padded = createPaddedTileLayout({ layout: createTileLayout({ grid: { frames: 1, height: 3, width: 3 }, tile: [1, 2, 2] }), rowMultiple: 4 });
    expect(() => padRows({ padded, src: new Float32Array(8), rowWidth: 1 })).toThrow(ShapeMismatchError);
    expect(() => unpadRows({ padded, src: new Float32Array(9), rowWidth: 1 })).toThrow(/16 x 1/);
  });
});

describe('rowWidth validation', () => {
  const layout = createTileLayout({ grid: { frames: 1, height: 2, width: 2 }, tile: [1, 1, 1] });
  const permutation = createTilePermutation({ layout });
  const padded = createPaddedTileLayout({ layout, rowMultiple: 2 });
  const calls = {
    tileRows: (rowWidth: number) => tileRows({ permutation, src: new Float32Array(4), rowWidth }),
    untileRows: (rowWidth: number) => untileRows({ permutation, src: new Float32Array(4), rowWidth }),
    padRows: (rowWidth: number) => padRows({ padded, src: new Float32Array(4), rowWidth }),
    unpadRows: (rowWidth: number) => unpadRows({ padded, src: new Float32Array(4), rowWidth }),
  };
  it.each(
    (Object.keys(calls) as (keyof typeof calls)[]).flatMap((name) => [Number.NaN, 0, -1, 1.5, '1' as unknown as number].map((w) => [name, w] as const)),
  )('%s names rowWidth %s before checking the length', (name, rowWidth) => {
    expect(() => calls[name](rowWidth)).toThrow(InvalidArgumentError);
    expect(() => calls[name](rowWidth)).toThrow(/'rowWidth'/);
  });
});
