import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // --expose-gc: the finalizer safety net of device storage is tested by forcing a collection.
    execArgv: ['--expose-gc'],
  },
});
