import { describe, expect, it } from 'vitest';
import * as tiling from './index';
import * as testing from './testing';

describe('public surface', () => {
  it('exports exactly the documented runtime names', () => {
    expect(Object.keys(tiling).sort()).toEqual(
      [
        'BlockMaskCache', 'WAN_480P_GRID', 'WAN_720P_GRID', 'WINDOW_KINDS', 'attendedPairs', 'blockMaskKey', 'blockMaskNnz', 'blockMaskStats',
        'buildBlockMask', 'buildHeadBlockMasks', 'createPaddedTileLayout', 'createTileLayout', 'createTilePermutation',
        'createTokenGrid', 'defaultBlockMaskCache', 'getBlockMask', 'headBlockMasksStats', 'keyTilesOf', 'padRows',
        'paddedBlockRows', 'permuteRows', 'seedHalfWidths', 'tileCoords', 'tileIndex', 'tileOfToken', 'tileRows', 'toDims3', 'toGridDims',
        'tokenCoords', 'tokenIndex', 'untileRows', 'unpadRows', 'validateWindow', 'windowAxisRange', 'windowKey', 'windowRanges',
      ].sort(),
    );
  });

  it('exports the brute-force references from ./testing', () => {
    expect(Object.keys(testing).sort()).toEqual(
      [
        'bruteForceAxisInWindow', 'bruteForceGatherRows', 'bruteForcePairCount', 'bruteForceTileCoords', 'bruteForceTileId',
        'bruteForceTileLists', 'bruteForceTilePermutation', 'bruteForceTokenMask',
      ].sort(),
    );
  });
});
