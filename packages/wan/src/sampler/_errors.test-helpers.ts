import { expect } from 'vitest';
import { SAMPLER_ERROR_CODES } from './errors';

const CODES = {
  SamplerOptionError: SAMPLER_ERROR_CODES.INVALID_OPTION,
  SamplerTensorError: SAMPLER_ERROR_CODES.INVALID_TENSOR,
  SamplerNonFiniteError: SAMPLER_ERROR_CODES.NON_FINITE,
  SamplerAbortedError: SAMPLER_ERROR_CODES.ABORTED,
} as const;

/** The error `action` throws (or rejects with): its class name, its code and its exact message. */
export async function expectSamplerError(
  action: () => unknown,
  expected: { name: keyof typeof CODES; message: string },
): Promise<Error> {
  let thrown: unknown;
  try {
    await action();
  } catch (error) {
    thrown = error;
  }
  expect(thrown, `expected ${expected.name}: ${expected.message}`).toBeInstanceOf(Error);
  expect(thrown).toMatchObject({ name: expected.name, code: CODES[expected.name] });
  expect((thrown as Error).message).toBe(expected.message);
  return thrown as Error;
}
