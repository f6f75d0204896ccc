import { InvalidArgumentError } from '@fpsattn/fp8';
import type { PhaseName } from './types';

/**
 * `alpha` as the decimal number that `String(alpha)` prints, as an exact fraction `num / den` (den a power of ten).
 * That string is the shortest decimal that reads back as the same float64, i.e. the number as written in a config:
 * 0.14, not the binary value 0.140000000000000013322676...
 */
function decimalFraction(alpha: number): { num: bigint; den: bigint } {
  // Stryker disable next-line Regex: String() of a validated alpha in [0, 1] always matches the whole pattern, anchored or not (equivalent)
  const m = /^(\d+)(?:\.(\d+))?(?:e([+-]\d+))?$/.exec(String(alpha));
  // Stryker disable next-line all: defensive: unreachable for the validated alphas phaseBoundary passes
  if (!m) throw new InvalidArgumentError({ argument: 'alpha', value: alpha, message: `expected a finite number >= 0, got ${alpha}` });
  const fraction = m[2] ?? '';
  const exponent = Number(m[3] ?? 0) - fraction.length;
  const digits = BigInt(m[1]! + fraction);
  // Stryker disable next-line all: alphas in [0, 1] print with exponent <= 0 (1 and 0 with exponent 0, where both branches give num / 1) (equivalent)
  return exponent >= 0 ? { num: digits * 10n ** BigInt(exponent), den: 1n } : { num: digits, den: 10n ** BigInt(-exponent) };
}

/**
 * Float64 computes `alpha * steps` within about 2.3e-16 (relative) of the exact decimal product: half an ulp for
 * reading the decimal alpha, half for the product. When the float64 product is farther than this margin from every
 * integer, its ceiling is the exact one and the BigInt path is skipped (the common case, kept fast for resolvePlan).
 */
const FAST_PATH_MARGIN = 1e-12;

/** Exact boundaries already computed, by alpha then steps (presets hit 0.4 * 50 = 20 on every resolvePlan call). */
const exactBoundaries = new Map<number, Map<number, number>>();
const EXACT_CACHE_ALPHAS = 256;

function checkAlpha(argument: string, value: number): void {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new InvalidArgumentError({ argument, value, message: `expected a number in [0, 1], got ${value}` });
  }
}

function checkSteps(steps: number): void {
  if (!Number.isSafeInteger(steps) || steps < 1) {
    throw new InvalidArgumentError({ argument: 'steps', value: steps, message: `expected an integer >= 1, got ${steps}` });
  }
}

/**
 * `ceil(alpha * steps)`, computed **exactly** with `alpha` read as the decimal that `String(alpha)` prints (the
 * number as written in a config).
 *
 * Algorithm 1 compares the integer step t with the real number `alpha * D`: `t < alpha * D` holds exactly for
 * `t < ceil(alpha * D)`. The product is taken in exact rational arithmetic (BigInt) rather than float64, so:
 *
 * - `0.14` over 50 steps gives 7 (the decimal 0.14 * 50 = 7 exactly), although float64 computes
 *   `0.14 * 50 = 7.000000000000001`, whose ceiling would add an eighth early step;
 * - `0.4000000001` over 50 steps gives 21 (20.000000005), and `0.1` over 10,000,000,001 steps gives 1,000,000,001:
 *   there is no tolerance, so values just above an integer are never snapped down, whatever the number of steps.
 *
 * Throws an InvalidArgumentError unless `alpha` is in [0, 1] and `steps` an integer >= 1.
 *
 * @example phaseBoundary({ alpha: 0.14, steps: 50 }) // 7
 */
export function phaseBoundary(options: { alpha: number; steps: number }): number {
  const { alpha, steps } = options;
  checkAlpha('alpha', alpha);
  checkSteps(steps);
  const x = alpha * steps;
  const nearest = Math.round(x);
  // Stryker disable next-line all: the fast path only skips the exact computation when it would give the same ceiling; the mutants take the exact path more often (equivalent)
  if (Math.abs(x - nearest) > FAST_PATH_MARGIN * Math.max(1, x)) return Math.ceil(x);
  let bySteps = exactBoundaries.get(alpha);
  let t = bySteps?.get(steps);
  // Stryker disable next-line ConditionalExpression: recomputing a cached boundary gives the same boundary (equivalent)
  if (t === undefined) {
    const { num, den } = decimalFraction(alpha);
    t = Number((num * BigInt(steps) + den - 1n) / den); // ceil of a non-negative fraction
    // Stryker disable next-line ConditionalExpression: a fresh per-alpha map only drops cached boundaries (equivalent)
    if (!bySteps) {
      // Stryker disable next-line ConditionalExpression,EqualityOperator: when the cache is cleared changes memory, not results (equivalent)
      if (exactBoundaries.size >= EXACT_CACHE_ALPHAS) exactBoundaries.clear();
      exactBoundaries.set(alpha, (bySteps = new Map()));
    }
    bySteps.set(steps, t);
  }
  return t;
}

/**
 * Transition steps `t1 = ceil(alpha1 * steps)` and `t2 = ceil(alpha2 * steps)` (exact, see {@link phaseBoundary}).
 * Steps `[0, t1)` are early, `[t1, t2)` middle, `[t2, steps)` late: there are exactly `t1` early steps,
 * `t2 - t1` middle and `steps - t2` late ones (alpha1 = alpha2 gives no middle phase, alpha2 = 1 no late phase).
 * Throws an InvalidArgumentError naming the field unless `steps` is an integer >= 1 and `0 <= alpha1 <= alpha2 <= 1`.
 */
export function phaseBoundaries(options: { steps: number; alpha1: number; alpha2: number }): { t1: number; t2: number } {
  const { steps, alpha1, alpha2 } = options;
  checkSteps(steps);
  checkAlpha('alpha1', alpha1);
  checkAlpha('alpha2', alpha2);
  if (alpha1 > alpha2) {
    throw new InvalidArgumentError({ argument: 'alpha1', value: alpha1, message: `must not exceed alpha2 (${alpha2}), got ${alpha1}` });
  }
  return { t1: phaseBoundary({ alpha: alpha1, steps }), t2: phaseBoundary({ alpha: alpha2, steps }) };
}

/**
 * Phase of step `step` (0-based, 0 = first and noisiest): warmup if `step < denseSteps`, else early if
 * `step < t1`, middle if `step < t2`, else late. Warmup replaces the phase it overlaps; it does not shift the others.
 * Validates like {@link phaseBoundaries}, plus `step` (integer in [0, steps)) and `denseSteps` (integer in [0, steps]).
 */
export function stepPhase(options: { step: number; steps: number; alpha1: number; alpha2: number; denseSteps?: number }): PhaseName {
  const { step, steps } = options;
  const denseSteps = options.denseSteps ?? 0;
  const { t1, t2 } = phaseBoundaries(options);
  if (!Number.isInteger(step) || step < 0 || step >= steps) {
    throw new InvalidArgumentError({ argument: 'step', value: step, message: `expected an integer in [0, ${steps}), got ${step}` });
  }
  if (!Number.isInteger(denseSteps) || denseSteps < 0 || denseSteps > steps) {
    throw new InvalidArgumentError({ argument: 'denseSteps', value: denseSteps, message: `expected an integer in [0, ${steps}], got ${denseSteps}` });
  }
  if (step < denseSteps) return 'warmup';
  if (step < t1) return 'early';
  if (step < t2) return 'middle';
  return 'late';
}
