/**
 * References for tests (`@fpsattn/scheduler/testing`): phase decisions computed independently of the fast path.
 */
import type { PhaseName } from './types';

/**
 * Phase by exact rational arithmetic: `alpha = alphaNumerator / alphaDenominator` (e.g. 3 / 10 for "0.3"), and
 * Algorithm 1's comparison `t < alpha * D` done in BigInt as `t * den < num * D`.
 */
export function exactPhase(options: {
  step: number;
  steps: number;
  alpha1: readonly [numerator: number, denominator: number];
  alpha2: readonly [numerator: number, denominator: number];
  denseSteps?: number;
}): PhaseName {
  const { step, steps, alpha1, alpha2 } = options;
  if (step < (options.denseSteps ?? 0)) return 'warmup';
  const below = ([num, den]: readonly [number, number]) => BigInt(step) * BigInt(den) < BigInt(num) * BigInt(steps);
  if (below(alpha1)) return 'early';
  if (below(alpha2)) return 'middle';
  return 'late';
}

/** Phase by Algorithm 1 read literally in float64: early iff `t < alpha1 * D`, middle iff `t < alpha2 * D`. */
export function float64Phase(options: { step: number; steps: number; alpha1: number; alpha2: number; denseSteps?: number }): PhaseName {
  const { step, steps, alpha1, alpha2 } = options;
  if (step < (options.denseSteps ?? 0)) return 'warmup';
  if (step < alpha1 * steps) return 'early';
  if (step < alpha2 * steps) return 'middle';
  return 'late';
}
