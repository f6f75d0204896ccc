import { assertPositiveInt } from './_validate';
import { buildBlockMask, type BlockMask } from './block-mask';
import { createTileLayout } from './tile-layout';
import type { Dims3, GridDims } from './types';
import { validateWindow, windowKey, type WindowSpec } from './window-3d';

/** Cache key of a mask: every parameter that changes it, e.g. `21x45x80|3x5x8|clamped:3x3x5`. */
export function blockMaskKey(options: { grid: GridDims; tile: Dims3; window: WindowSpec }): string {
  const { grid, tile, window } = options;
  return `${grid.frames}x${grid.height}x${grid.width}|${tile.join('x')}|${windowKey(window)}`;
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

  /** Returns the cached mask or builds, caches and returns it. */
  get(options: { grid: GridDims; tile: Dims3; window: WindowSpec }): BlockMask {
    validateWindow(options.window);
    const key = blockMaskKey(options);
    const hit = this.entries.get(key);
    if (hit) {
      this.hits++;
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    this.misses++;
    const layout = createTileLayout({ grid: options.grid, tile: options.tile });
    const mask = buildBlockMask({ layout, window: options.window });
    this.entries.set(key, mask);
    if (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return mask;
  }

  has(options: { grid: GridDims; tile: Dims3; window: WindowSpec }): boolean {
    return this.entries.has(blockMaskKey(options));
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
export function getBlockMask(options: { grid: GridDims; tile: Dims3; window: WindowSpec }): BlockMask {
  return defaultBlockMaskCache.get(options);
}
