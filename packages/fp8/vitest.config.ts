import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Type tests (*.test-d.ts) pin the public types; vitest checks them with tsc (not under mutation testing,
    // FPSATTN_MUTATION=1: no mutant of the emitted JavaScript changes a type).
    typecheck: { enabled: process.env.FPSATTN_MUTATION !== '1', include: ['src/**/*.test-d.ts'], tsconfig: './tsconfig.json' },
    include: ['src/**/*.test.ts'],
    // The golden-vector tests walk 1.1 M vectors; under turbo's parallel load on a 2-core CI box they exceed vitest's
    // 5 s default, so the limit is generous (a real hang still fails).
    testTimeout: 60_000,
    globalSetup: ['./golden/vitest-global-setup.ts'],
  },
});
