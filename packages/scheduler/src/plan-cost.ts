import { BlockMaskCache, blockMaskStats, type GridDims } from '@fpsattn/tiling';
import type { AttentionPlan } from './types';

/**
 * Attention cost of one plan on one head, relative to dense attention over the real tokens:
 *
 * - `density`: attended real token pairs / N^2 (1 for dense modes).
 * - `flopsRelative`: attention FLOPs the kernel executes / dense FLOPs (`4 * headDim * N^2`). Dense modes: 1.
 *   Sparse modes run every listed block on the padded layout (`blockRows = ceil(tile tokens / rowMultiple) *
 *   rowMultiple`), so padding shows up here as waste: `4 * headDim * nnz * blockRows^2 / denseFlops`.
 *
 * FP8 does not change FLOP counts (only their speed), so 'fp8-dense' costs 1 and 'fp8-sparse' equals 'sparse-bf16'.
 */
export interface PlanCost {
  readonly density: number;
  readonly flopsRelative: number;
}

const sharedCache = new BlockMaskCache({ capacity: 64 });

export function planCost(options: { plan: AttentionPlan; grid: GridDims; rowMultiple?: number; cache?: BlockMaskCache }): PlanCost {
  const { plan, grid } = options;
  if (plan.mode === 'dense-bf16' || plan.mode === 'fp8-dense') return { density: 1, flopsRelative: 1 };
  const cache = options.cache ?? sharedCache;
  const mask = cache.get({ grid, tile: plan.sparsity.tile, window: plan.sparsity.window });
  const stats = blockMaskStats({ mask, headDim: 1, rowMultiple: options.rowMultiple ?? 128 });
  return { density: stats.density, flopsRelative: stats.executedRelative };
}
