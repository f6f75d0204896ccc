import type { InPlaceFlowSolver, SolverStepIntoOptions } from './_in-place-solver';
import { checkStepTensors } from './_step-tensors';
import { guidedValue, type VelocityOperands, velocityOperands, velocityTensor } from './_step-velocity';
import { checkSigmas, checkStepIndex, nonFiniteError } from './_validate';
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
  const { name, steps, sigmas, step } = createInPlaceEulerSolver(options);
  return { name, steps, sigmas, step };
}

/** `createEulerSolver` with `stepInto`, for `sample`. */
export function createInPlaceEulerSolver(options: EulerSolverOptions): InPlaceFlowSolver {
  const sigmas = checkSigmas({ sigmas: options.sigmas, strict: false });
  const steps = sigmas.length - 1;
  const stepInto = (options: SolverStepIntoOptions): Float32Array => {
    const { velocity, sample, stepIndex } = options;
    checkStepIndex({ stepIndex, steps });
    const length = checkStepTensors({ modelOutput: velocityTensor(velocity), sample, stepIndex, length: null });
    const out = options.out ?? new Float32Array(length);
    const nonFinite = eulerPass({ ...velocityOperands(velocity), sample, dt: sigmas[stepIndex + 1]! - sigmas[stepIndex]!, out });
    if (nonFinite >= 0) options.throwNonFinite(nonFinite);
    return out;
  };
  return {
    name: 'euler',
    steps,
    sigmas,
    step: ({ modelOutput, sample, stepIndex }) =>
      stepInto({
        velocity: { velocity: modelOutput },
        sample,
        stepIndex,
        throwNonFinite: (index) => {
          throw nonFiniteError({ tensor: 'modelOutput', values: modelOutput, index, stepIndex, steps });
        },
      }),
    stepInto,
  };
}

/**
 * out = sample + dt * v, element by element, v read as `velocityOperands` says; `out` may be any of the inputs.
 * Returns -1, or the index of the first non-finite v, where the pass stops before writing.
 */
function eulerPass(options: VelocityOperands & { sample: Float32Array; dt: number; out: Float32Array }): number {
  const { cond, uncond, guidance, sample, dt, out } = options;
  for (let k = 0; k < out.length; k++) {
    const v = guidedValue(cond[k]!, uncond[k]!, guidance);
    if (v - v !== 0) return k; // NaN or an infinity (v - v is 0 for every finite v)
    out[k] = sample[k]! + dt * v;
  }
  return -1;
}
