import { FpsAttnError } from '@fpsattn/fp8';

/** The codes of the errors the sampler of @fpsattn/wan throws. */
export const SAMPLER_ERROR_CODES = Object.freeze({
  /** {@link SamplerOptionError}: an option (steps, shift, guidance, seed, ...) outside what the sampler accepts. */
  INVALID_OPTION: 'FPSATTN_WAN_SAMPLER_INVALID_OPTION',
  /** {@link SamplerTensorError}: latents, noise or a model output of the wrong type or length. */
  INVALID_TENSOR: 'FPSATTN_WAN_SAMPLER_INVALID_TENSOR',
  /** {@link SamplerNonFiniteError}: a model output holds NaN or an infinity. */
  NON_FINITE: 'FPSATTN_WAN_SAMPLER_NON_FINITE',
  /** {@link SamplerAbortedError}: the AbortSignal fired; sampling stopped between two steps. */
  ABORTED: 'FPSATTN_WAN_SAMPLER_ABORTED',
} as const);

export type SamplerErrorCode = (typeof SAMPLER_ERROR_CODES)[keyof typeof SAMPLER_ERROR_CODES];

/** A value as a message shows it: numbers as JavaScript prints them (NaN, Infinity, -0 as 0), bigints with `n`. */
function show(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return 'a function';
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name}`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * An option breaks a rule, e.g. "sampler: steps is 2.5: expected an integer >= 1". `option` names it (`steps`,
 * `shift`, `guidance`, `seed`, `latentShape[2]`, `sigmas[3]`, `stepIndex`, ...), `value` holds it, `rule` says what
 * is allowed.
 */
export class SamplerOptionError extends FpsAttnError {
  readonly option: string;
  readonly value: unknown;
  readonly rule: string;

  constructor(options: { option: string; value: unknown; rule: string }) {
    super({
      code: SAMPLER_ERROR_CODES.INVALID_OPTION,
      message: `sampler: ${options.option} is ${show(options.value)}: ${options.rule}`,
    });
    this.name = 'SamplerOptionError';
    this.option = options.option;
    this.value = options.value;
    this.rule = options.rule;
  }
}

/**
 * A tensor of the wrong type or length, e.g. "sampler: noise has 99 values: expected 100, the product of latentShape
 * [4, 5, 5]". `tensor` names it (`noise`, `sample`, `modelOutput`, `model output cond`, ...), `actual` describes what
 * came, `rule` what was expected.
 */
export class SamplerTensorError extends FpsAttnError {
  readonly tensor: string;
  readonly rule: string;

  constructor(options: { tensor: string; actual: string; rule: string }) {
    super({ code: SAMPLER_ERROR_CODES.INVALID_TENSOR, message: `sampler: ${options.tensor} ${options.actual}: ${options.rule}` });
    this.name = 'SamplerTensorError';
    this.tensor = options.tensor;
    this.rule = options.rule;
  }
}

/**
 * A model output holds NaN or an infinity, e.g. "sampler: model output cond holds NaN at flat index 17 at step 3 of 50
 * (timestep 987): a velocity must be finite; the model diverged or returned memory it never wrote". `stepIndex` is
 * 0-based.
 */
export class SamplerNonFiniteError extends FpsAttnError {
  readonly tensor: string;
  readonly stepIndex: number;
  readonly index: number;
  readonly value: number;

  constructor(options: { tensor: string; stepIndex: number; steps: number; index: number; value: number; timestep?: number }) {
    const timestep = options.timestep === undefined ? '' : ` (timestep ${options.timestep})`;
    super({
      code: SAMPLER_ERROR_CODES.NON_FINITE,
      message:
        `sampler: ${options.tensor} holds ${options.value} at flat index ${options.index} at step ${options.stepIndex} of ` +
        `${options.steps}${timestep}: a velocity must be finite; the model diverged or returned memory it never wrote`,
    });
    this.name = 'SamplerNonFiniteError';
    this.tensor = options.tensor;
    this.stepIndex = options.stepIndex;
    this.index = options.index;
    this.value = options.value;
  }
}

/**
 * The AbortSignal given to `sample` fired; the loop stopped before step `stepIndex` (0-based), after `stepIndex` steps
 * had run. `cause` is the signal's `reason`.
 */
export class SamplerAbortedError extends FpsAttnError {
  readonly stepIndex: number;
  readonly steps: number;

  constructor(options: { stepIndex: number; steps: number; reason: unknown }) {
    super({
      code: SAMPLER_ERROR_CODES.ABORTED,
      message: `sampler: aborted before step ${options.stepIndex} of ${options.steps} (${options.stepIndex} done); no latents are returned`,
      cause: options.reason,
    });
    this.name = 'SamplerAbortedError';
    this.stepIndex = options.stepIndex;
    this.steps = options.steps;
  }
}
