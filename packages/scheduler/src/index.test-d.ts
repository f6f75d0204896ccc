import { describe, expectTypeOf, it } from 'vitest';
import { SCHEDULER_ERROR_CODES, planCost, schedulePreset, type AttentionMode, type AttentionPlan, type GranularityKind, type PhaseName } from './index';

describe('public types of @fpsattn/scheduler', () => {
  it('has the four modes of the paper ablation and the warmup plus three phases', () => {
    expectTypeOf<AttentionMode>().toEqualTypeOf<'dense-bf16' | 'fp8-dense' | 'sparse-bf16' | 'fp8-sparse'>();
    expectTypeOf<PhaseName>().toEqualTypeOf<'warmup' | 'early' | 'middle' | 'late'>();
  });

  it('names granularities like @fpsattn/fp8 and the config error code in SCHEDULER_ERROR_CODES', () => {
    expectTypeOf<GranularityKind>().toEqualTypeOf<'tensor' | 'token' | 'tile'>();
    expectTypeOf(SCHEDULER_ERROR_CODES.CONFIG_INVALID).toEqualTypeOf<'FPSATTN_CONFIG_INVALID'>();
    // @ts-expect-error: the old name is gone
    const old: AttentionPlan = { mode: 'fp8-dense', granularity: { kind: 'per-token' } };
    void old;
  });

  it('takes options objects, with the kernel block rows required by planCost', () => {
    const config = schedulePreset({ name: 'wan-720p', steps: 10 });
    // @ts-expect-error: planCost needs the kernel's blockRows
    planCost({ plan: config.phases.early, grid: config.grid });
    expectTypeOf(planCost).parameter(0).toHaveProperty('blockRows').toEqualTypeOf<number>();
    expectTypeOf(planCost).parameter(0).toHaveProperty('grid').toEqualTypeOf<import('@fpsattn/tiling').Size3>();
  });

  it('makes illegal plans unrepresentable', () => {
    const sparse: AttentionPlan = {
      mode: 'fp8-sparse',
      granularity: { kind: 'tile', tile: [3, 5, 8] },
      sparsity: { tile: [3, 5, 8], window: { kind: 'clamped', tiles: [3, 3, 5] } },
    };
    expectTypeOf(sparse).toMatchTypeOf<AttentionPlan>();
    expectTypeOf<{ mode: 'dense-bf16' }>().toMatchTypeOf<AttentionPlan>();
    // @ts-expect-error: a dense BF16 plan carries no window
    const denseWithWindow: AttentionPlan = { mode: 'dense-bf16', sparsity: sparse.sparsity };
    // @ts-expect-error: an FP8 plan needs its quantization granularity
    const fp8WithoutGranularity: AttentionPlan = { mode: 'fp8-dense' };
    // @ts-expect-error: a sparse window is seed or clamped, never full
    const fullSparse: AttentionPlan = { mode: 'sparse-bf16', sparsity: { tile: [3, 5, 8], window: { kind: 'full' } } };
    void denseWithWindow;
    void fp8WithoutGranularity;
    void fullSparse;
  });
});
