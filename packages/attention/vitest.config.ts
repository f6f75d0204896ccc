import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Type tests (*.test-d.ts) pin the public types; vitest checks them with tsc.
    typecheck: { enabled: true, include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    // The float64 attention references are slow by nature (they are the CPU backend's kernel).
    testTimeout: 120_000,
  },
});
