// One frame of the token grid (H rows x W columns of tokens) with the attention tiles, one query tile's window and the
// Q/K quantization groups drawn on it.
import type { Granularity } from '@fpsattn/scheduler';
import { keyTilesOf, tileCoords, type BlockMask, type Dims3, type GridDims, type TileLayout } from '@fpsattn/tiling';
import { PICTURE_COLORS } from './colors';
import { line, rect, svgDocument, text, type Picture } from './svg';

/** Token cell size in pixels: as large as fits 960 x 720, between 4 and 32. */
export function gridCellSize(grid: GridDims): number {
  return Math.max(4, Math.min(32, Math.floor(960 / grid.width), Math.floor(720 / grid.height)));
}

export const GRID_MARGINS = Object.freeze({ left: 10, right: 10, top: 40, bottom: 56 });

export interface GridSliceInfo {
  readonly frame: number;
  readonly cell: number;
  /** Tokens of this frame in the query tile, and in the other key tiles of its window. */
  readonly queryTokens: number;
  readonly windowTokens: number;
}

export interface GridSliceOptions {
  grid: GridDims;
  /** The attention tiles and the window (null for a dense plan: no tiles, no window). */
  layout: TileLayout | null;
  mask: BlockMask | null;
  queryTile: number;
  granularity: Granularity | null;
  frame: number;
  title: string;
}

/** Axis boundaries of tiles of size `t` over `n` tokens (interior ones only). */
const cuts = (n: number, t: number): number[] => Array.from({ length: Math.ceil(n / t) - 1 }, (_, i) => (i + 1) * t);

export function gridSlice(options: GridSliceOptions): Picture & { info: GridSliceInfo } {
  const { grid, layout, mask, queryTile, granularity, frame } = options;
  const cell = gridCellSize(grid);
  const { left, right, top, bottom } = GRID_MARGINS;
  const areaW = grid.width * cell;
  const areaH = grid.height * cell;
  const width = left + areaW + right;
  const height = top + areaH + bottom;
  const body: string[] = [text(left, 24, options.title, { size: 14 }), rect(left, top, areaW, areaH, PICTURE_COLORS.token)];
  let queryTokens = 0;
  let windowTokens = 0;
  const tileBox = (u: number): { t0: number; t1: number; h0: number; h1: number; w0: number; w1: number } => {
    const l = layout as TileLayout;
    const [ct, ch, cw] = tileCoords({ layout: l, tile: u });
    const [tt, th, tw] = l.tile;
    return {
      t0: ct * tt,
      t1: Math.min(grid.frames, (ct + 1) * tt),
      h0: ch * th,
      h1: Math.min(grid.height, (ch + 1) * th),
      w0: cw * tw,
      w1: Math.min(grid.width, (cw + 1) * tw),
    };
  };
  if (layout && mask) {
    for (const v of keyTilesOf({ mask, tile: queryTile })) {
      const b = tileBox(v);
      if (frame < b.t0 || frame >= b.t1) continue;
      const isQuery = v === queryTile;
      const tokens = (b.h1 - b.h0) * (b.w1 - b.w0);
      if (isQuery) queryTokens += tokens;
      else windowTokens += tokens;
      body.push(rect(left + b.w0 * cell, top + b.h0 * cell, (b.w1 - b.w0) * cell, (b.h1 - b.h0) * cell, isQuery ? PICTURE_COLORS.query : PICTURE_COLORS.window));
    }
  }
  // Token boundaries (faint, only where cells are large enough to see them), then tiles, then groups dashed on top.
  if (cell >= 12) {
    for (let w = 1; w < grid.width; w++) body.push(line(left + w * cell, top, left + w * cell, top + areaH, PICTURE_COLORS.background, 1));
    for (let h = 1; h < grid.height; h++) body.push(line(left, top + h * cell, left + areaW, top + h * cell, PICTURE_COLORS.background, 1));
  }
  if (layout) {
    const [, th, tw] = layout.tile as Dims3;
    for (const w of cuts(grid.width, tw)) body.push(line(left + w * cell, top, left + w * cell, top + areaH, PICTURE_COLORS.tileLine, 2));
    for (const h of cuts(grid.height, th)) body.push(line(left, top + h * cell, left + areaW, top + h * cell, PICTURE_COLORS.tileLine, 2));
  }
  let groupNote = 'Q/K scales: one per head';
  if (granularity?.kind === 'tile') {
    const [, gh, gw] = granularity.tile;
    for (const w of cuts(grid.width, gw)) body.push(line(left + w * cell, top, left + w * cell, top + areaH, PICTURE_COLORS.quantLine, 2, '6 3'));
    for (const h of cuts(grid.height, gh)) body.push(line(left, top + h * cell, left + areaW, top + h * cell, PICTURE_COLORS.quantLine, 2, '6 3'));
    groupNote = `Q/K scale groups ${granularity.tile.join('x')} (dashed)`;
  } else if (granularity?.kind === 'token') {
    groupNote = 'Q/K scales: one per token';
  } else if (granularity?.kind === 'tensor') {
    groupNote = 'Q/K scales: one per tensor';
  } else {
    groupNote = 'BF16: no quantization';
  }
  const ly = top + areaH + 18;
  const legend: [string, string][] = [];
  if (layout && mask) legend.push([PICTURE_COLORS.query, 'query tile'], [PICTURE_COLORS.window, 'its window']);
  legend.push([PICTURE_COLORS.quantLine, groupNote]);
  if (layout) legend.push([PICTURE_COLORS.tileLine, `attention tiles ${layout.tile.join('x')}`]);
  legend.forEach(([color, label], i) => {
    const x = left + (i % 2) * 230;
    const y = ly + Math.floor(i / 2) * 18;
    body.push(rect(x, y - 10, 12, 12, color), text(x + 16, y, label, { size: 11 }));
  });
  return { name: 'grid', svg: svgDocument(width, height, body), width, height, info: { frame, cell, queryTokens, windowTokens } };
}
