import { InvalidArgumentError } from '@fpsattn/fp8';

/** Throws unless `value` is an integer >= 1 (finite, not NaN). */
export function assertPositiveInt(argument: string, value: unknown): asserts value is number {
  // Stryker disable next-line ConditionalExpression: the typeof test only narrows the type: Number.isInteger is false for every non-number (equivalent)
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError({
      argument,
      value,
      message: `expected a positive integer, got ${describe(value)}`,
    });
  }
}

/** Largest length / index an Int32 array (rowPtr, colIdx, slot tables) can hold: 2^31 - 1. */
export const MAX_INT32 = 0x7fffffff;

/**
 * Throws an {@link InvalidArgumentError} for `argument` unless `count` (computed **before** allocating) fits Int32
 * indices. `what` states the count and `fix` what to change, giving e.g. "the block mask would hold 5715360000 key
 * tiles, more than 2^31-1 (Int32 indices): use larger tiles or a smaller window".
 */
export function assertInt32Count(options: { argument: string; value: unknown; count: number; what: string; fix: string }): void {
  const { argument, value, count, what, fix } = options;
  if (!(count <= MAX_INT32)) {
    throw new InvalidArgumentError({ argument, value, message: `${what}, more than 2^31-1 (Int32 indices): ${fix}` });
  }
}

/** A value as error messages show it: numbers as printed (NaN, Infinity), the rest as JSON (strings quoted), else String(). */
export function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
