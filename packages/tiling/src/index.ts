export type { Dims3, GridDims, NumericTypedArray, Size3 } from './types';
export { toDims3, toGridDims } from './size3';
export { createTokenGrid, tokenIndex, tokenCoords, WAN_480P_GRID, WAN_720P_GRID, type TokenGrid } from './token-grid';
export { createTileLayout, tileIndex, tileCoords, tileOfToken, type TileLayout } from './tile-layout';
export { createTilePermutation, type TilePermutation } from './tile-permutation';
export { createPaddedTileLayout, paddedBlockRows, type PaddedTileLayout } from './padded-tile-layout';
export { permuteRows } from './permute-rows';
export { tileRows, untileRows } from './tile-rows';
export { padRows, unpadRows } from './pad-rows';
export {
  validateWindow,
  seedHalfWidths,
  windowAxisRange,
  windowRanges,
  windowKey,
  WINDOW_KINDS,
  type WindowInput,
  type WindowSpec,
  type WindowKind,
} from './window-3d';
export { buildBlockMask, keyTilesOf, type BlockMask } from './block-mask';
export { blockMaskNnz } from './block-mask-nnz';
export { buildHeadBlockMasks, type HeadBlockMasks } from './head-block-masks';
export {
  blockMaskStats,
  headBlockMasksStats,
  attendedPairs,
  type BlockMaskStats,
  type HeadBlockMasksStats,
} from './block-mask-stats';
export { BlockMaskCache, blockMaskKey, defaultBlockMaskCache, getBlockMask, type BlockMaskParams } from './block-mask-cache';
