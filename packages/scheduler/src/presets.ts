import { InvalidArgumentError } from '@fpsattn/fp8';
import { WAN_480P_GRID, WAN_720P_GRID, type Dims3, type GridDims } from '@fpsattn/tiling';
import { SCHEDULE_LIMITS } from './limits';
import type { AttentionPlan, Granularity, ModelDims, ScheduleConfig, SparseWindow } from './types';

/**
 * Our defaults. FPSAttention does not publish alpha1, alpha2, its granularities or its window sizes; every number
 * below is **our choice**, explained in README.md ("Presets"), and every one is configurable.
 */
export const SCHEDULE_PRESET_NAMES = ['wan-480p', 'wan-720p', 'dense', 'fp8-only', 'sparse-only'] as const;
export type SchedulePresetName = (typeof SCHEDULE_PRESET_NAMES)[number];
export type WanResolution = '480p' | '720p';

/** Wan2.1-1.3B: 30 layers, 12 heads of 128. */
export const WAN_1_3B_MODEL: ModelDims = Object.freeze({ layers: 30, heads: 12, headDim: 128 });

interface ResolutionDefaults {
  grid: GridDims;
  /** Attention tile = kernel block (divides the grid exactly, 120 tokens -> 128-row blocks). */
  tile: Dims3;
  coarse: Dims3;
  fine: Dims3;
  intermediate: Dims3;
  sparse: Dims3;
  dense: Dims3;
  medium: Dims3;
}

/** Freezes an object and everything under it (the defaults are shared by every preset; `wan()` hands out copies). */
function deepFreeze<T>(value: T): T {
  // Stryker disable next-line all: defensive: presets hand out copies, so nothing reaches the frozen defaults to show the freeze (equivalent)
  if (typeof value === 'object' && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

const DEFAULTS: Readonly<Record<WanResolution, Readonly<ResolutionDefaults>>> = deepFreeze<Record<WanResolution, ResolutionDefaults>>({
  // 21 x 45 x 80 -> 7 x 9 x 10 = 630 tiles of (3,5,8).
  '720p': {
    grid: { frames: WAN_720P_GRID.frames, height: WAN_720P_GRID.height, width: WAN_720P_GRID.width },
    tile: [3, 5, 8],
    coarse: [3, 15, 16], // 6 blocks per scale
    fine: [1, 5, 8], // 3 scales per block
    intermediate: [3, 5, 8], // 1 scale per block
    sparse: [3, 3, 5], // 45 / 630 tiles = 7.1%
    dense: [5, 5, 7], // 175 / 630 = 27.8%
    medium: [3, 5, 5], // 75 / 630 = 11.9%
  },
  // 21 x 30 x 52 -> 7 x 3 x 13 = 273 tiles of (3,10,4); (3,5,8) would leave half-empty tiles (52 = 6.5 x 8).
  '480p': {
    grid: { frames: WAN_480P_GRID.frames, height: WAN_480P_GRID.height, width: WAN_480P_GRID.width },
    tile: [3, 10, 4],
    coarse: [3, 10, 52], // 13 blocks per scale
    fine: [1, 10, 4], // 3 scales per block
    intermediate: [3, 10, 4], // 1 scale per block
    sparse: [3, 1, 7], // 21 / 273 = 7.7%
    dense: [5, 3, 7], // 105 / 273 = 38.5%
    medium: [3, 2, 7], // 42 / 273 = 15.4%
  },
});

// Every preset gets fresh arrays and objects: a caller mutating its config must not change the next preset.
const copy3 = (d: Dims3): Dims3 => [d[0], d[1], d[2]];
const tileGranularity = (tile: Dims3): Granularity => ({ kind: 'tile', tile: copy3(tile) });
const clamped = (tiles: Dims3): SparseWindow => ({ kind: 'clamped', tiles: copy3(tiles) });

/** Dense warmup of the Wan presets: `Math.round(steps / 10)` steps, halves rounding up (5 of 50, 2 of 15, 0 of 4). */
const presetDenseSteps = (steps: number): number => Math.round(steps / 10);

function wan(resolution: WanResolution, steps: number): ScheduleConfig {
  const d = DEFAULTS[resolution];
  const plan = (g: Dims3, w: Dims3): AttentionPlan => ({
    mode: 'fp8-sparse',
    granularity: tileGranularity(g),
    sparsity: { tile: copy3(d.tile), window: clamped(w) },
  });
  return {
    steps,
    alpha1: 0.4,
    alpha2: 0.8,
    denseSteps: presetDenseSteps(steps),
    grid: { ...d.grid },
    model: { ...WAN_1_3B_MODEL },
    phases: { early: plan(d.coarse, d.sparse), middle: plan(d.fine, d.dense), late: plan(d.intermediate, d.medium) },
    overrides: [],
  };
}

function mapPhases(config: ScheduleConfig, f: (plan: AttentionPlan) => AttentionPlan): ScheduleConfig {
  const { early, middle, late } = config.phases;
  return { ...config, phases: { early: f(early), middle: f(middle), late: f(late) } };
}

/**
 * A ready-made schedule.
 *
 * - `wan-480p` / `wan-720p`: FP8 + sparse (Algorithm 1) with our defaults: 50 steps, alpha1 0.4, alpha2 0.8, the
 *   first `Math.round(steps / 10)` steps dense BF16 (5 of 50), clamped windows over kernel-block tiles.
 * - `dense`: dense BF16 everywhere (the baseline row of the ablation).
 * - `fp8-only`: the Wan preset's granularities, dense attention (no windows), no dense warmup.
 * - `sparse-only`: the Wan preset's windows in BF16, with the same dense warmup.
 *
 * The ablations use `resolution` (default '720p', the paper's Table 1 setting) for their grid. `steps` is an integer
 * in [1, 10000]. Every call returns a fresh config: mutating it does not affect later presets.
 *
 * @example schedulePreset({ name: 'wan-720p', steps: 30 })
 */
export function schedulePreset(options: { name: SchedulePresetName; resolution?: WanResolution; steps?: number }): ScheduleConfig {
  const { name } = options;
  const steps = options.steps ?? 50;
  if (!Number.isInteger(steps) || steps < 1 || steps > SCHEDULE_LIMITS.maxSteps) {
    throw new InvalidArgumentError({ argument: 'steps', value: steps, message: `expected an integer in [1, ${SCHEDULE_LIMITS.maxSteps}], got ${steps}` });
  }
  const resolution = options.resolution ?? (name === 'wan-480p' ? '480p' : '720p');
  if (resolution !== '480p' && resolution !== '720p') {
    throw new InvalidArgumentError({ argument: 'resolution', value: resolution, message: "expected '480p' or '720p'" });
  }
  if ((name === 'wan-480p' && resolution !== '480p') || (name === 'wan-720p' && resolution !== '720p')) {
    throw new InvalidArgumentError({ argument: 'resolution', value: resolution, message: `preset '${name}' fixes its resolution` });
  }
  const base = wan(resolution, steps);
  switch (name) {
    case 'wan-480p':
    case 'wan-720p':
      return base;
    case 'dense':
      return { ...mapPhases(base, () => ({ mode: 'dense-bf16' })), denseSteps: 0 };
    case 'fp8-only':
      return {
        // Stryker disable next-line ConditionalExpression: every Wan phase plan is fp8-sparse, so the test always holds (equivalent)
        ...mapPhases(base, (p) => (p.mode === 'fp8-sparse' ? { mode: 'fp8-dense', granularity: p.granularity } : p)),
        denseSteps: 0,
      };
    case 'sparse-only':
      // Stryker disable next-line ConditionalExpression: every Wan phase plan is fp8-sparse, so the test always holds (equivalent)
      return mapPhases(base, (p) => (p.mode === 'fp8-sparse' ? { mode: 'sparse-bf16', sparsity: p.sparsity } : p));
    default:
      throw new InvalidArgumentError({
        argument: 'name',
        value: name,
        message: `unknown preset; expected one of ${SCHEDULE_PRESET_NAMES.map((n) => `'${n}'`).join(', ')}`,
      });
  }
}
