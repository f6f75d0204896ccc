import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // The exhaustive phase tests take seconds; under turbo's parallel load on a 2-core CI box (and on instrumented code
    // under mutation testing) they exceed vitest's 5 s default, so the limit is generous (a real hang still fails).
    testTimeout: 60_000,
    // Type tests (*.test-d.ts) pin the public types; vitest checks them with tsc (not under mutation testing,
    // FPSATTN_MUTATION=1: no mutant of the emitted JavaScript changes a type).
    typecheck: { enabled: process.env.FPSATTN_MUTATION !== '1', include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
  },
});
