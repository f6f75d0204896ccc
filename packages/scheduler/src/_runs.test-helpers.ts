/**
 * Sizes of the exhaustive and property tests: `n` for `npm test`, about an eighth under mutation testing
 * (FPSATTN_MUTATION=1, set by `npm run mutation`), where every surviving mutant replays every covering test on
 * instrumented code. The small cases that kill mutants come first; the full sizes stay in CI.
 */
export const runs = (n: number): number => (process.env.FPSATTN_MUTATION === '1' ? Math.ceil(n / 8) : n);
