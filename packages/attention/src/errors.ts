import { FpsAttnError } from '@fpsattn/fp8';

/**
 * The error codes @fpsattn/attention throws with. Bad arguments of the lower layers keep their own classes and codes
 * (fp8's `InvalidArgumentError`, kernels' `CudaError`, ...).
 */
export const ATTENTION_ERROR_CODES = {
  /** A tensor of the call has the wrong dtype, rank or size: `tensor`, `dimension` and `rule` say which and why. */
  INVALID_INPUT: 'FPSATTN_ATTENTION_INVALID_INPUT',
  /** A plan (or the plans of the heads) cannot run as one attention call: `field` and `rule` say which and why. */
  INVALID_PLAN: 'FPSATTN_ATTENTION_INVALID_PLAN',
} as const;
export type AttentionErrorCode = (typeof ATTENTION_ERROR_CODES)[keyof typeof ATTENTION_ERROR_CODES];

/**
 * A tensor given to the attention op breaks a rule, e.g. "attention: k dimension 1 (tokens) is 4000, expected 4096
 * (the token grid 4x32x32): q, k and v hold one row per token of the grid".
 */
export class AttentionInputError extends FpsAttnError {
  /** The argument: 'q', 'k', 'v', 'out', ... */
  readonly tensor: string;
  /** The dimension (0-based) the rule is about, or null when the rule is about the tensor as a whole (its dtype). */
  readonly dimension: number | null;
  /** The rule, in words. */
  readonly rule: string;
  constructor(options: { tensor: string; dimension: number | null; rule: string; actual: string }) {
    const where = options.dimension === null ? options.tensor : `${options.tensor} dimension ${options.dimension}`;
    super({ code: ATTENTION_ERROR_CODES.INVALID_INPUT, message: `attention: ${where} is ${options.actual}: ${options.rule}` });
    this.name = 'AttentionInputError';
    this.tensor = options.tensor;
    this.dimension = options.dimension;
    this.rule = options.rule;
  }
}

/**
 * A plan that one attention call cannot run, e.g. "attention: plans[3].sparsity.tile is [3, 5, 4]: every head of one
 * call must use the attention tile of plans[0] ([3, 5, 8])".
 */
export class AttentionPlanError extends FpsAttnError {
  /** The field path: 'plan.mode', 'plans[2].granularity.tile', ... */
  readonly field: string;
  readonly rule: string;
  constructor(options: { field: string; rule: string; actual: string }) {
    super({ code: ATTENTION_ERROR_CODES.INVALID_PLAN, message: `attention: ${options.field} is ${options.actual}: ${options.rule}` });
    this.name = 'AttentionPlanError';
    this.field = options.field;
    this.rule = options.rule;
  }
}
