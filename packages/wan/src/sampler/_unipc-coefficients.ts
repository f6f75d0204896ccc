// The float64 scalars of UniPC's steps (wan21-architecture.md 4.3), from the sigmas alone: one copy for the host
// solver (unipc-solver.ts) and the device sampler (../device/device-sample.ts), so that both form the same numbers.
import type { CorrectorCoefficients, PredictorCoefficients } from './_unipc-passes';

export interface UniPcCoefficients {
  steps: number;
  /** p of step i's predictor: min(2, steps - i, i + 1) (the warm-up and `lower_order_final`). */
  orderOf(i: number): number;
  /** UniP (B(h) version) at order 1 or 2, x_{i+1} from x_i. */
  predictor(options: { i: number; order: number }): PredictorCoefficients;
  /** UniC (B(h) version) correcting x_i with m_i, at `lastOrder` (the order of step i-1's predictor). */
  corrector(options: { i: number; lastOrder: number }): CorrectorCoefficients;
}

/** `sigmas` as checkSigmas({ strict: true }) returns them. */
export function uniPcCoefficients(sigmas: Float64Array): UniPcCoefficients {
  const steps = sigmas.length - 1;
  // lambda(sigma) for sigma > 0; lambda(0) = +inf is never used (the predictor special-cases sigma_{i+1} = 0)
  const lambdas = sigmas.map((sigma) => (sigma > 0 ? Math.log(1 - sigma) - Math.log(sigma) : Infinity));

  const corrector = (options: { i: number; lastOrder: number }): CorrectorCoefficients => {
    const { i, lastOrder } = options;
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
  };

  const predictor = (options: { i: number; order: number }): PredictorCoefficients => {
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
  };

  return { steps, orderOf: (i) => Math.min(2, steps - i, i + 1), predictor, corrector };
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
