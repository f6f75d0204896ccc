import { InvalidArgumentError } from './errors/invalid-argument-error';
import { expectLength } from './_validate';

/** How far an approximation is from a reference, all computed in float64. */
export interface ErrorStats {
  /** ||approx - ref||_2 / ||ref||_2 (0 when both are zero, Infinity when only ref is). */
  readonly relativeL2: number;
  /** <ref, approx> / (||ref|| ||approx||); 1 when both are zero, 0 when exactly one is. */
  readonly cosine: number;
  readonly maxAbsError: number;
  /** 10 log10(||ref||^2 / ||approx - ref||^2) in dB; Infinity for an exact match. */
  readonly snrDb: number;
  /** Positions where either side is NaN or infinite; any makes the other statistics NaN rather than hiding it. */
  readonly nonFiniteCount: number;
  readonly count: number;
}

export interface ErrorStatsOptions {
  /** The values taken as exact (typed array or plain number array). */
  reference: ArrayLike<number>;
  /** The values compared with them, same length. */
  approx: ArrayLike<number>;
}

/** Compares two equally long arrays (typed arrays or plain number arrays). */
export function errorStats(options: ErrorStatsOptions): ErrorStats;
export function errorStats(options: ErrorStatsOptions): ErrorStats {
  const { reference, approx } = options;
  if (reference == null || typeof reference.length !== 'number') {
    throw new InvalidArgumentError({ argument: 'reference', value: reference, message: 'expected an array of numbers' });
  }
  if (approx == null || typeof approx.length !== 'number') {
    throw new InvalidArgumentError({ argument: 'approx', value: approx, message: 'expected an array of numbers' });
  }
  expectLength('approx', approx.length, reference.length, 'same length as reference');
  let sumSqRef = 0;
  let sumSqApprox = 0;
  let sumSqDiff = 0;
  let dot = 0;
  let maxAbsError = 0;
  let nonFiniteCount = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] as number;
    const a = approx[i] as number;
    if (!Number.isFinite(r) || !Number.isFinite(a)) {
      nonFiniteCount++;
      continue;
    }
    const d = a - r;
    sumSqRef += r * r;
    sumSqApprox += a * a;
    sumSqDiff += d * d;
    dot += r * a;
    const ad = Math.abs(d);
    // Stryker disable next-line EqualityOperator: >= only rewrites an equal maximum (equivalent)
    if (ad > maxAbsError) maxAbsError = ad;
  }
  const count = reference.length;
  if (nonFiniteCount > 0) {
    return { relativeL2: Number.NaN, cosine: Number.NaN, maxAbsError: Number.NaN, snrDb: Number.NaN, nonFiniteCount, count };
  }
  // Stryker disable next-line ConditionalExpression: with sumSqRef = 0 and a non-zero difference the division also gives Infinity (equivalent)
  const relativeL2 = sumSqDiff === 0 ? 0 : sumSqRef === 0 ? Infinity : Math.sqrt(sumSqDiff) / Math.sqrt(sumSqRef);
  const cosine =
    sumSqRef === 0 && sumSqApprox === 0 ? 1 : sumSqRef === 0 || sumSqApprox === 0 ? 0 : dot / Math.sqrt(sumSqRef * sumSqApprox);
  const snrDb = sumSqDiff === 0 ? Infinity : 10 * Math.log10(sumSqRef / sumSqDiff);
  return { relativeL2, cosine, maxAbsError, snrDb, nonFiniteCount, count };
}
