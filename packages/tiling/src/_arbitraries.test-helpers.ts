import fc from 'fast-check';
import type { Dims3, GridDims } from './types';
import type { WindowSpec } from './window-3d';

/** Small grids (at most 6 x 9 x 10 = 540 tokens) so token-level brute force stays cheap. */
export const smallGrid: fc.Arbitrary<GridDims> = fc.record({
  frames: fc.integer({ min: 1, max: 6 }),
  height: fc.integer({ min: 1, max: 9 }),
  width: fc.integer({ min: 1, max: 10 }),
});

export const dims3 = (max: Dims3): fc.Arbitrary<Dims3> =>
  fc.tuple(fc.integer({ min: 1, max: max[0] }), fc.integer({ min: 1, max: max[1] }), fc.integer({ min: 1, max: max[2] }));

export const smallTile: fc.Arbitrary<Dims3> = dims3([4, 5, 6]);

export const anyWindow: fc.Arbitrary<WindowSpec> = fc.oneof(
  dims3([14, 20, 24]).map((tokens): WindowSpec => ({ kind: 'seed', tokens })),
  dims3([5, 6, 7]).map((tiles): WindowSpec => ({ kind: 'clamped', tiles })),
  fc.constant<WindowSpec>({ kind: 'full' }),
);

/**
 * Property-test run counts: `n` for `npm test`, an eighth of it under mutation testing (FPSATTN_MUTATION=1, set by
 * `npm run mutation`), where every surviving mutant replays every covering property. The first runs already reach
 * the small and ragged cases that kill mutants; the full counts stay in CI.
 */
export const runs = (n: number): number => (process.env.FPSATTN_MUTATION === '1' ? Math.ceil(n / 8) : n);
