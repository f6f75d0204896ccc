import { describe, expectTypeOf, it } from 'vitest';
import type { AttentionMode, AttentionPlan, PhaseName } from './index';

describe('public types of @fpsattn/scheduler', () => {
  it('has the four modes of the paper ablation and the warmup plus three phases', () => {
    expectTypeOf<AttentionMode>().toEqualTypeOf<'dense-bf16' | 'fp8-dense' | 'sparse-bf16' | 'fp8-sparse'>();
    expectTypeOf<PhaseName>().toEqualTypeOf<'warmup' | 'early' | 'middle' | 'late'>();
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
