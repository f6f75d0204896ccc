import type { InPlaceFlowSolver, SolverStepIntoOptions } from './_in-place-solver';
import { checkStepTensors } from './_step-tensors';
import { velocityOperands, velocityTensor } from './_step-velocity';
import { uniPcCoefficients } from './_unipc-coefficients';
import { stepWithCorrector, stepWithoutCorrector } from './_unipc-passes';
import { checkSigmas, nonFiniteError } from './_validate';
import { SamplerOptionError } from './errors';
import type { FlowSolver } from './types';

export interface UniPcSolverOptions {
  /**
   * steps + 1 noise levels, e.g. `flowMatchSchedule(...).sigmas`: strictly decreasing, strictly between 0 and 1
   * except the last, which may be 0 (it is 0 in Wan's schedule).
   */
  sigmas: Float64Array | readonly number[];
}

/**
 * UniPC multistep for flow matching as the original Wan2.1 runs it (wan21-architecture.md 4.3,
 * `W:wan/utils/fm_solvers_unipc.py`): order 2, `bh2` (B(h) = expm1(-h)), `predict_x0`, `lower_order_final`, and the
 * UniC corrector from step 1 on.
 *
 * Convention (4.3): x_sigma = (1 - sigma) x0 + sigma noise, the model predicts v = noise - x0, so the solver works on
 * x0 predictions m_i = x_i - sigma_i v_i, with alpha(sigma) = 1 - sigma and lambda(sigma) = log(1 - sigma) - log(sigma).
 *
 * Each `step` i (in order 0, 1, ..., steps - 1):
 * 1. m_i = x_i - sigma_i v_i (`convert_model_output`), from the x_i the model saw;
 * 2. for i > 0 the UniC corrector replaces x_i, with the order p of step i-1, using m_i (it never goes back to the
 *    model: the corrected x_i only feeds the predictor);
 * 3. p = min(2, steps - i, i + 1): 1 at the first step (warm-up) and at the last (`lower_order_final`), else 2;
 * 4. the UniP predictor of order p returns x_{i+1}.
 *
 * Precision: the reference holds the latents and x0 predictions in float32 and computes its scalars (lambda, h, the
 * phi-recursion, the 2x2 solve) as float32 tensors. Here the sigmas are the reference's float32 values, the scalars are
 * float64 (the phi-recursion cancels, phi1/hh - 1 being O(h): in float32 the corrector's rho carries relative errors up
 * to 1e-4 at 50 steps), each element's update is formed in float64 and rounded to float32 once, and m_i and x_i are
 * stored in float32 as in the reference. The trajectories differ from a float32 run by float32 rounding noise (the
 * tests bound the difference to a float64 run by twice that of a float32 run).
 *
 * Speed: a step is one pass over the latents (`_unipc-passes.ts`), and the x0 predictions and corrected samples the
 * solver keeps live in buffers allocated at the first step and reused; `step` allocates only the array it returns.
 */
export function createUniPcSolver(options: UniPcSolverOptions): FlowSolver {
  const { name, steps, sigmas, step } = createInPlaceUniPcSolver(options);
  return { name, steps, sigmas, step };
}

/** `createUniPcSolver` with `stepInto`, for `sample`. */
export function createInPlaceUniPcSolver(options: UniPcSolverOptions): InPlaceFlowSolver {
  const sigmas = checkSigmas({ sigmas: options.sigmas, strict: true });
  const steps = sigmas.length - 1;
  const coefficients = uniPcCoefficients(sigmas);

  let nextStepIndex = 0;
  let length: number | null = null;
  let lastOrder = 1; // p of step i-1's predictor, which the corrector of step i repeats
  // What the solver keeps between steps, by step: m_i in x0s[i % 3], x_i as its predictor used it in bases[i % 2].
  // Step i writes over m_{i-3} and x_{i-2}, which no later step reads, so m_{i-1}, m_{i-2} and x_{i-1} are intact
  // until step i has succeeded: a step that throws can be run again.
  let buffers: { x0s: Float32Array[]; bases: Float32Array[] } | null = null;

  const stepInto = (options: SolverStepIntoOptions): Float32Array => {
    const { velocity, sample, stepIndex } = options;
    if (stepIndex !== nextStepIndex || nextStepIndex === steps) {
      throw new SamplerOptionError({
        option: 'stepIndex',
        value: stepIndex,
        rule:
          nextStepIndex === steps
            ? `all ${steps} steps have run: create a new solver to sample again`
            : `expected ${nextStepIndex}: UniPC keeps the x0 predictions of its last two steps, so steps run in order 0, 1, ..., ${steps - 1}`,
      });
    }
    length = checkStepTensors({ modelOutput: velocityTensor(velocity), sample, stepIndex, length });
    const i = stepIndex;
    const out = options.out ?? new Float32Array(length);
    buffers ??= allocateBuffers(length);
    const { x0s, bases } = buffers;
    const arrays = { ...velocityOperands(velocity), sample, x0: x0s[i % 3]!, base: bases[i % 2]!, out };
    const order = coefficients.orderOf(i); // lower_order_final and the warm-up (lower_order_nums = min(i, 2))
    const predictor = coefficients.predictor({ i, order });

    // The corrector of the last step is skipped: the last predictor returns m_{N-1}, which does not depend on the
    // corrected x_{N-1}, so the reference computes it and throws it away (4.3, "final step returns x0_pred", 9.10).
    let nonFinite: number;
    if (i > 0 && i < steps - 1) {
      const previousX0 = x0s[(i + 2) % 3]!; // m_{i-1}
      const earlierX0 = i >= 2 ? x0s[(i + 1) % 3]! : previousX0; // m_{i-2}, read only at order 2
      const corrector = coefficients.corrector({ i, lastOrder });
      nonFinite = stepWithCorrector({ ...arrays, sigma: sigmas[i]!, lastBase: bases[(i + 1) % 2]!, previousX0, earlierX0, corrector, predictor });
    } else {
      nonFinite = stepWithoutCorrector({ ...arrays, sigma: sigmas[i]!, predictor });
    }
    if (nonFinite >= 0) options.throwNonFinite(nonFinite);
    lastOrder = order;
    nextStepIndex++;
    return out;
  };

  return {
    name: 'unipc',
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

/** The buffers a run keeps (see `createInPlaceUniPcSolver`), allocated once at the first step. */
function allocateBuffers(length: number): { x0s: Float32Array[]; bases: Float32Array[] } {
  const buffer = () => new Float32Array(length);
  return { x0s: [buffer(), buffer(), buffer()], bases: [buffer(), buffer()] };
}
