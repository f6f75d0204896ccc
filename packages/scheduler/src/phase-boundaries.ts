import { InvalidArgumentError } from '@fpsattn/fp8';
import type { PhaseName } from './types';

/** Relative tolerance that absorbs binary rounding of decimal alphas (0.14 * 50 = 7.000000000000001 -> 7). */
const INTEGER_SNAP = 1e-9;

/**
 * `ceil(alpha * steps)`, where a product within 1e-9 (relative) of an integer counts as that integer.
 *
 * Algorithm 1 compares the integer step t with the real number `alpha * D`: `t < alpha * D` holds exactly for
 * `t < ceil(alpha * D)`. Computing `alpha * D` in float64 can land just above an integer for decimal alphas
 * (`0.14 * 50 = 7.000000000000001`), which would add a step; the snap makes the boundary the one of the exact decimal value.
 */
export function phaseBoundary(alpha: number, steps: number): number {
  const x = alpha * steps;
  const nearest = Math.round(x);
  return Math.abs(x - nearest) <= INTEGER_SNAP * Math.max(1, Math.abs(x)) ? nearest : Math.ceil(x);
}

/**
 * Transition steps `t1 = ceil(alpha1 * steps)` and `t2 = ceil(alpha2 * steps)` (see {@link phaseBoundary}).
 * Steps `[0, t1)` are early, `[t1, t2)` middle, `[t2, steps)` late: there are exactly `t1` early steps,
 * `t2 - t1` middle and `steps - t2` late ones (alpha1 = alpha2 gives no middle phase, alpha2 = 1 no late phase).
 */
export function phaseBoundaries(options: { steps: number; alpha1: number; alpha2: number }): { t1: number; t2: number } {
  return { t1: phaseBoundary(options.alpha1, options.steps), t2: phaseBoundary(options.alpha2, options.steps) };
}

/**
 * Phase of step `step` (0-based, 0 = first and noisiest): warmup if `step < denseSteps`, else early if
 * `step < t1`, middle if `step < t2`, else late. Warmup replaces the phase it overlaps; it does not shift the others.
 */
export function stepPhase(options: { step: number; steps: number; alpha1: number; alpha2: number; denseSteps?: number }): PhaseName {
  const { step, steps } = options;
  if (!Number.isInteger(step) || step < 0 || step >= steps) {
    throw new InvalidArgumentError({ argument: 'step', value: step, message: `expected an integer in [0, ${steps}), got ${step}` });
  }
  if (step < (options.denseSteps ?? 0)) return 'warmup';
  const { t1, t2 } = phaseBoundaries(options);
  if (step < t1) return 'early';
  if (step < t2) return 'middle';
  return 'late';
}
