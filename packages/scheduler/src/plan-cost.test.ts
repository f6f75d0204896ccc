import { describe, expect, it } from 'vitest';
import { planCost } from './plan-cost';

const grid = { frames: 21, height: 45, width: 80 };
const sparsity = { tile: [3, 5, 8] as const, window: { kind: 'clamped' as const, tiles: [3, 5, 5] as const } };

describe('planCost', () => {
  const denseExecuted = (75_648 / 75_600) ** 2; // 591 blocks of 128 rows for 75,600 tokens
  it.each([
    // plan, density, flopsRelative (attended real pairs), executedRelative (padded blocks)
    [{ mode: 'dense-bf16' as const }, 1, 1, denseExecuted],
    [{ mode: 'fp8-dense' as const, granularity: { kind: 'per-tensor' as const } }, 1, 1, denseExecuted],
    [{ mode: 'sparse-bf16' as const, sparsity }, 75 / 630, 75 / 630, (75 / 630) * (128 / 120) ** 2],
    [{ mode: 'fp8-sparse' as const, granularity: { kind: 'per-token' as const }, sparsity }, 75 / 630, 75 / 630, (75 / 630) * (128 / 120) ** 2],
    // a window over the whole grid: real work equals dense, the padded blocks cost 13.8% more
    [{ mode: 'sparse-bf16' as const, sparsity: { tile: [3, 5, 8] as const, window: { kind: 'clamped' as const, tiles: [7, 9, 10] as const } } }, 1, 1, (128 / 120) ** 2],
  ])('%o costs density %f, real-pair FLOPs %f and executed FLOPs %f of dense', (plan, density, flops, executed) => {
    const cost = planCost({ plan, grid });
    expect(cost.density).toBeCloseTo(density, 12);
    expect(cost.flopsRelative).toBeCloseTo(flops, 12);
    expect(cost.executedRelative).toBeCloseTo(executed, 12);
  });

  it('gives flopsRelative = density for every sparse plan, so dense and sparse modes compare on the same footing', () => {
    for (const tiles of [[1, 1, 1], [3, 3, 5], [7, 9, 10]] as const) {
      const cost = planCost({ plan: { mode: 'sparse-bf16', sparsity: { tile: [3, 5, 8], window: { kind: 'clamped', tiles } } }, grid });
      expect(cost.flopsRelative).toBe(cost.density);
    }
  });

  it('uses the row multiple for padding', () => {
    const cost = planCost({ plan: { mode: 'sparse-bf16', sparsity }, grid, rowMultiple: 8 });
    expect(cost.executedRelative).toBeCloseTo(75 / 630, 12); // 120 is a multiple of 8: no padding
    expect(planCost({ plan: { mode: 'dense-bf16' }, grid, rowMultiple: 8 }).executedRelative).toBe(1); // 75,600 = 9,450 x 8
  });

  it.each([0, -1, 1.5, Number.NaN])('rejects rowMultiple %s for dense plans too', (rowMultiple) => {
    expect(() => planCost({ plan: { mode: 'dense-bf16' }, grid, rowMultiple })).toThrow(/'rowMultiple'/);
  });
});
