import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // Property tests over random grids take seconds each; under turbo's parallel load on a 2-core CI box they exceed
    // vitest's 5 s default, so the limit is generous (a real hang still fails).
    testTimeout: 60_000,
  },
});
