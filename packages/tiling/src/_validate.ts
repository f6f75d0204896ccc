import { InvalidArgumentError } from '@fpsattn/fp8';
import type { Dims3 } from './types';

/** Throws unless `value` is an integer >= 1 (finite, not NaN). */
export function assertPositiveInt(argument: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidArgumentError({
      argument,
      value,
      message: `expected a positive integer, got ${describe(value)}`,
    });
  }
}

/** Throws unless `value` is an integer >= 0. */
export function assertNonNegativeInt(argument: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new InvalidArgumentError({
      argument,
      value,
      message: `expected a non-negative integer, got ${describe(value)}`,
    });
  }
}

/** Throws unless `value` is a 3-element array of positive integers; names the bad element (`tile[2]`). */
export function assertDims3(argument: string, value: unknown): asserts value is Dims3 {
  if (!Array.isArray(value) || value.length !== 3) {
    throw new InvalidArgumentError({
      argument,
      value,
      message: `expected [t, h, w] with three positive integers, got ${describe(value)}`,
    });
  }
  for (let axis = 0; axis < 3; axis++) assertPositiveInt(`${argument}[${axis}]`, value[axis]);
}

export function describe(value: unknown): string {
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
