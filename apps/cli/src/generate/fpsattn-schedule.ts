// The FPSAttention schedule for a token grid that no Wan preset covers (`--schedule fpsattn` off 480p and 720p).
import { parseScheduleConfig, type ScheduleConfig } from '@fpsattn/scheduler';
import type { Dims3, GridDims } from '@fpsattn/tiling';

/** Largest divisor of n not above `limit` (at least 1). */
const divisorAtMost = (n: number, limit: number): number => {
  for (let d = Math.max(1, Math.min(n, limit)); d > 1; d--) if (n % d === 0) return d;
  return 1;
};

/**
 * The FPSAttention schedule for any grid (what `--schedule fpsattn` runs when the grid is not Wan's 480p or 720p
 * one): attention tiles of about half of each axis (whole divisors), alpha1 0.4, alpha2 0.8, the first steps / 10 dense;
 * early: FP8 per tile with each tile attending to itself; middle: FP8 per frame of a tile with a window of 3 tiles per
 * axis; late: FP8 per tile with a window of 1 x 3 x 3 tiles. Validated like a JSON config.
 */
export function fpsattnScheduleFor(options: { grid: GridDims; steps: number; model: { layers: number; heads: number; headDim: number } }): ScheduleConfig {
  const { grid, steps, model } = options;
  const axes = [grid.frames, grid.height, grid.width];
  const tile = axes.map((n) => divisorAtMost(n, Math.ceil(n / 2))) as unknown as Dims3;
  const tilesPer = axes.map((n, i) => n / (tile[i] as number));
  const window = (w: Dims3) => ({ kind: 'clamped', tiles: w.map((x, i) => Math.min(x, tilesPer[i] as number)) });
  const plan = (granularity: Dims3, w: Dims3) => ({ mode: 'fp8-sparse', granularity: { kind: 'tile', tile: granularity }, sparsity: { tile, window: window(w) } });
  return parseScheduleConfig({
    steps,
    alpha1: 0.4,
    alpha2: 0.8,
    denseSteps: Math.round(steps / 10),
    grid,
    model,
    phases: { early: plan(tile, [1, 1, 1]), middle: plan([1, tile[1], tile[2]], [3, 3, 3]), late: plan(tile, [1, 3, 3]) },
    overrides: [],
  });
}
