// The sampler's per-step host work as it was before the one-pass rewrite (commit de85d11): guidance into a new array,
// a finiteness check per tensor, then a solver step of one pass and one new array per quantity. Kept, with its checks
// reduced to the finiteness ones, as the reference the one-pass solvers must match bit for bit, errors included.
import { checkFinite } from './_validate';
import { flowMatchSchedule } from './flow-match-schedule';
import type { VelocityModel } from './types';

/** UniPC as de85d11's `createUniPcSolver` stepped it: x0, the corrected sample and the next sample, three passes. */
export function threePassUniPc(sigmas: Float64Array) {
  const steps = sigmas.length - 1;
  const lambdas = sigmas.map((sigma) => (sigma > 0 ? Math.log(1 - sigma) - Math.log(sigma) : Infinity));
  let lastSample: Float32Array | null = null;
  let previousX0: Float32Array | null = null;
  let earlierX0: Float32Array | null = null;
  let lastOrder = 1;

  function phiCoefficients(hh: number, phi1: number, bh: number): number[] {
    const b: number[] = [];
    let hPhiK = phi1 / hh - 1;
    let factorial = 1;
    for (let k = 1; k <= 2; k++) {
      b.push((hPhiK * factorial) / bh);
      factorial *= k + 1;
      hPhiK = hPhiK / hh - 1 / factorial;
    }
    return b;
  }

  function correct(i: number, x0: Float32Array): Float32Array {
    const last = lastSample!;
    const m1 = previousX0!;
    const h = lambdas[i]! - lambdas[i - 1]!;
    const hh = -h;
    const phi1 = Math.expm1(hh);
    const bh = Math.expm1(hh);
    const alpha = 1 - sigmas[i]!;
    const ratio = sigmas[i]! / sigmas[i - 1]!;
    let rhoD = 0;
    let rhoLast = 0.5;
    if (lastOrder === 2) {
      const r = (lambdas[i - 2]! - lambdas[i - 1]!) / h;
      const [b1, b2] = phiCoefficients(hh, phi1, bh);
      rhoD = (b1! - b2!) / (1 - r) / r;
      rhoLast = (b2! - r * b1!) / (1 - r);
    }
    const m2 = earlierX0 ?? m1;
    const corrected = new Float32Array(x0.length);
    for (let k = 0; k < corrected.length; k++) {
      const correction = rhoD * (m2[k]! - m1[k]!) + rhoLast * (x0[k]! - m1[k]!);
      corrected[k] = ratio * last[k]! - alpha * phi1 * m1[k]! - alpha * bh * correction;
    }
    return corrected;
  }

  function predict(i: number, x0: Float32Array, x: Float32Array, order: number): Float32Array {
    if (sigmas[i + 1] === 0) return x0.slice();
    const h = lambdas[i + 1]! - lambdas[i]!;
    const hh = -h;
    const phi1 = Math.expm1(hh);
    const bh = Math.expm1(hh);
    const alpha = 1 - sigmas[i + 1]!;
    const ratio = sigmas[i + 1]! / sigmas[i]!;
    const rhoD = order === 2 ? 0.5 / ((lambdas[i - 1]! - lambdas[i]!) / h) : 0;
    const m1 = order === 2 ? previousX0! : x0;
    const next = new Float32Array(x0.length);
    for (let k = 0; k < next.length; k++) {
      next[k] = ratio * x[k]! - alpha * phi1 * x0[k]! - alpha * bh * (rhoD * (m1[k]! - x0[k]!));
    }
    return next;
  }

  return (modelOutput: Float32Array, sample: Float32Array, i: number): Float32Array => {
    checkFinite({ tensor: 'modelOutput', values: modelOutput, stepIndex: i, steps });
    const x0 = new Float32Array(sample.length);
    const sigma = sigmas[i]!;
    for (let k = 0; k < x0.length; k++) x0[k] = sample[k]! - sigma * modelOutput[k]!;
    const x = i > 0 && i < steps - 1 ? correct(i, x0) : sample;
    const order = Math.min(2, steps - i, i + 1);
    const next = predict(i, x0, x, order);
    earlierX0 = previousX0;
    previousX0 = x0;
    lastSample = x;
    lastOrder = order;
    return next;
  };
}

/** Euler as de85d11 stepped it. */
export function threePassEuler(sigmas: Float64Array) {
  const steps = sigmas.length - 1;
  return (modelOutput: Float32Array, sample: Float32Array, i: number): Float32Array => {
    checkFinite({ tensor: 'modelOutput', values: modelOutput, stepIndex: i, steps });
    const dt = sigmas[i + 1]! - sigmas[i]!;
    const next = new Float32Array(sample.length);
    for (let k = 0; k < next.length; k++) next[k] = sample[k]! + dt * modelOutput[k]!;
    return next;
  };
}

/**
 * de85d11's `sample` loop for well-formed model outputs: cond, uncond and the guided velocity checked in full in turn
 * (or the velocity), then the solver.
 */
export async function threePassSample(options: {
  noise: Float32Array;
  steps: number;
  shift?: number;
  guidance: number;
  solver: 'unipc' | 'euler';
  model: VelocityModel;
}): Promise<Float32Array> {
  const { steps, guidance } = options;
  const schedule = flowMatchSchedule({ steps, shift: options.shift });
  const step = options.solver === 'unipc' ? threePassUniPc(schedule.sigmas) : threePassEuler(schedule.sigmas);
  let latents: Float32Array = options.noise.slice();
  for (let stepIndex = 0; stepIndex < steps; stepIndex++) {
    const timestep = schedule.timesteps[stepIndex]!;
    const output = await options.model({ latents, timestep, sigma: schedule.sigmas[stepIndex]!, stepIndex, steps });
    const check = (name: string, values: Float32Array) => checkFinite({ tensor: `model output ${name}`, values, stepIndex, steps, timestep });
    let velocity: Float32Array;
    if (output.velocity !== undefined) {
      velocity = output.velocity;
      check('velocity', velocity);
    } else {
      const { cond, uncond } = output;
      check('cond', cond);
      check('uncond', uncond);
      velocity = new Float32Array(cond.length);
      for (let k = 0; k < velocity.length; k++) velocity[k] = uncond[k]! + guidance * (cond[k]! - uncond[k]!);
      checkFinite({ tensor: `guided velocity (guidance ${guidance})`, values: velocity, stepIndex, steps, timestep });
    }
    latents = step(velocity, latents, stepIndex);
  }
  return latents;
}
