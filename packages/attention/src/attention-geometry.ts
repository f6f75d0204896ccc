import {
  ATTENTION_TILE_POLICY,
  type Backend,
  type GroupMap,
  type RowMap,
  type Tensor,
  createGroupMap,
  createRowMap,
  getBackend,
} from '@fpsattn/kernels';
import type { AttentionPlan } from '@fpsattn/scheduler';
import { type PaddedTileLayout, type Size3, type TileLayout, type TokenGrid, createTokenGrid } from '@fpsattn/tiling';
import { type AttentionDType, type ResolvedPlans, resolvePlans } from './_plans';
import { type HostGeometry, type TokenOrder, buildHostGeometry } from './host-geometry';
import { AttentionPlanError } from './errors';

export interface AttentionGeometryOptions {
  /** Where the device data lives (default: `getBackend()`). */
  backend?: Backend;
  /** The token grid: `{ frames, height, width }` or `[T, H, W]`. */
  grid: Size3;
  /** One plan for every head... */
  plan?: AttentionPlan;
  /** ...or one plan per head (per-head windows; one attention tile, one granularity, one operand type). */
  plans?: readonly AttentionPlan[];
  /** Rows per kernel block; default `ATTENTION_TILE_POLICY.blockM` (the kernel's own policy; other values are for
   * tests of the CPU backend). */
  blockRows?: number;
}

/** The key-block lists of a sparse call on the device (what `attentionForward` takes as `rowPtr` / `colIdx`). */
export interface DeviceBlockLists {
  /** 1 (every head) or the number of per-head plans. */
  readonly listHeads: number;
  /** i32 [listHeads, numBlocks + 1]: absolute offsets into colIdx. */
  readonly rowPtr: Tensor<'i32'>;
  /** i32 [nnz]: key block ids, ascending within each list. */
  readonly colIdx: Tensor<'i32'>;
  readonly nnz: number;
}

/**
 * Everything an attention call needs that depends only on (backend, grid, plans, kernel block): the token order and its
 * padding, the gather/scatter map, the valid rows per block, the block lists and the Q/K quantization groups, on the
 * device, plus their host copies (`host`). Dispose it to free the device data; a cached geometry belongs to its cache.
 */
export interface AttentionGeometry extends Disposable {
  readonly backend: Backend;
  readonly grid: TokenGrid;
  readonly blockRows: number;
  readonly order: TokenOrder;
  /** The operand type of the plans. */
  readonly dtype: AttentionDType;
  /** The number of per-head plans (`plans`), or null when one `plan` serves every head. */
  readonly planHeads: number | null;
  readonly tileLayout: TileLayout | null;
  readonly paddedLayout: PaddedTileLayout | null;
  readonly numTokens: number;
  readonly npad: number;
  readonly numBlocks: number;
  /**
   * Gather (`gatherRows({ src, map })`: padded row i <- raster token) and scatter (`scatterRows({ src, map })`: raster
   * token <- padded row i) of one batch item's [tokens, cols] rows; null when the order is the identity (raster order,
   * tokens a multiple of blockRows): the raster tensor is the operand.
   */
  readonly rowMap: RowMap | null;
  /** i32 [numBlocks]. */
  readonly blockValidRows: Tensor<'i32'>;
  /** Sparse calls: the block lists; dense calls: null (every key block). */
  readonly blockLists: DeviceBlockLists | null;
  /** FP8 calls: the Q/K group map of one batch item's npad rows (groupCount a multiple of 4); BF16 calls: null. */
  readonly quantGroups: GroupMap | null;
  /**
   * FP8 calls whose kernel blocks each hold real rows of one quantization group ('tensor' granularity, or 'tile' with
   * no block across two quantization tiles, e.g. the quantization tile = the attention tile): a group map over the
   * numBlocks blocks ("rows"), with quantGroups' groupCount, giving each block the group of its real rows
   * (`host.groups.groupOfBlock`). `expandRowScales({ scales, groups: kBlockGroups })` turns K's scale table into
   * attentionForward's `kBlockScale` [batch, heads, numBlocks]. Null otherwise ('token', smaller or straddling
   * quantization tiles, BF16): K's scales go per row.
   */
  readonly kBlockGroups: GroupMap | null;
  /** The host form of all of the above. */
  readonly host: HostGeometry;
  /** The plans it was built from, resolved. */
  readonly plans: ResolvedPlans;
  readonly disposed: boolean;
  dispose(): void;
}

function readBlockRows(value: unknown): number {
  const blockRows = value ?? ATTENTION_TILE_POLICY.blockM;
  if (!Number.isSafeInteger(blockRows) || (blockRows as number) < 1 || (blockRows as number) % 4 !== 0) {
    throw new AttentionPlanError({ field: 'blockRows', actual: String(blockRows), rule: 'expected a positive multiple of 4 (the kernel uses ATTENTION_TILE_POLICY.blockM)' });
  }
  return blockRows as number;
}

/**
 * Builds a geometry that the caller owns (dispose it). Most callers want {@link attentionGeometry}, which caches.
 * Throws an AttentionPlanError for plans one call cannot run (see README "Plans").
 */
export function createAttentionGeometry(options: AttentionGeometryOptions): AttentionGeometry {
  const backend = options.backend ?? getBackend();
  const grid = createTokenGrid(options.grid);
  const plans = resolvePlans({ plan: options.plan, plans: options.plans });
  const blockRows = readBlockRows(options.blockRows);
  const host = buildHostGeometry({ grid, plans, blockRows });
  return uploadGeometry(backend, host, plans);
}

function uploadGeometry(backend: Backend, host: HostGeometry, plans: ResolvedPlans): AttentionGeometry {
  const owned: { dispose(): void }[] = [];
  const keep = <T extends { dispose(): void }>(x: T): T => {
    owned.push(x);
    return x;
  };
  try {
    const rowMap = host.identity
      ? null
      : keep(createRowMap({ backend, indices: host.slotToToken, targetRows: host.numTokens, name: 'attention.rowMap' }));
    const blockValidRows = keep(backend.fromArray(host.blockValidRows, [host.numBlocks], 'i32', { name: 'attention.blockValidRows' }));
    let blockLists: DeviceBlockLists | null = null;
    if (host.lists !== null) {
      const { listHeads, nnz } = host.lists;
      blockLists = Object.freeze({
        listHeads,
        nnz,
        rowPtr: keep(backend.fromArray(host.lists.rowPtr, [listHeads, host.numBlocks + 1], 'i32', { name: 'attention.rowPtr' })),
        colIdx: keep(backend.fromArray(host.lists.colIdx, [nnz], 'i32', { name: 'attention.colIdx' })),
      });
    }
    const quantGroups =
      host.groups === null
        ? null
        : keep(createGroupMap({ backend, groupOfRow: host.groups.groupOfRow, groupCount: host.groups.groupCount, name: 'attention.groupOfRow' }));
    const kBlockGroups =
      host.groups === null || host.groups.groupOfBlock === null
        ? null
        : keep(createGroupMap({ backend, groupOfRow: host.groups.groupOfBlock, groupCount: host.groups.groupCount, name: 'attention.groupOfBlock' }));
    let disposed = false;
    const dispose = () => {
      if (disposed) return;
      disposed = true;
      for (const x of owned) x.dispose();
    };
    return {
      backend,
      grid: host.grid,
      blockRows: host.blockRows,
      order: host.order,
      dtype: plans.dtype,
      planHeads: plans.perHead ? plans.plans.length : null,
      tileLayout: host.tileLayout,
      paddedLayout: host.paddedLayout,
      numTokens: host.numTokens,
      npad: host.npad,
      numBlocks: host.numBlocks,
      rowMap,
      blockValidRows,
      blockLists,
      quantGroups,
      kBlockGroups,
      host,
      plans,
      get disposed() {
        return disposed;
      },
      dispose,
      [Symbol.dispose]: dispose,
    };
  } catch (e) {
    for (const x of owned) x.dispose();
    throw e;
  }
}

// ------------------------------------------------------------------------------------------------- the cache
const backendIds = new WeakMap<Backend, number>();
let nextBackendId = 0;
function backendId(backend: Backend): number {
  let id = backendIds.get(backend);
  if (id === undefined) {
    id = nextBackendId++;
    backendIds.set(backend, id);
  }
  return id;
}

/**
 * Geometries by (backend, grid, plans, kernel block), least recently used first out. A denoising loop calls attention
 * with the same few (grid, plan) pairs at every step, so it builds and uploads each geometry once. Evicted and cleared
 * geometries are disposed: hold on to one only while the cache keeps it, or build your own with
 * {@link createAttentionGeometry}.
 */
export class AttentionGeometryCache {
  readonly capacity: number;
  readonly #entries = new Map<string, AttentionGeometry>();
  #hits = 0;
  #misses = 0;

  constructor(options: { capacity?: number } = {}) {
    const capacity = options.capacity ?? 32;
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw new AttentionPlanError({ field: 'capacity', actual: String(capacity), rule: 'expected a positive integer' });
    }
    this.capacity = capacity;
  }

  /** The geometry of these options, built on a miss (validated on hits as on misses). */
  get(options: AttentionGeometryOptions): AttentionGeometry {
    const backend = options.backend ?? getBackend();
    const grid = createTokenGrid(options.grid);
    const plans = resolvePlans({ plan: options.plan, plans: options.plans });
    const blockRows = readBlockRows(options.blockRows);
    const key = `${backendId(backend)}|${grid.frames}x${grid.height}x${grid.width}|${blockRows}|${plans.perHead ? plans.plans.length : 'all'}|${plans.key}`;
    const cached = this.#entries.get(key);
    if (cached !== undefined && !cached.disposed) {
      this.#hits++;
      this.#entries.delete(key); // re-insert: most recently used last
      this.#entries.set(key, cached);
      return cached;
    }
    this.#misses++;
    this.#entries.delete(key);
    const geometry = uploadGeometry(backend, buildHostGeometry({ grid, plans, blockRows }), plans);
    this.#entries.set(key, geometry);
    while (this.#entries.size > this.capacity) {
      const [oldestKey, oldest] = this.#entries.entries().next().value as [string, AttentionGeometry];
      this.#entries.delete(oldestKey);
      oldest.dispose();
    }
    return geometry;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Hits and misses since construction (or the last `clear`). */
  stats(): { hits: number; misses: number; size: number } {
    return { hits: this.#hits, misses: this.#misses, size: this.#entries.size };
  }

  /** Disposes every cached geometry (e.g. at the end of a generation, or before `backend.emptyCache()`). */
  clear(): void {
    for (const geometry of this.#entries.values()) geometry.dispose();
    this.#entries.clear();
    this.#hits = 0;
    this.#misses = 0;
  }
}

/** The cache {@link attentionGeometry} and `attention` use unless given another. */
export const defaultAttentionGeometryCache = new AttentionGeometryCache();

/**
 * The geometry of (backend, grid, plans), from `cache` (default {@link defaultAttentionGeometryCache}): built and
 * uploaded on the first call, shared afterwards. The cache owns it: do not dispose it.
 */
export function attentionGeometry(options: AttentionGeometryOptions & { cache?: AttentionGeometryCache }): AttentionGeometry {
  return (options.cache ?? defaultAttentionGeometryCache).get(options);
}
