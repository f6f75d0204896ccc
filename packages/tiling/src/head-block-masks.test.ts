import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { buildBlockMask, keyTilesOf } from './block-mask';
import { buildHeadBlockMasks } from './head-block-masks';
import { createTileLayout } from './tile-layout';
import type { BlockMask } from './block-mask';
import type { WindowSpec } from './window-3d';

describe('buildHeadBlockMasks', () => {
  const layout = createTileLayout({ grid: { frames: 5, height: 9, width: 11 }, tile: [2, 3, 4] });
  const windows: WindowSpec[] = [
    { kind: 'clamped', tiles: [1, 3, 3] },
    { kind: 'seed', tokens: [4, 6, 8] },
    { kind: 'clamped', tiles: [1, 3, 3] },
  ];

  it('shares one mask between heads with equal windows', () => {
    const heads = buildHeadBlockMasks({ layout, windows });
    expect(heads.heads).toBe(3);
    expect(heads.masks[0]).toBe(heads.masks[2]);
    expect(heads.masks[0]).not.toBe(heads.masks[1]);
    expect(heads.uniform).toBe(false);
    expect(buildHeadBlockMasks({ layout, windows: [windows[0]!, windows[0]!] }).uniform).toBe(true);
  });

  it('packs heads with a leading [heads] dimension', () => {
    const heads = buildHeadBlockMasks({ layout, windows });
    const m = layout.numTiles;
    expect(heads.rowPtr.length).toBe(3 * m + 1);
    windows.forEach((window, h) => {
      const single = buildBlockMask({ layout, window });
      for (let u = 0; u < m; u++) {
        const row = heads.colIdx.subarray(heads.rowPtr[h * m + u]!, heads.rowPtr[h * m + u + 1]!);
        expect([...row]).toEqual([...keyTilesOf({ mask: single, tile: u })]);
      }
    });
    expect(heads.rowPtr[3 * m]).toBe(heads.colIdx.length);
  });

  it('rejects an empty head list', () => {
    expect(() => buildHeadBlockMasks({ layout, windows: [] })).toThrow(InvalidArgumentError);
  });

  it('rejects, before allocating, heads whose summed key tiles exceed 2^31-1', () => {
    // Each head's mask fits Int32 on its own; the packed colIdx of three would not.
    const fake = (window: WindowSpec): BlockMask => ({ ...buildBlockMask({ layout, window }), nnz: 2 ** 31 - 1 });
    const call = () => buildHeadBlockMasks({ layout, windows, build: ({ window }) => fake(window) });
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(/'windows'.*6442450941 key tiles summed over 3 heads, more than 2\^31-1/);
  });

  it('rejects, before allocating, more than 2^31-1 packed row pointers', () => {
    const big = createTileLayout({ grid: { frames: 1, height: 1024, width: 1024 }, tile: [1, 1, 1] }); // 2^20 tiles
    const one = buildBlockMask({ layout: createTileLayout({ grid: { frames: 1, height: 1, width: 1 }, tile: [1, 1, 1] }), window: { kind: 'full' } });
    const windows2048 = Array.from({ length: 2048 }, (): WindowSpec => ({ kind: 'full' }));
    expect(() => buildHeadBlockMasks({ layout: big, windows: windows2048, build: () => one })).toThrow(/'windows'.*2147483649 row pointers/);
  });
});
