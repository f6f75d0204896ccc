import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { buildBlockMask, keyTilesOf } from './block-mask';
import { buildHeadBlockMasks } from './head-block-masks';
import { createTileLayout } from './tile-layout';
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
        expect([...row]).toEqual([...keyTilesOf(single, u)]);
      }
    });
    expect(heads.rowPtr[3 * m]).toBe(heads.colIdx.length);
  });

  it('rejects an empty head list', () => {
    expect(() => buildHeadBlockMasks({ layout, windows: [] })).toThrow(InvalidArgumentError);
  });
});
