// Checks the sampler's files share. Each throws the sampler's own errors, naming the option or tensor.
import { SOLVER_NAMES, WAN_T2V_SAMPLING_DEFAULTS } from './defaults';
import { SamplerNonFiniteError, SamplerOptionError, SamplerTensorError } from './errors';
import type { SolverName } from './types';

export function checkSteps(steps: unknown): number {
  if (typeof steps !== 'number' || !Number.isSafeInteger(steps) || steps < 1) {
    throw new SamplerOptionError({ option: 'steps', value: steps, rule: 'expected an integer >= 1' });
  }
  return steps;
}

export function checkShift(shift: unknown): number {
  if (typeof shift !== 'number' || !Number.isFinite(shift) || shift <= 0) {
    throw new SamplerOptionError({ option: 'shift', value: shift, rule: 'expected a finite number > 0 (Wan2.1 T2V uses 5.0)' });
  }
  return shift;
}

export function checkGuidance(guidance: unknown): number {
  if (typeof guidance !== 'number' || !Number.isFinite(guidance)) {
    throw new SamplerOptionError({ option: 'guidance', value: guidance, rule: 'expected a finite number (Wan2.1 uses 5.0; 1 is no guidance)' });
  }
  return guidance;
}

export function checkNumTrainTimesteps(numTrainTimesteps: unknown): number {
  if (typeof numTrainTimesteps !== 'number' || !Number.isSafeInteger(numTrainTimesteps) || numTrainTimesteps < 2) {
    throw new SamplerOptionError({
      option: 'numTrainTimesteps',
      value: numTrainTimesteps,
      rule: 'expected an integer >= 2 (Wan2.1 was trained with 1000)',
    });
  }
  return numTrainTimesteps;
}

/** A shape of positive integers; returns the number of elements. */
export function checkShape(options: { option: string; shape: unknown }): number {
  const { option, shape } = options;
  if (!Array.isArray(shape) || shape.length === 0) {
    throw new SamplerOptionError({ option, value: shape, rule: 'expected a non-empty array of positive integers' });
  }
  let size = 1;
  shape.forEach((dimension: unknown, index) => {
    if (typeof dimension !== 'number' || !Number.isSafeInteger(dimension) || dimension < 1) {
      throw new SamplerOptionError({ option: `${option}[${index}]`, value: dimension, rule: 'expected a positive integer' });
    }
    size *= dimension;
  });
  if (!Number.isSafeInteger(size)) {
    throw new SamplerOptionError({ option, value: shape, rule: 'expected at most 2^53 - 1 elements in all' });
  }
  return size;
}

/** A Float32Array, of `length` values unless `length` is null; `rule` says where the length comes from. */
export function checkFloat32Array(options: { tensor: string; value: unknown; length: number | null; rule: string }): Float32Array {
  const { tensor, value, length, rule } = options;
  if (!(value instanceof Float32Array)) {
    const actual = ArrayBuffer.isView(value) ? `is a ${value.constructor.name}` : `is ${value === null ? 'null' : typeof value}`;
    throw new SamplerTensorError({ tensor, actual, rule: 'expected a Float32Array' });
  }
  if (length !== null && value.length !== length) {
    throw new SamplerTensorError({ tensor, actual: `has ${value.length} values`, rule: `expected ${length}, ${rule}` });
  }
  return value;
}

/**
 * Throws a SamplerNonFiniteError at the first NaN or infinity of a velocity, looking from index `from` on (default 0;
 * for callers that know the values before it are finite).
 */
export function checkFinite(options: {
  tensor: string;
  values: Float32Array;
  stepIndex: number;
  steps: number;
  timestep?: number;
  from?: number;
}): void {
  const { values, from = 0 } = options;
  for (let index = from; index < values.length; index++) {
    const value = values[index]!;
    // value - value is 0 for finite values and NaN for NaN and the infinities: one compare per element
    if (value - value !== 0) {
      throw new SamplerNonFiniteError({ ...options, index, value });
    }
  }
}

/**
 * The error `checkFinite` throws for `values`, when a pass that computes with them has already found their first
 * non-finite value at `index` (the passes of the solvers and of guidance test `value - value !== 0` as they go).
 */
export function nonFiniteError(options: {
  tensor: string;
  values: Float32Array;
  index: number;
  stepIndex: number;
  steps: number;
  timestep?: number;
}): SamplerNonFiniteError {
  const { values, index } = options;
  return new SamplerNonFiniteError({ ...options, value: values[index]! });
}

/** A 0-based step index of a schedule with `steps` steps. */
export function checkStepIndex(options: { stepIndex: unknown; steps: number }): number {
  const { stepIndex, steps } = options;
  if (typeof stepIndex !== 'number' || !Number.isInteger(stepIndex) || stepIndex < 0 || stepIndex >= steps) {
    const rule = `expected an integer in [0, ${steps - 1}] (the schedule has ${steps} steps)`;
    throw new SamplerOptionError({ option: 'stepIndex', value: stepIndex, rule });
  }
  return stepIndex;
}

/**
 * The noise levels a solver runs over, copied: at least two values, each finite, decreasing from at most 1 down to
 * at least 0. `strict` (UniPC) also needs every level before the last strictly between 0 and 1 and strictly
 * decreasing, since it takes log(sigma) and log(1 - sigma) and divides by their differences (4.3).
 */
export function checkSigmas(options: { sigmas: unknown; strict: boolean }): Float64Array {
  const { sigmas, strict } = options;
  if (!(sigmas instanceof Float64Array || Array.isArray(sigmas)) || sigmas.length < 2) {
    const rule = 'expected at least 2 noise levels (steps + 1), as flowMatchSchedule returns them';
    throw new SamplerOptionError({ option: 'sigmas', value: sigmas, rule });
  }
  const copy = Float64Array.from(sigmas as ArrayLike<number>);
  const steps = copy.length - 1;
  copy.forEach((sigma, k) => {
    const raw: unknown = (sigmas as ArrayLike<unknown>)[k];
    if (typeof raw !== 'number' || !Number.isFinite(sigma) || sigma < 0 || sigma > 1) {
      throw new SamplerOptionError({ option: `sigmas[${k}]`, value: raw, rule: 'expected a finite number in [0, 1]' });
    }
    if (strict && k < steps && (sigma <= 0 || sigma >= 1)) {
      throw new SamplerOptionError({
        option: `sigmas[${k}]`,
        value: sigma,
        rule: `UniPC needs 0 < sigma < 1 for every level but the last (log(sigma) and log(1 - sigma) must be finite)`,
      });
    }
    const previous = k > 0 ? copy[k - 1]! : Infinity;
    if (strict ? sigma >= previous : sigma > previous) {
      throw new SamplerOptionError({
        option: `sigmas[${k}]`,
        value: sigma,
        rule: `expected ${strict ? 'strictly ' : ''}less than sigmas[${k - 1}] = ${previous}: noise levels decrease`,
      });
    }
  });
  return copy;
}

/** The options every sampling loop (host or device) checks first: the latent size, the guidance and the solver. */
export function checkSampleBasics(options: { latentShape: unknown; guidance?: unknown; solver?: unknown }): { size: number; guidance: number; solverName: SolverName } {
  const size = checkShape({ option: 'latentShape', shape: options.latentShape });
  const guidance = checkGuidance(options.guidance ?? WAN_T2V_SAMPLING_DEFAULTS.guidance);
  const solverName = (options.solver ?? WAN_T2V_SAMPLING_DEFAULTS.solver) as SolverName;
  if (!SOLVER_NAMES.includes(solverName)) {
    const rule = `expected one of ${SOLVER_NAMES.map((name) => `'${name}'`).join(', ')}`;
    throw new SamplerOptionError({ option: 'solver', value: solverName, rule });
  }
  return { size, guidance, solverName };
}
