import type { Tensor } from '@fpsattn/kernels';
import { describe, expectTypeOf, it } from 'vitest';
import { type AttentionGeometry, type AttentionOptions, type TokenOrder, attention, attentionGeometry } from './index';

describe('public types of @fpsattn/attention', () => {
  it('takes and returns BF16 tensors', () => {
    expectTypeOf(attention).returns.toEqualTypeOf<Tensor<'bf16'>>();
    expectTypeOf<AttentionOptions['q']>().toEqualTypeOf<Tensor<'bf16'>>();
    const f32 = {} as Tensor<'f32'>;
    const bf16 = {} as Tensor<'bf16'>;
    // @ts-expect-error q is BF16
    attention({ q: f32, k: bf16, v: bf16, grid: [1, 1, 1], plan: { mode: 'dense-bf16' } });
  });

  it('takes plans of the scheduler, which carry only the fields of their mode', () => {
    const bf16 = {} as Tensor<'bf16'>;
    // @ts-expect-error a dense BF16 plan has no window
    attention({ q: bf16, k: bf16, v: bf16, grid: [1, 1, 1], plan: { mode: 'dense-bf16', sparsity: { tile: [1, 1, 1], window: { kind: 'full' } } } });
    expectTypeOf(attentionGeometry).returns.toEqualTypeOf<AttentionGeometry>();
    expectTypeOf<AttentionGeometry>().toMatchTypeOf<Disposable>();
    expectTypeOf<TokenOrder>().toEqualTypeOf<'tile-major-padded' | 'tile-major' | 'raster'>();
  });
});
