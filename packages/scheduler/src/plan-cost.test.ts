import { describe, expect, it } from 'vitest';
import { planCost } from './plan-cost';

const grid = { frames: 21, height: 45, width: 80 };
const sparsity = { tile: [3, 5, 8] as const, window: { kind: 'clamped' as const, tiles: [3, 5, 5] as const } };

describe('planCost', () => {
  it.each([
    [{ mode: 'dense-bf16' as const }, 1, 1],
    [{ mode: 'fp8-dense' as const, granularity: { kind: 'per-tensor' as const } }, 1, 1],
    [{ mode: 'sparse-bf16' as const, sparsity }, 75 / 630, (75 / 630) * (128 / 120) ** 2],
    [{ mode: 'fp8-sparse' as const, granularity: { kind: 'per-token' as const }, sparsity }, 75 / 630, (75 / 630) * (128 / 120) ** 2],
  ])('%o costs density %f, executed FLOPs %f of dense', (plan, density, flops) => {
    const cost = planCost({ plan, grid });
    expect(cost.density).toBeCloseTo(density, 12);
    expect(cost.flopsRelative).toBeCloseTo(flops, 12);
  });

  it('uses the row multiple for padding', () => {
    const cost = planCost({ plan: { mode: 'sparse-bf16', sparsity }, grid, rowMultiple: 8 });
    expect(cost.flopsRelative).toBeCloseTo(75 / 630, 12); // 120 is a multiple of 8: no padding
  });
});
