import type { InPlaceFlowSolver, SolverStepIntoOptions } from './_in-place-solver';
import { checkStepTensors } from './_step-tensors';
import { velocityOperands, velocityTensor } from './_step-velocity';
import { type CorrectorCoefficients, type PredictorCoefficients, stepWithCorrector, stepWithoutCorrector } from './_unipc-passes';
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
  // lambda(sigma) for sigma > 0; lambda(0) = +inf is never used (the predictor special-cases sigma_{i+1} = 0)
  const lambdas = sigmas.map((sigma) => (sigma > 0 ? Math.log(1 - sigma) - Math.log(sigma) : Infinity));

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
    const order = Math.min(2, steps - i, i + 1); // lower_order_final and the warm-up (lower_order_nums = min(i, 2))
    const predictor = predictorCoefficients({ i, order });

    // The corrector of the last step is skipped: the last predictor returns m_{N-1}, which does not depend on the
    // corrected x_{N-1}, so the reference computes it and throws it away (4.3, "final step returns x0_pred", 9.10).
    let nonFinite: number;
    if (i > 0 && i < steps - 1) {
      const previousX0 = x0s[(i + 2) % 3]!; // m_{i-1}
      const earlierX0 = i >= 2 ? x0s[(i + 1) % 3]! : previousX0; // m_{i-2}, read only at order 2
      const corrector = correctorCoefficients({ i });
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

  /** UniC (B(h) version) at order `lastOrder`, correcting x_i with m_i (4.3, `multistep_uni_c_bh_update`). */
  function correctorCoefficients(options: { i: number }): CorrectorCoefficients {
    const { i } = options;
    const h = lambdas[i]! - lambdas[i - 1]!;
    const hh = -h; // predict_x0
    const phi1 = Math.expm1(hh); // h phi_1(h)
    const bh = Math.expm1(hh); // bh2
    const alpha = 1 - sigmas[i]!;
    // rho_0 D + rho_last (m_i - m_{i-1}) with D = (m_{i-2} - m_{i-1}) / r: rhoD = rho_0 / r
    let rhoD = 0;
    let rhoLast = 0.5; // order 1: rho = [0.5]
    if (lastOrder === 2) {
      const r = (lambdas[i - 2]! - lambdas[i - 1]!) / h;
      const [b1, b2] = phiCoefficients({ hh, phi1, bh, order: 2 });
      // R rho = b with R = [[1, 1], [r, 1]] (rows rks^0, rks^1 with rks = [r, 1]), by Cramer's rule (det = 1 - r > 1)
      rhoD = (b1! - b2!) / (1 - r) / r;
      rhoLast = (b2! - r * b1!) / (1 - r);
    }
    return { ratio: sigmas[i]! / sigmas[i - 1]!, alphaPhi1: alpha * phi1, alphaBh: alpha * bh, rhoD, rhoLast };
  }

  /** UniP (B(h) version) at order 1 or 2, x_{i+1} from x_i (4.3, `multistep_uni_p_bh_update`). */
  function predictorCoefficients(options: { i: number; order: number }): PredictorCoefficients {
    const { i, order } = options;
    // sigma_{i+1} = 0 (the last step of Wan's schedule, at order 1): lambda = +inf, phi1 = B = -1, and the update is
    // x_{i+1} = 0 * x_i + m_i = m_i exactly; special-cased instead of going through inf (4.3).
    if (sigmas[i + 1] === 0) return { ratio: 0, alphaPhi1: 0, alphaBh: 0, rhoD: 0, landsOnX0: true };
    const h = lambdas[i + 1]! - lambdas[i]!;
    const hh = -h;
    const phi1 = Math.expm1(hh);
    const bh = Math.expm1(hh);
    const alpha = 1 - sigmas[i + 1]!;
    // order 2: D = (m_{i-1} - m_i) / r with r = (lambda_{i-1} - lambda_i) / h, and rho_p = 0.5
    const rhoD = order === 2 ? 0.5 / ((lambdas[i - 1]! - lambdas[i]!) / h) : 0;
    return { ratio: sigmas[i + 1]! / sigmas[i]!, alphaPhi1: alpha * phi1, alphaBh: alpha * bh, rhoD, landsOnX0: false };
  }
}

/** The buffers a run keeps (see `createInPlaceUniPcSolver`), allocated once at the first step. */
function allocateBuffers(length: number): { x0s: Float32Array[]; bases: Float32Array[] } {
  const buffer = () => new Float32Array(length);
  return { x0s: [buffer(), buffer(), buffer()], bases: [buffer(), buffer()] };
}

/**
 * The b vector of UniPC's linear system, by the phi-recursion of the reference (4.3):
 * hphi_k = phi1/hh - 1; fact = 1; for k = 1..p: b_k = hphi_k * fact / B; fact *= k + 1; hphi_k = hphi_k/hh - 1/fact.
 */
function phiCoefficients(options: { hh: number; phi1: number; bh: number; order: number }): number[] {
  const { hh, phi1, bh, order } = options;
  const b: number[] = [];
  let hPhiK = phi1 / hh - 1;
  let factorial = 1;
  for (let k = 1; k <= order; k++) {
    b.push((hPhiK * factorial) / bh);
    factorial *= k + 1;
    hPhiK = hPhiK / hh - 1 / factorial;
  }
  return b;
}
