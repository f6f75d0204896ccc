// The block mask as an image: query tiles down, key tiles across, a filled cell where the query tile attends.
import type { BlockMask } from '@fpsattn/tiling';
import { PICTURE_COLORS } from './colors';
import { rect, svgDocument, text, type Picture } from './svg';

/** Pixels per tile: as large as fits 640 px, at least 1. */
export function maskCellSize(numTiles: number): number {
  return Math.max(1, Math.floor(640 / numTiles));
}

export const MASK_MARGINS = Object.freeze({ left: 20, right: 20, top: 44, bottom: 20 });

export function blockMaskImage(options: { mask: BlockMask; title: string }): Picture & { cell: number } {
  const { mask } = options;
  const n = mask.numQueryTiles;
  const cell = maskCellSize(n);
  const { left, right, top, bottom } = MASK_MARGINS;
  const side = n * cell;
  const width = Math.max(left + side + right, 520);
  const height = top + side + bottom;
  const body: string[] = [
    text(left, 18, options.title, { size: 13 }),
    text(left, 34, 'rows: query tiles, columns: key tiles (tile raster order); filled: the block runs', { size: 11 }),
    rect(left, top, side, side, PICTURE_COLORS.maskOff),
  ];
  for (let u = 0; u < n; u++) {
    const start = mask.rowPtr[u] as number;
    const end = mask.rowPtr[u + 1] as number;
    // Runs of consecutive key tiles become one rectangle.
    let i = start;
    while (i < end) {
      let j = i + 1;
      while (j < end && (mask.colIdx[j] as number) === (mask.colIdx[j - 1] as number) + 1) j++;
      body.push(rect(left + (mask.colIdx[i] as number) * cell, top + u * cell, (j - i) * cell, cell, PICTURE_COLORS.maskOn));
      i = j;
    }
  }
  return { name: 'mask', svg: svgDocument(width, height, body), width, height, cell };
}
