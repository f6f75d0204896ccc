/** The error `fn` throws; fails when it throws nothing (so an expectation on it cannot pass vacuously). */
export function thrown(fn: () => unknown): Error & Record<string, unknown> {
  try {
    fn();
  } catch (e) {
    return e as Error & Record<string, unknown>;
  }
  throw new Error('expected the call to throw');
}
