import type { TestProject } from 'vitest/node';
// @ts-expect-error: plain ESM script without type declarations
import { ensureFullGoldenVectors } from './build-golden.mjs';

declare module 'vitest' {
  export interface ProvidedContext {
    fullGoldenVectors: { path?: string; reason?: string; error?: string };
  }
}

/** Builds the full CUDA golden vectors once per test run (skipped, with the reason, where CUDA headers are absent). */
export default function setup(project: TestProject): void {
  const result = ensureFullGoldenVectors() as { path?: string; reason?: string; error?: string };
  if (result.reason) console.warn(`[fp8] full golden vectors unavailable: ${result.reason}; testing committed boundary vectors only`);
  project.provide('fullGoldenVectors', result);
}
