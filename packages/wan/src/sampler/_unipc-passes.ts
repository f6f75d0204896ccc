// The element loops of one UniPC step (wan21-architecture.md 4.3), one pass over the latents each: an element's x0
// prediction, corrector and predictor are formed together, with the operations grouped as the reference groups them
// (`alpha * phi1 * m` is (alpha * phi1) * m, so the products of scalars are taken once, outside the loop), and each
// intermediate the reference stores in float32 is rounded to float32 (Math.fround) before it is used. The scalars come
// from unipc-solver.ts. The velocity is read (guided, when it comes as cond and uncond) in the same pass. Every pass
// returns -1, or the index of the first non-finite velocity: it stops there, before writing anything at that index, so
// `out` may be the sample or a velocity array itself.
import { guidedValue, type VelocityOperands } from './_step-velocity';

/** UniP (4.3, `multistep_uni_p_bh_update`): x_{i+1} = ratio x_i - alphaPhi1 m_i - alphaBh (rhoD (m_prev - m_i)). */
export interface PredictorCoefficients {
  /** sigma_{i+1} / sigma_i */
  ratio: number;
  /** alpha_{i+1} phi1(h) */
  alphaPhi1: number;
  /** alpha_{i+1} B(h) */
  alphaBh: number;
  /** rho_0 / r at order 2, 0 at order 1 (where m_prev is m_i) */
  rhoD: number;
  /** sigma_{i+1} = 0: x_{i+1} = m_i exactly (lambda = +inf, special-cased instead of computed through inf) */
  landsOnX0: boolean;
}

/**
 * UniC (4.3, `multistep_uni_c_bh_update`):
 * x_i = ratio x_last - alphaPhi1 m_{i-1} - alphaBh (rhoD (m_{i-2} - m_{i-1}) + rhoLast (m_i - m_{i-1})).
 */
export interface CorrectorCoefficients {
  /** sigma_i / sigma_{i-1} */
  ratio: number;
  /** alpha_i phi1(h) */
  alphaPhi1: number;
  /** alpha_i B(h) */
  alphaBh: number;
  /** rho_0 / r at order 2, 0 at order 1 */
  rhoD: number;
  rhoLast: number;
}

/** v_i (finite, or the pass stops) as `velocityOperands` gives it, and the arrays of the step. */
interface PassArrays extends VelocityOperands {
  /** x_i as the model saw it. */
  sample: Float32Array;
  /** Receives m_i = x_i - sigma_i v_i (`convert_model_output`). */
  x0: Float32Array;
  /** Receives x_i as the predictor uses it (after the corrector, if any): the next corrector's x_last. */
  base: Float32Array;
  /** Receives x_{i+1}. */
  out: Float32Array;
}

/** The first step and the last: no corrector, the predictor at order 1. */
export function stepWithoutCorrector(options: PassArrays & { sigma: number; predictor: PredictorCoefficients }): number {
  const { cond, uncond, guidance, sample, x0, base, out, sigma } = options;
  const { ratio, alphaPhi1, alphaBh, rhoD, landsOnX0 } = options.predictor;
  for (let k = 0; k < out.length; k++) {
    const v = guidedValue(cond[k]!, uncond[k]!, guidance);
    if (v - v !== 0) return k; // NaN or an infinity
    const x = sample[k]!;
    const m = Math.fround(x - sigma * v);
    x0[k] = m;
    base[k] = x;
    // order 1: m_prev is m_i itself
    out[k] = landsOnX0 ? m : ratio * x - alphaPhi1 * m - alphaBh * (rhoD * (m - m));
  }
  return -1;
}

/**
 * The steps in between: the corrector replaces x_i (it needs m_i, so it runs after the x0 prediction), then the
 * predictor at order 2 (every step but the first and the last has order 2), with m_prev = m_{i-1}. `landsOnX0` is
 * not read: only the last step can have sigma_{i+1} = 0.
 */
export function stepWithCorrector(
  options: PassArrays & {
    sigma: number;
    /** x_{i-1} as the last predictor used it */
    lastBase: Float32Array;
    /** m_{i-1} */
    previousX0: Float32Array;
    /** m_{i-2}; at step 1 (corrector order 1, rhoD = 0) m_{i-1} again, as the reference substitutes it */
    earlierX0: Float32Array;
    corrector: CorrectorCoefficients;
    predictor: PredictorCoefficients;
  },
): number {
  const { cond, uncond, guidance, sample, x0, base, out, sigma, lastBase, previousX0, earlierX0 } = options;
  // the scalars as locals: property loads inside the loop are not always hoisted, and cost as much as the arithmetic
  const { ratio: cRatio, alphaPhi1: cAlphaPhi1, alphaBh: cAlphaBh, rhoD: cRhoD, rhoLast: cRhoLast } = options.corrector;
  const { ratio: pRatio, alphaPhi1: pAlphaPhi1, alphaBh: pAlphaBh, rhoD: pRhoD } = options.predictor;
  for (let k = 0; k < out.length; k++) {
    const v = guidedValue(cond[k]!, uncond[k]!, guidance);
    if (v - v !== 0) return k; // NaN or an infinity
    const m = Math.fround(sample[k]! - sigma * v);
    const m1 = previousX0[k]!;
    const correction = cRhoD * (earlierX0[k]! - m1) + cRhoLast * (m - m1);
    const x = Math.fround(cRatio * lastBase[k]! - cAlphaPhi1 * m1 - cAlphaBh * correction);
    x0[k] = m;
    base[k] = x;
    out[k] = pRatio * x - pAlphaPhi1 * m - pAlphaBh * (pRhoD * (m1 - m));
  }
  return -1;
}
