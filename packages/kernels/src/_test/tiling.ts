// Tile-major maps of a small video from @fpsattn/tiling (a devDependency of the tests), in the form the kernel tests use.
import { createPaddedTileLayout, createTileLayout, createTilePermutation } from '@fpsattn/tiling';
import { groupOfRuns, groupsInRasterOrder } from '../testing';

export type Grid3 = readonly [number, number, number];

export function tileMajor(grid: Grid3, tile: Grid3) {
  const layout = createTileLayout({ grid: { frames: grid[0], height: grid[1], width: grid[2] }, tile: [tile[0], tile[1], tile[2]] });
  const { forward } = createTilePermutation({ layout });
  const tileOfSlot = groupOfRuns(layout.tileOffsets);
  return { layout, perm: forward, tileOfSlot, tileCount: layout.numTiles, rasterGroups: groupsInRasterOrder(tileOfSlot, forward) };
}

/** Every tile padded to its full volume: slot -> raster token or -1, and the tile of each slot. */
export function paddedTiles(grid: Grid3, tile: Grid3) {
  const { layout } = tileMajor(grid, tile);
  const padded = createPaddedTileLayout({ layout, rowMultiple: layout.tileTokens });
  const groupOfSlot = Int32Array.from({ length: padded.numRows }, (_, s) => Math.floor(s / padded.blockRows));
  return { map: padded.slotToToken, groupOfSlot, tileCount: layout.numTiles };
}
