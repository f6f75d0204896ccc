import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Type tests (*.test-d.ts) pin the public types; vitest checks them with tsc (not under mutation testing,
    // FPSATTN_MUTATION=1: no mutant of the emitted JavaScript changes a type).
    typecheck: { enabled: process.env.FPSATTN_MUTATION !== '1', include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    include: ['src/**/*.test.ts'],
    // Exhaustive checks (every 16-bit code of four formats) run for seconds on a loaded 2-core CI machine; speed is
    // measured in benchmarks, never here (as in the other packages).
    testTimeout: 60_000,
    // --expose-gc: the finalizer safety net of device storage is tested by forcing a collection. Not under mutation
    // testing: Stryker's vitest runner uses worker threads, which refuse the flag (that test skips without gc, and
    // src/cuda/ is not mutated).
    execArgv: process.env.FPSATTN_MUTATION === '1' ? [] : ['--expose-gc'],
  },
});
