import { InvalidArgumentError } from '@fpsattn/fp8';
import { BlockMaskCache, blockMaskStats, paddedBlockRows, type GridDims } from '@fpsattn/tiling';
import type { AttentionPlan } from './types';

/**
 * Attention cost of one plan on one head, relative to dense attention over the real tokens (`denseFlops =
 * 4 * headDim * N^2`, the same for every mode):
 *
 * - `density`: attended real token pairs / N^2 (1 for dense modes).
 * - `flopsRelative`: attention FLOPs over the **attended real token pairs** / dense FLOPs, for every mode: 1 for
 *   dense modes, `density` for sparse ones. This is the work the plan asks for, padding excluded.
 * - `executedRelative`: FLOPs the kernel **executes** / dense FLOPs, padding included. Kernels run whole blocks of
 *   `rowMultiple` rows (default 128): sparse modes run every listed block on the padded tile layout
 *   (`nnz * blockRows^2`, `blockRows = ceil(tile tokens / rowMultiple) * rowMultiple`), dense modes run the
 *   `ceil(N / rowMultiple)^2` blocks of the raw sequence (`(ceil(N / rowMultiple) * rowMultiple)^2`). For example a
 *   sparse plan whose window covers the whole 720p grid with 120-token tiles has flopsRelative 1 and executedRelative
 *   (80640 / 75600)^2 = 1.138, dense BF16 (75648 / 75600)^2 = 1.0013.
 *
 * FP8 does not change FLOP counts (only their speed), so 'fp8-dense' costs what 'dense-bf16' does and 'fp8-sparse'
 * what 'sparse-bf16' does.
 */
export interface PlanCost {
  readonly density: number;
  readonly flopsRelative: number;
  readonly executedRelative: number;
}

const sharedCache = new BlockMaskCache({ capacity: 64 });

export function planCost(options: { plan: AttentionPlan; grid: GridDims; rowMultiple?: number; cache?: BlockMaskCache }): PlanCost {
  const { plan, grid } = options;
  const rowMultiple = options.rowMultiple ?? 128;
  if (plan.mode === 'dense-bf16' || plan.mode === 'fp8-dense') {
    if (!Number.isInteger(rowMultiple) || rowMultiple < 1) {
      throw new InvalidArgumentError({ argument: 'rowMultiple', value: rowMultiple, message: `expected a positive integer, got ${rowMultiple}` });
    }
    const n = grid.frames * grid.height * grid.width;
    const rows = paddedBlockRows({ tileTokens: n, rowMultiple });
    return { density: 1, flopsRelative: 1, executedRelative: (rows / n) * (rows / n) };
  }
  const cache = options.cache ?? sharedCache;
  const mask = cache.get({ grid, tile: plan.sparsity.tile, window: plan.sparsity.window });
  const stats = blockMaskStats({ mask, headDim: 1, rowMultiple });
  return { density: stats.density, flopsRelative: stats.flopsRelative, executedRelative: stats.executedRelative };
}
