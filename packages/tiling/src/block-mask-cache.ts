import { InvalidArgumentError } from '@fpsattn/fp8';
import { assertPositiveInt, describe } from './_validate';
import { buildBlockMask, type BlockMask } from './block-mask';
import { readSize3 } from './size3';
import { createTileLayout, type TileLayout } from './tile-layout';
import { createTokenGrid } from './token-grid';
import type { Dims3, GridDims, Size3 } from './types';
import { validateWindow, windowKey, type WindowInput, type WindowSpec } from './window-3d';

/**
 * What identifies a mask: `{ grid, tile, window }` (sizes as `[t, h, w]` or `{ frames, height, width }`), or
 * `{ layout, window }` (the layout's grid and tile).
 */
export type BlockMaskParams = { grid: Size3; tile: Size3; window: WindowInput } | { layout: TileLayout; window: WindowInput };

/** Validates the parameters (so a cache hit and a miss reject the same inputs) and returns the key and grid/tile. */
function readParams(options: BlockMaskParams): { key: string; grid: GridDims; tile: Dims3; window: WindowSpec; layout?: TileLayout } {
  if (typeof options !== 'object' || options === null) {
    throw new InvalidArgumentError({ argument: 'options', value: options, message: `expected { grid, tile, window } or { layout, window }, got ${describe(options)}` });
  }
  const layout = 'layout' in options ? options.layout : undefined;
  if ('layout' in options && (typeof layout !== 'object' || layout === null)) {
    throw new InvalidArgumentError({ argument: 'layout', value: layout, message: `expected a TileLayout, got ${describe(layout)}` });
  }
  const grid = createTokenGrid(layout ? layout.grid : (options as { grid: Size3 }).grid);
  const tile = readSize3(layout ? 'layout.tile' : 'tile', layout ? layout.tile : (options as { tile: Size3 }).tile);
  const window = validateWindow(options.window);
  const key = `${grid.frames}x${grid.height}x${grid.width}|${tile.join('x')}|${windowKey(window)}`;
  return { key, grid, tile, window, ...(layout ? { layout } : {}) };
}

/**
 * Cache key of a mask: every parameter that changes it, e.g. `21x45x80|3x5x8|clamped:3x3x5`. Validates the
 * parameters first (InvalidArgumentError), so two keys are equal only for equal valid parameters.
 */
export function blockMaskKey(options: BlockMaskParams): string {
  return readParams(options).key;
}

/**
 * Least-recently-used cache of block masks keyed by (grid, tile, window), so a plan builds each mask once
 * (a Map keeps insertion order; a hit moves the entry to the back, eviction drops the front).
 * Returned masks are shared: treat their arrays as read-only.
 */
export class BlockMaskCache {
  readonly capacity: number;
  hits = 0;
  misses = 0;
  private readonly entries = new Map<string, BlockMask>();

  constructor(options: { capacity?: number } = {}) {
    const capacity = options.capacity ?? 64;
    assertPositiveInt('capacity', capacity);
    this.capacity = capacity;
  }

  get size(): number {
    return this.entries.size;
  }

  /**
   * Returns the cached mask or builds, caches and returns it. Takes `{ grid, tile, window }` or `{ layout, window }`,
   * so `(o) => cache.get(o)` can be the `build` of {@link buildHeadBlockMasks}. Parameters are validated on hits too.
   */
  get(options: BlockMaskParams): BlockMask {
    const { key, grid, tile, window, layout: given } = readParams(options);
    const hit = this.entries.get(key);
    if (hit) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    this.misses++;
    const layout = given ?? createTileLayout({ grid, tile });
    const mask = buildBlockMask({ layout, window });
    this.entries.set(key, mask);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      // Stryker disable next-line ConditionalExpression: the map holds capacity + 1 >= 2 entries here, so oldest is never undefined (the test only narrows the type)
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return mask;
  }

  /** Whether the mask is cached (validates the parameters like {@link BlockMaskCache.get}). */
  has(options: BlockMaskParams): boolean {
    return this.entries.has(readParams(options).key);
  }

  clear(): void {
    this.entries.clear();
    this.hits = 0;
    this.misses = 0;
  }
}

/** The process-wide cache behind {@link getBlockMask}. */
export const defaultBlockMaskCache = new BlockMaskCache();

/** Cached {@link buildBlockMask} by (grid, tile, window). */
export function getBlockMask(options: BlockMaskParams): BlockMask {
  return defaultBlockMaskCache.get(options);
}
