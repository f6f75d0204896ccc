import { assertPositiveInt } from './_validate';
import type { BlockMask } from './block-mask';
import type { HeadBlockMasks } from './head-block-masks';
import { paddedBlockRows } from './padded-tile-layout';

/**
 * Exact statistics of one head's block mask. Counts are over **real** token pairs (padding never counts):
 *
 * - `attendedPairs = sum_u tileSizes[u] * sum_{v in W(u)} tileSizes[v]`
 * - `density = attendedPairs / numTokens^2`; `tileDensity = nnz / numTiles^2`
 * - `denseBlocks = nnz` (the paper's M x |W(u)|, M = number of query tiles)
 * - `attentionFlops = 4 * headDim * attendedPairs`: QK^T and PV are two matmuls of 2 FLOPs (multiply + add) per
 *   (query, key, channel); softmax is not counted. `denseFlops = 4 * headDim * numTokens^2`.
 * - `executedFlops = 4 * headDim * nnz * blockRows^2`: what a kernel running every listed block on the padded layout
 *   (`blockRows = ceil(tileTokens / rowMultiple) * rowMultiple`) executes, padding included.
 * - `flopsRelative = attentionFlops / denseFlops` (= density), `executedRelative = executedFlops / denseFlops`.
 *
 * Exactness: counts and FLOPs are integers computed in float64, exact while they are at most 2^53. `attendedPairs`
 * is at most `numTokens^2`, so it is exact up to 94,906,265 tokens (`floor(2^26.5)`); grids themselves may hold up
 * to 2^31 - 1 tokens, and beyond 94,906,265 tokens the pair count is rounded (relative error below 2^-52 per
 * addition). The FLOP values multiply exact counts by `4 * headDim`: exact for every power-of-two `headDim` (Wan's
 * 128) and otherwise while `4 * headDim * numTokens^2 <= 2^53` (`executedFlops`: `4 * headDim * nnz * blockRows^2`).
 * `density`, `tileDensity`, `flopsRelative` and `executedRelative` are correctly rounded quotients of those values.
 */
export interface BlockMaskStats {
  readonly numTokens: number;
  readonly numTiles: number;
  readonly denseBlocks: number;
  readonly tileDensity: number;
  readonly attendedPairs: number;
  readonly density: number;
  readonly headDim: number;
  readonly attentionFlops: number;
  readonly denseFlops: number;
  readonly flopsRelative: number;
  readonly rowMultiple: number;
  readonly blockRows: number;
  readonly executedFlops: number;
  readonly executedRelative: number;
}

/** Real attended token pairs of a mask. */
export function attendedPairs(mask: BlockMask): number {
  const { rowPtr, colIdx } = mask;
  const sizes = mask.layout.tileSizes;
  let pairs = 0;
  for (let u = 0; u < mask.numQueryTiles; u++) {
    let keys = 0;
    for (let k = rowPtr[u]!; k < rowPtr[u + 1]!; k++) keys += sizes[colIdx[k]!]!;
    pairs += sizes[u]! * keys;
  }
  return pairs;
}

/** Computes {@link BlockMaskStats}; `headDim` defaults to 128 (Wan), `rowMultiple` to 128. */
export function blockMaskStats(options: { mask: BlockMask; headDim?: number; rowMultiple?: number }): BlockMaskStats {
  const { mask } = options;
  const headDim = options.headDim ?? 128;
  const rowMultiple = options.rowMultiple ?? 128;
  assertPositiveInt('headDim', headDim);
  assertPositiveInt('rowMultiple', rowMultiple);
  const numTokens = mask.layout.grid.numTokens;
  const numTiles = mask.layout.numTiles;
  const pairs = attendedPairs(mask);
  const blockRows = paddedBlockRows({ tileTokens: mask.layout.tileTokens, rowMultiple });
  const denseFlops = 4 * headDim * numTokens * numTokens;
  const attentionFlops = 4 * headDim * pairs;
  const executedFlops = 4 * headDim * mask.nnz * blockRows * blockRows;
  return Object.freeze({
    numTokens,
    numTiles,
    denseBlocks: mask.nnz,
    tileDensity: mask.nnz / (numTiles * numTiles),
    attendedPairs: pairs,
    density: pairs / (numTokens * numTokens),
    headDim,
    attentionFlops,
    denseFlops,
    flopsRelative: attentionFlops / denseFlops,
    rowMultiple,
    blockRows,
    executedFlops,
    executedRelative: executedFlops / denseFlops,
  });
}

/** Statistics summed over heads: pairs, blocks and FLOPs are totals; densities are means over heads. */
export interface HeadBlockMasksStats {
  readonly heads: number;
  readonly perHead: readonly BlockMaskStats[];
  readonly denseBlocks: number;
  readonly attendedPairs: number;
  readonly density: number;
  readonly attentionFlops: number;
  readonly denseFlops: number;
  readonly flopsRelative: number;
  readonly executedFlops: number;
  readonly executedRelative: number;
}

export function headBlockMasksStats(options: {
  masks: HeadBlockMasks;
  headDim?: number;
  rowMultiple?: number;
}): HeadBlockMasksStats {
  const cache = new Map<BlockMask, BlockMaskStats>();
  const perHead = options.masks.masks.map((mask) => {
    let s = cache.get(mask);
    if (!s) {
      // Passed as given: undefined takes blockMaskStats' default, 0 and NaN reach its validation.
      s = blockMaskStats({ mask, headDim: options.headDim, rowMultiple: options.rowMultiple });
      cache.set(mask, s);
    }
    return s;
  });
  const sum = (f: (s: BlockMaskStats) => number) => perHead.reduce((acc, s) => acc + f(s), 0);
  const denseFlops = sum((s) => s.denseFlops);
  const attentionFlops = sum((s) => s.attentionFlops);
  const executedFlops = sum((s) => s.executedFlops);
  return Object.freeze({
    heads: perHead.length,
    perHead,
    denseBlocks: sum((s) => s.denseBlocks),
    attendedPairs: sum((s) => s.attendedPairs),
    density: sum((s) => s.density) / perHead.length,
    attentionFlops,
    denseFlops,
    flopsRelative: attentionFlops / denseFlops,
    executedFlops,
    executedRelative: executedFlops / denseFlops,
  });
}
