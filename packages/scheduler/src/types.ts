import type { Dims3, GridDims, WindowSpec } from '@fpsattn/tiling';

// ----- Quantization granularity -----

/**
 * Which tokens (rows) of Q and K share one FP8 scale; the column axis is always per head (one scale per (row group,
 * head)). The same names and meaning as @fpsattn/fp8's `QuantGranularity`:
 * - `tensor`: all tokens share one scale (one per (batch item, head));
 * - `token`: one scale per token;
 * - `tile`: one scale per 3D tile `[Tt, Th, Tw]` of the token grid (FPSAttention's tile-wise quantization, edge tiles
 *   partial).
 * V is always per channel and P per tensor (see @fpsattn/fp8), so they are not part of a plan.
 */
export type Granularity =
  | { readonly kind: 'tile'; readonly tile: Dims3 }
  | { readonly kind: 'token' }
  | { readonly kind: 'tensor' };

export type GranularityKind = Granularity['kind'];

// ----- Sparsity -----

/** A sparse window: seed (tokens, truncated) or clamped STA (tiles); see `@fpsattn/tiling` `WindowSpec`. */
export type SparseWindow = Extract<WindowSpec, { kind: 'seed' | 'clamped' }>;

/** Block-sparse attention: tiles `[Tt, Th, Tw]` are the attention blocks, `window` picks the key tiles of a query tile. */
export interface Sparsity {
  readonly tile: Dims3;
  readonly window: SparseWindow;
}

// ----- Attention plan -----

/**
 * How one attention call runs. The four modes are the four rows of the paper's ablation; each carries exactly the
 * fields it needs, so e.g. a dense BF16 plan cannot carry a window.
 */
export type AttentionPlan =
  | { readonly mode: 'dense-bf16' }
  | { readonly mode: 'fp8-dense'; readonly granularity: Granularity }
  | { readonly mode: 'sparse-bf16'; readonly sparsity: Sparsity }
  | { readonly mode: 'fp8-sparse'; readonly granularity: Granularity; readonly sparsity: Sparsity };

export type AttentionMode = AttentionPlan['mode'];

// ----- Schedule -----

/** `warmup`: the optional fully dense first steps; then Algorithm 1's three phases. */
export type PhaseName = 'warmup' | 'early' | 'middle' | 'late';

/** Transformer size used to validate override indices and to count FLOPs. */
export interface ModelDims {
  readonly layers: number;
  readonly heads: number;
  readonly headDim: number;
}

/**
 * Replaces the plan of matching (step, layer, head) triples. Omitted filters match everything, except that a rule
 * without `phases` never touches warmup steps (those stay fully dense unless a rule lists `'warmup'`).
 * `steps` is a half-open range `[from, to)` of step indices. Later rules win over earlier ones.
 */
export interface OverrideRule {
  readonly layers?: readonly number[];
  readonly heads?: readonly number[];
  readonly phases?: readonly PhaseName[];
  readonly steps?: { readonly from: number; readonly to: number };
  readonly plan: AttentionPlan;
}

/**
 * A validated denoising schedule (FPSAttention Algorithm 1).
 *
 * Steps are numbered `t = 0 .. steps-1`, **t = 0 being the first, noisiest step**. With
 * `t1 = ceil(alpha1 * steps)` and `t2 = ceil(alpha2 * steps)` (see `phaseBoundaries`):
 * `t < denseSteps` is warmup (dense BF16), otherwise `t < t1` early, `t < t2` middle, else late.
 */
export interface ScheduleConfig {
  readonly steps: number;
  readonly alpha1: number;
  readonly alpha2: number;
  readonly denseSteps: number;
  readonly grid: GridDims;
  readonly model: ModelDims;
  readonly phases: { readonly early: AttentionPlan; readonly middle: AttentionPlan; readonly late: AttentionPlan };
  readonly overrides: readonly OverrideRule[];
}
