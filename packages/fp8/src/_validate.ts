import { InvalidArgumentError } from './errors/invalid-argument-error';
import { ShapeMismatchError } from './errors/shape-mismatch-error';

/** Throws unless `value` is an instance of the typed-array class `kind` (by constructor name, for clear messages). */
export function expectTypedArray<T>(argument: string, value: unknown, kind: { new (n: number): T; name: string }): asserts value is T {
  if (!(value instanceof kind)) {
    const actual = value === null ? 'null' : typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value;
    throw new InvalidArgumentError({ argument, value, message: `expected a ${kind.name}, got ${actual}` });
  }
}

/** Throws a ShapeMismatchError unless `actual === expected`. */
export function expectLength(tensor: string, actual: number, expected: number, hint?: string): void {
  if (actual !== expected) throw new ShapeMismatchError({ tensor, expected: `length ${expected}`, actual: `length ${actual}`, hint });
}

/** Throws unless `value` is a positive safe integer. */
export function expectPositiveInteger(argument: string, value: unknown): asserts value is number {
  // Stryker disable next-line ConditionalExpression: the typeof test is documentation: Number.isSafeInteger is false for every non-number (equivalent)
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidArgumentError({ argument, value, message: `expected a positive integer, got ${String(value)}` });
  }
}
