import {
  type PaddedTileLayout,
  type TileLayout,
  type TokenGrid,
  type WindowSpec,
  buildBlockMask,
  createPaddedTileLayout,
  createTileLayout,
  createTilePermutation,
  keyTilesOf,
  tileOfToken,
  windowKey,
} from '@fpsattn/tiling';
import type { ResolvedGranularity, ResolvedPlans } from './_plans';
import { AttentionPlanError } from './errors';

/**
 * The order the kernel's operands are in (see README "Token order"):
 * - `'tile-major-padded'`: sparse calls, and dense FP8 calls with tile granularity whose tiles pad to whole blocks
 *   cheaply (MAX_TILE_PADDING). Attention (resp. quantization) tiles in tile order, every tile padded to a multiple of
 *   the kernel's block rows, so a key block never mixes two tiles (tiling's `createPaddedTileLayout`).
 * - `'tile-major'`: the other dense FP8 calls with tile granularity. The quantization tiles in tile order (compact,
 *   tiling's `createTilePermutation`), padded once at the end: each quantization tile is one run of rows.
 * - `'raster'`: every other dense call. Wan's raster order, padded once at the end (no permutation at all).
 */
export type TokenOrder = 'tile-major-padded' | 'tile-major' | 'raster';

/** CSR key-block lists in the kernel's form: `rowPtr` [listHeads, numBlocks + 1] of absolute offsets into `colIdx`. */
export interface HostBlockLists {
  readonly listHeads: number;
  readonly rowPtr: Int32Array;
  readonly colIdx: Int32Array;
  readonly nnz: number;
}

/** The Q/K quantization groups of one batch item's padded rows (one scale per (group, head)). */
export interface HostQuantGroups {
  readonly granularity: ResolvedGranularity;
  /** [npad] the group of each padded row. Padding rows never share a group with real rows. */
  readonly groupOfRow: Int32Array;
  /**
   * Number of groups, rounded up to a multiple of 4 so that the scales of batch item b (rows `b * groupCount ..` of a
   * float32 [batch * groupCount, heads] table) start on a 16-byte boundary. Groups past the used ones have no rows.
   */
  readonly groupCount: number;
  /**
   * What each group stands for: the quantization tile id ('tile', tiles in tile raster order), the raster token
   * ('token'), 0 ('tensor'); -1 for groups of padding rows and unused groups.
   */
  readonly groupUnit: Int32Array;
  /**
   * Every group is one run of rows, groups in ascending order (what the fused CUDA quantization kernel wants). False
   * for quantization tiles that are not runs of the order (coarser than the attention tile, or slabs across its rows)
   * and for per-tensor maps with padding between tiles: quantizeRows takes its two-pass path.
   */
  readonly contiguous: boolean;
  /**
   * [numBlocks] the group of every real row of each kernel block (padding rows do not count; a block without real
   * rows takes the group of the block before it, or 0), or null when the real rows of some block belong to two
   * groups. Non-null for 'tensor', and for 'tile' when no block straddles two quantization tiles (e.g. the
   * quantization tile is the attention tile): then K can take one scale per key block (`kBlockScale`).
   */
  readonly groupOfBlock: Int32Array | null;
}

/** Everything about the token order and the block structure of one (grid, plans, block size), on the host. */
export interface HostGeometry {
  readonly grid: TokenGrid;
  readonly blockRows: number;
  readonly order: TokenOrder;
  /** The tiles of the order: attention tiles (sparse), quantization tiles (dense 'tile' granularity), else null. */
  readonly tileLayout: TileLayout | null;
  readonly paddedLayout: PaddedTileLayout | null;
  readonly numTokens: number;
  /** Padded rows: numBlocks * blockRows. */
  readonly npad: number;
  readonly numBlocks: number;
  /** [npad] the raster token of each padded row, -1 for padding (gather: row i <- token; scatter: token <- row i). */
  readonly slotToToken: Int32Array;
  /** True when slotToToken is 0, 1, ..., npad - 1 (raster order and tokens a multiple of blockRows): no copy needed. */
  readonly identity: boolean;
  /** [numBlocks] the real rows at the start of each block (the rest of the block is padding). */
  readonly blockValidRows: Int32Array;
  /** Sparse calls: the key-block lists; dense calls: null (every block). */
  readonly lists: HostBlockLists | null;
  /** FP8 calls: the Q/K quantization groups; BF16 calls: null. */
  readonly groups: HostQuantGroups | null;
}

const INT32_MAX = 2 ** 31 - 1;

/**
 * Dense FP8 calls with tile granularity pad each quantization tile to whole kernel blocks when that adds at most this
 * share of rows. Padded, every key block has one K scale and the kernel takes its per-block path; compact, blocks
 * straddle tiles and it takes the per-row path, 1.13x slower per pair on an H200 since the K-scale ring (Wan 720p:
 * 47.1 vs 41.6 ms, bench/results/2026-12-01-session4 call 5; it was 1.45x before). Rows r times more cost r^2 more
 * pairs, and padded blocks are ragged (120 real rows of 128 for Wan's (3, 5, 8) tiles: 50.7 ms kernel-alone, call 2),
 * so padding pays only for tiles that are nearly whole blocks already. Composed at Wan 720p, batch 1: compact per-row
 * 49.2 ms (714 TFLOP/s, call 6) against padded per-block 50.5 ms (696, call 2).
 */
const MAX_TILE_PADDING = 1.05;

/** Blocks of a tile-major padded layout whose rows are all real up to the tile's size. */
function paddedBlockValidRows(layout: TileLayout, blocksPerTile: number, blockRows: number): Int32Array {
  const valid = new Int32Array(layout.numTiles * blocksPerTile);
  for (let u = 0; u < layout.numTiles; u++) {
    const size = layout.tileSizes[u] as number;
    for (let s = 0; s < blocksPerTile; s++) valid[u * blocksPerTile + s] = Math.max(0, Math.min(blockRows, size - s * blockRows));
  }
  return valid;
}

/**
 * Expands tile-level masks to block lists: query block `u * bpt + s` of tile u lists the blocks `v * bpt + s'` of every
 * key tile v of its window, skipping blocks without real rows (they hold no key), in ascending order. A query block
 * without real rows gets an empty list.
 */
function expandLists(layout: TileLayout, windows: readonly WindowSpec[], blocksPerTile: number, valid: Int32Array): HostBlockLists {
  const distinct = new Map<string, number>();
  const headOfWindow = windows.map((w) => {
    const key = windowKey(w);
    if (!distinct.has(key)) distinct.set(key, distinct.size);
    return distinct.get(key) as number;
  });
  // One list head when every head has the same window; else one per head (heads sharing a window share its entries).
  const listHeads = distinct.size === 1 ? 1 : windows.length;
  const numBlocks = layout.numTiles * blocksPerTile;
  const masks = [...distinct.keys()].map((_, i) => buildBlockMask({ layout, window: windows[headOfWindow.indexOf(i)] as WindowSpec }));
  const rowsOf = masks.map((mask) => {
    let nnz = 0;
    const counts = new Float64Array(numBlocks);
    for (let qb = 0; qb < numBlocks; qb++) {
      if ((valid[qb] as number) === 0) continue;
      for (const v of keyTilesOf({ mask, tile: Math.floor(qb / blocksPerTile) })) {
        for (let s = 0; s < blocksPerTile; s++) if ((valid[v * blocksPerTile + s] as number) > 0) counts[qb] = (counts[qb] as number) + 1;
      }
      nnz += counts[qb] as number;
    }
    return { mask, counts, nnz };
  });
  const total = rowsOf.reduce((sum, r) => sum + r.nnz, 0);
  // Stryker disable all: reached only past 2^31 list entries, far beyond what a test can build
  if (total > INT32_MAX) {
    throw new AttentionPlanError({
      field: 'plans',
      actual: `${total} key blocks`,
      rule: 'the block lists are Int32 (at most 2^31 - 1 entries): use larger attention tiles or smaller windows',
    });
  }
  // Stryker restore all
  // Entries are stored once per distinct window; list heads point at their window's entries.
  const colIdx = new Int32Array(total);
  const start = new Float64Array(rowsOf.length);
  let offset = 0;
  rowsOf.forEach(({ mask, counts, nnz }, i) => {
    start[i] = offset;
    let k = offset;
    for (let qb = 0; qb < numBlocks; qb++) {
      if ((counts[qb] as number) === 0) continue;
      for (const v of keyTilesOf({ mask, tile: Math.floor(qb / blocksPerTile) })) {
        for (let s = 0; s < blocksPerTile; s++) {
          const kb = v * blocksPerTile + s;
          if ((valid[kb] as number) > 0) colIdx[k++] = kb;
        }
      }
    }
    offset += nnz;
  });
  const rowPtr = new Int32Array(listHeads * (numBlocks + 1));
  for (let h = 0; h < listHeads; h++) {
    const w = headOfWindow[h] as number; // list head h is head h, or head 0 of a shared list
    const { counts } = rowsOf[w] as (typeof rowsOf)[number];
    let p = start[w] as number;
    const base = h * (numBlocks + 1);
    rowPtr[base] = p;
    for (let qb = 0; qb < numBlocks; qb++) {
      p += counts[qb] as number;
      rowPtr[base + qb + 1] = p;
    }
  }
  return Object.freeze({ listHeads, rowPtr, colIdx, nnz: total });
}

/**
 * Groups of the padded rows. Rows are walked in order and a new group starts whenever the unit changes (a real row's
 * quantization unit, or a run of padding rows), so each group is one run of rows; for 'tile' a unit met again after
 * another one means the quantization tiles are not runs of the order, and the plan is rejected. 'tensor' keeps one
 * group for all real rows and one for all padding rows (contiguous only when padding sits at the end).
 */
function quantGroups(options: {
  grid: TokenGrid;
  granularity: ResolvedGranularity;
  slotToToken: Int32Array;
  order: TokenOrder;
  attentionTile: readonly number[] | null;
  blockRows: number;
}): HostQuantGroups {
  const { grid, granularity, slotToToken, order } = options;
  const npad = slotToToken.length;
  const groupOfRow = new Int32Array(npad);
  const units: number[] = [];
  let contiguous = true;
  if (granularity.kind === 'tensor') {
    let sawPadding = false;
    for (let s = 0; s < npad; s++) {
      const real = (slotToToken[s] as number) >= 0;
      groupOfRow[s] = real ? 0 : 1;
      if (real && sawPadding) contiguous = false;
      sawPadding ||= !real;
    }
    units.push(0); // group 1 (padding rows, if any) stands for nothing: -1 below
  } else {
    const quantLayout = granularity.kind === 'tile' ? createTileLayout({ grid, tile: granularity.tile }) : null;
    const unitOf = (token: number): number => (quantLayout ? tileOfToken({ layout: quantLayout, token }) : token);
    const groupOfUnit = new Map<number, number>();
    let previous = Number.NaN; // the unit of the previous row; -1 for padding
    for (let s = 0; s < npad; s++) {
      const token = slotToToken[s] as number;
      const unit = token < 0 ? -1 : unitOf(token);
      if (unit >= 0 && unit !== previous && groupOfUnit.has(unit)) {
        // A quantization tile met again (one coarser than the attention tile, or a slab across its rows): same group,
        // and the map is no longer one run per group (quantizeRows then takes its two-pass path).
        contiguous = false;
        groupOfRow[s] = groupOfUnit.get(unit) as number;
        previous = unit;
        continue;
      }
      if (unit !== previous) {
        if (unit >= 0) groupOfUnit.set(unit, units.length);
        units.push(unit);
        previous = unit;
      }
      groupOfRow[s] = unit >= 0 ? (groupOfUnit.get(unit) as number) : units.length - 1;
    }
  }
  const groupCount = Math.ceil(units.length / 4) * 4;
  const groupUnit = new Int32Array(groupCount).fill(-1);
  groupUnit.set(units);
  const groupOfBlock = blockGroups(groupOfRow, slotToToken, options.blockRows);
  return Object.freeze({ granularity, groupOfRow, groupCount, groupUnit, contiguous, groupOfBlock });
}

/** The one group of the real rows of each block (see {@link HostQuantGroups.groupOfBlock}), or null. */
function blockGroups(groupOfRow: Int32Array, slotToToken: Int32Array, blockRows: number): Int32Array | null {
  const numBlocks = slotToToken.length / blockRows;
  const groupOfBlock = new Int32Array(numBlocks);
  let previous = 0;
  for (let b = 0; b < numBlocks; b++) {
    let group = -1;
    for (let s = b * blockRows; s < (b + 1) * blockRows; s++) {
      if ((slotToToken[s] as number) < 0) continue;
      const g = groupOfRow[s] as number;
      if (group === -1) group = g;
      else if (g !== group) return null;
    }
    previous = group === -1 ? previous : group;
    groupOfBlock[b] = previous;
  }
  return groupOfBlock;
}

/**
 * Builds the host geometry of a call: token order, padding, valid rows per block, block lists and quantization groups
 * (see {@link HostGeometry}); `blockRows` is the kernel's block (ATTENTION_TILE_POLICY.blockM).
 */
export function buildHostGeometry(options: { grid: TokenGrid; plans: ResolvedPlans; blockRows: number }): HostGeometry {
  const { grid, plans, blockRows } = options;
  const n = grid.numTokens;
  let order: TokenOrder;
  let tileLayout: TileLayout | null = null;
  let paddedLayout: PaddedTileLayout | null = null;
  let slotToToken: Int32Array;
  let blockValidRows: Int32Array;
  let lists: HostBlockLists | null = null;
  if (plans.sparse) {
    order = 'tile-major-padded';
    tileLayout = createTileLayout({ grid, tile: plans.attentionTile as readonly [number, number, number] });
    paddedLayout = createPaddedTileLayout({ layout: tileLayout, rowMultiple: blockRows });
    const blocksPerTile = paddedLayout.blockRows / blockRows;
    slotToToken = paddedLayout.slotToToken;
    blockValidRows = paddedBlockValidRows(tileLayout, blocksPerTile, blockRows);
    lists = expandLists(tileLayout, plans.windows ?? [], blocksPerTile, blockValidRows);
  } else {
    const numBlocks = Math.ceil(n / blockRows);
    const quantLayout = plans.granularity?.kind === 'tile' ? createTileLayout({ grid, tile: plans.granularity.tile }) : null;
    const quantPadded = quantLayout ? createPaddedTileLayout({ layout: quantLayout, rowMultiple: blockRows }) : null;
    if (quantLayout && quantPadded && quantPadded.slotToToken.length <= MAX_TILE_PADDING * numBlocks * blockRows) {
      // Each quantization tile padded to whole blocks: every key block has one K scale (kBlockScale), which pays for
      // the padded pairs (README "Token order").
      order = 'tile-major-padded';
      tileLayout = quantLayout;
      paddedLayout = quantPadded;
      slotToToken = quantPadded.slotToToken;
      blockValidRows = paddedBlockValidRows(quantLayout, quantPadded.blockRows / blockRows, blockRows);
    } else {
      slotToToken = new Int32Array(numBlocks * blockRows).fill(-1);
      if (quantLayout) {
        order = 'tile-major';
        tileLayout = quantLayout;
        slotToToken.set(createTilePermutation({ layout: quantLayout }).forward);
      } else {
        order = 'raster';
        for (let i = 0; i < n; i++) slotToToken[i] = i;
      }
      blockValidRows = new Int32Array(numBlocks);
      for (let b = 0; b < numBlocks; b++) blockValidRows[b] = Math.min(blockRows, n - b * blockRows);
    }
  }
  const npad = slotToToken.length;
  let identity = npad === n;
  for (let i = 0; identity && i < n; i++) identity = slotToToken[i] === i;
  const groups =
    plans.granularity === null
      ? null
      : quantGroups({ grid, granularity: plans.granularity, slotToToken, order, attentionTile: plans.attentionTile, blockRows });
  return Object.freeze({
    grid,
    blockRows,
    order,
    tileLayout,
    paddedLayout,
    numTokens: n,
    npad,
    numBlocks: npad / blockRows,
    slotToToken,
    identity,
    blockValidRows,
    lists,
    groups,
  });
}
