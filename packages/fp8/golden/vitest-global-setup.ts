import type { TestProject } from 'vitest/node';
// @ts-expect-error: plain ESM script without type declarations
import { ensureFullGoldenVectors } from './build-golden.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    fullGoldenVectors: { path?: string; reason?: string; error?: string };
  }
}

/**
 * Builds the full CUDA golden vectors once per test run (skipped, with the reason, where CUDA headers are absent).
 * Under mutation testing (FPSATTN_MUTATION=1, set by `npm run mutation`) only the committed boundary set runs: it
 * covers every code path of the encoders (every representable value, tie and neighbour) in a second per mutant.
 */
export default function setup(project: TestProject): void {
  const result: { path?: string; reason?: string; error?: string } =
    process.env.FPSATTN_MUTATION === '1'
      ? { reason: 'FPSATTN_MUTATION=1 (mutation testing): the committed boundary set only' }
      : (ensureFullGoldenVectors() as { path?: string; reason?: string; error?: string });
  if (result.reason) console.warn(`[fp8] full golden vectors unavailable: ${result.reason}; testing committed boundary vectors only`);
  project.provide('fullGoldenVectors', result);
}
