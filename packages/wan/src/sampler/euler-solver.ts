import { checkStepTensors } from './_step-tensors';
import { checkSigmas, checkStepIndex } from './_validate';
import type { FlowSolver } from './types';

export interface EulerSolverOptions {
  /** steps + 1 non-increasing noise levels in [0, 1], e.g. `flowMatchSchedule(...).sigmas`. */
  sigmas: Float64Array | readonly number[];
}

/**
 * The Euler solver of flow matching: x_{i+1} = x_i + (sigma_{i+1} - sigma_i) * v_i (wan21-architecture.md 4.3, last
 * line; it is not in the Wan repository, whose reference is diffusers' `FlowMatchEulerDiscreteScheduler`).
 *
 * Precision: the reference adds in float32 (float32 latents, float32 sigmas). Here the sum is formed in float64 from
 * the float32 inputs and rounded to float32 once, so the step is the correctly rounded update; the difference to the
 * reference is at most one float32 rounding per element and step. Stateless: steps may run in any order.
 */
export function createEulerSolver(options: EulerSolverOptions): FlowSolver {
  const sigmas = checkSigmas({ sigmas: options.sigmas, strict: false });
  const steps = sigmas.length - 1;
  return {
    name: 'euler',
    steps,
    sigmas,
    step({ modelOutput, sample, stepIndex }) {
      checkStepIndex({ stepIndex, steps });
      checkStepTensors({ modelOutput, sample, stepIndex, steps, length: null });
      const dt = sigmas[stepIndex + 1]! - sigmas[stepIndex]!;
      const next = new Float32Array(sample.length);
      for (let k = 0; k < next.length; k++) next[k] = sample[k]! + dt * modelOutput[k]!;
      return next;
    },
  };
}
