import { defineConfig } from 'vitest/config';

// The tests spawn the built binary (dist/cli.js): run `npm run build` first (turbo's test task depends on build).
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
