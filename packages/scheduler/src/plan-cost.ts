import { InvalidArgumentError } from '@fpsattn/fp8';
import { BlockMaskCache, blockMaskStats, paddedBlockRows, toGridDims, type Size3 } from '@fpsattn/tiling';
import type { AttentionPlan } from './types';

/**
 * Attention cost of one plan on one head, relative to dense attention over the real tokens (`denseFlops =
 * 4 * headDim * N^2`, the same for every mode):
 *
 * - `density`: attended real token pairs / N^2 (1 for dense modes).
 * - `flopsRelative`: attention FLOPs over the **attended real token pairs** / dense FLOPs, for every mode: 1 for
 *   dense modes, `density` for sparse ones. This is the work the plan asks for, padding excluded.
 * - `executedRelative`: FLOPs the kernel **executes** / dense FLOPs, padding included. Kernels run whole blocks of
 *   `blockRows` rows (the kernel's block row count): sparse modes run every listed block on the padded tile layout
 *   (`nnz * paddedTileRows^2`, `paddedTileRows = ceil(tile tokens / blockRows) * blockRows`), dense modes run the
 *   `ceil(N / blockRows)^2` blocks of the raw sequence (`(ceil(N / blockRows) * blockRows)^2`). For example, with
 *   128-row blocks, a sparse plan whose window covers the whole 720p grid with 120-token tiles has flopsRelative 1
 *   and executedRelative (80640 / 75600)^2 = 1.138, dense BF16 (75648 / 75600)^2 = 1.0013.
 *
 * FP8 does not change FLOP counts (only their speed), so 'fp8-dense' costs what 'dense-bf16' does and 'fp8-sparse'
 * what 'sparse-bf16' does.
 */
export interface PlanCost {
  readonly density: number;
  readonly flopsRelative: number;
  readonly executedRelative: number;
}

const sharedCache = new BlockMaskCache(); // 64 masks

/**
 * Cost of `plan` on `grid` (`{ frames, height, width }` or `[T, H, W]`). `blockRows` is the row count of the
 * attention kernel's blocks; the scheduler has no default for it: pass the kernel's own value
 * (`ATTENTION_TILE_POLICY.blockM` of @fpsattn/kernels, 128 for the FP8 attention kernel).
 *
 * @example planCost({ plan, grid: [21, 45, 80], blockRows: ATTENTION_TILE_POLICY.blockM })
 */
export function planCost(options: { plan: AttentionPlan; grid: Size3; blockRows: number; cache?: BlockMaskCache }): PlanCost {
  const { plan, blockRows } = options;
  const grid = toGridDims(options.grid);
  // Stryker disable next-line ConditionalExpression: the typeof test only narrows the type: Number.isSafeInteger is false for every non-number (equivalent)
  if (typeof blockRows !== 'number' || !Number.isSafeInteger(blockRows) || blockRows < 1) {
    throw new InvalidArgumentError({
      argument: 'blockRows',
      value: blockRows,
      message: `expected the kernel's block row count (a positive integer, e.g. ATTENTION_TILE_POLICY.blockM of @fpsattn/kernels), got ${String(blockRows)}`,
    });
  }
  if (plan.mode === 'dense-bf16' || plan.mode === 'fp8-dense') {
    const n = grid.frames * grid.height * grid.width;
    const rows = paddedBlockRows({ tileTokens: n, rowMultiple: blockRows });
    return { density: 1, flopsRelative: 1, executedRelative: (rows / n) * (rows / n) };
  }
  const cache = options.cache ?? sharedCache;
  const mask = cache.get({ grid, tile: plan.sparsity.tile, window: plan.sparsity.window });
  const stats = blockMaskStats({ mask, headDim: 1, rowMultiple: blockRows });
  return { density: stats.density, flopsRelative: stats.flopsRelative, executedRelative: stats.executedRelative };
}
