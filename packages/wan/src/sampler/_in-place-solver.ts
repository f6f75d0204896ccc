import type { StepVelocity } from './_step-velocity';
import type { FlowSolver } from './types';

export interface SolverStepIntoOptions {
  /** v_i: the model's velocity, or cond and uncond to guide (their types and lengths are the caller's to check). */
  velocity: StepVelocity;
  /** x_i, the latents the model saw. */
  sample: Float32Array;
  stepIndex: number;
  /**
   * Where x_{i+1} goes; may be `sample` or a velocity array itself (a pass reads everything it needs at an index
   * before it writes that index). Default: a new array.
   */
  out?: Float32Array;
  /**
   * Throws the error for v_i's first NaN or infinity, at `index`. The pass stopped there: nothing at `index` or after
   * it was written, and the solver's state is as before the step, so the step can be run again.
   */
  throwNonFinite: (index: number) => never;
}

/**
 * A solver that steps into an array the caller owns, reading the velocity (guided on the fly, if it comes as cond and
 * uncond) in the same pass: what `sample` uses, so that a step is one pass and allocates nothing. `step` is
 * `stepInto` with a new array. Not exported from the package.
 */
export interface InPlaceFlowSolver extends FlowSolver {
  stepInto(options: SolverStepIntoOptions): Float32Array;
}
