import { describe, expect, it } from 'vitest';
import { planCost } from './plan-cost';

const grid = { frames: 21, height: 45, width: 80 };
const sparsity = { tile: [3, 5, 8] as const, window: { kind: 'clamped' as const, tiles: [3, 5, 5] as const } };

describe('planCost', () => {
  const denseExecuted = (75_648 / 75_600) ** 2; // 591 blocks of 128 rows for 75,600 tokens
  it.each([
    // plan, density, flopsRelative (attended real pairs), executedRelative (padded blocks)
    [{ mode: 'dense-bf16' as const }, 1, 1, denseExecuted],
    [{ mode: 'fp8-dense' as const, granularity: { kind: 'tensor' as const } }, 1, 1, denseExecuted],
    [{ mode: 'sparse-bf16' as const, sparsity }, 75 / 630, 75 / 630, (75 / 630) * (128 / 120) ** 2],
    [{ mode: 'fp8-sparse' as const, granularity: { kind: 'token' as const }, sparsity }, 75 / 630, 75 / 630, (75 / 630) * (128 / 120) ** 2],
    // a window over the whole grid: real work equals dense, the padded blocks cost 13.8% more
    [{ mode: 'sparse-bf16' as const, sparsity: { tile: [3, 5, 8] as const, window: { kind: 'clamped' as const, tiles: [7, 9, 10] as const } } }, 1, 1, (128 / 120) ** 2],
  ])('%o costs density %f, real-pair FLOPs %f and executed FLOPs %f of dense', (plan, density, flops, executed) => {
    const cost = planCost({ plan, grid, blockRows: 128 });
    expect(cost.density).toBeCloseTo(density, 12);
    expect(cost.flopsRelative).toBeCloseTo(flops, 12);
    expect(cost.executedRelative).toBeCloseTo(executed, 12);
  });

  it('gives flopsRelative = density for every sparse plan, so dense and sparse modes compare on the same footing', () => {
    for (const tiles of [[1, 1, 1], [3, 3, 5], [7, 9, 10]] as const) {
      const cost = planCost({ plan: { mode: 'sparse-bf16', sparsity: { tile: [3, 5, 8], window: { kind: 'clamped', tiles } } }, grid, blockRows: 128 });
      expect(cost.flopsRelative).toBe(cost.density);
    }
  });

  it("pads to the kernel's block rows", () => {
    const cost = planCost({ plan: { mode: 'sparse-bf16', sparsity }, grid, blockRows: 8 });
    expect(cost.executedRelative).toBeCloseTo(75 / 630, 12); // 120 is a multiple of 8: no padding
    expect(planCost({ plan: { mode: 'dense-bf16' }, grid, blockRows: 8 }).executedRelative).toBe(1); // 75,600 = 9,450 x 8
    expect(planCost({ plan: { mode: 'sparse-bf16', sparsity }, grid, blockRows: 64 }).executedRelative).toBeCloseTo((75 / 630) * (128 / 120) ** 2, 12);
    expect(planCost({ plan: { mode: 'dense-bf16' }, grid: [1, 1, 100], blockRows: 64 }).executedRelative).toBeCloseTo((128 / 100) ** 2, 12);
  });

  it('takes the grid as [T, H, W] too', () => {
    const plan = { mode: 'sparse-bf16', sparsity } as const;
    expect(planCost({ plan, grid: [21, 45, 80], blockRows: 128 })).toEqual(planCost({ plan, grid, blockRows: 128 }));
  });

  it.each([0, -1, 1.5, Number.NaN, undefined, '128'])('rejects blockRows %s, for dense plans too, pointing at the kernel policy', (blockRows) => {
    for (const plan of [{ mode: 'dense-bf16' } as const, { mode: 'sparse-bf16', sparsity } as const]) {
      expect(() => planCost({ plan, grid, blockRows: blockRows as number })).toThrow(
        /Invalid argument 'blockRows': expected the kernel's block row count \(a positive integer, e.g. ATTENTION_TILE_POLICY.blockM of @fpsattn\/kernels\)/,
      );
    }
  });
});
