import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Type tests (*.test-d.ts) pin the public types; vitest checks them with tsc (not under mutation testing,
    // FPSATTN_MUTATION=1: no mutant of the emitted JavaScript changes a type).
    typecheck: { enabled: process.env.FPSATTN_MUTATION !== '1', include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    // The float64 attention references are slow by nature (they are the CPU backend's kernel).
    testTimeout: 120_000,
  },
});
