import { describe, expectTypeOf, it } from 'vitest';
import type { Backend, DType, QuantizedQK, Tensor } from './index';

describe('public types of @fpsattn/kernels', () => {
  it('maps each dtype to the host array that holds it', () => {
    expectTypeOf<Awaited<ReturnType<Tensor<'bf16'>['download']>>>().toEqualTypeOf<Uint16Array>();
    expectTypeOf<Awaited<ReturnType<Tensor<'e4m3'>['download']>>>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<Awaited<ReturnType<Tensor<'f32'>['download']>>>().toEqualTypeOf<Float32Array>();
    expectTypeOf<DType>().toEqualTypeOf<'bf16' | 'f16' | 'f32' | 'e4m3' | 'e5m2' | 'i32' | 'u8'>();
  });

  it('types quantization inputs and outputs by dtype', () => {
    expectTypeOf<Backend['quantizeQK']>().parameter(0).toEqualTypeOf<Tensor<'bf16'>>();
    expectTypeOf<QuantizedQK['scales']>().toEqualTypeOf<Tensor<'f32'>>();
    expectTypeOf<Tensor<'f32'>>().toMatchTypeOf<Disposable>();
  });
});
