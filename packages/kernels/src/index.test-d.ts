import { describe, expectTypeOf, it } from 'vitest';
import type { Backend, DType, KernelOp, NativeParams, QuantizedRows, Tensor } from './index';
import { QUANTIZE_ROWS } from './ops/quantize-rows';
import { dequantizeRows, gatherRows, quantizeRows } from './index';

describe('public types of @fpsattn/kernels', () => {
  it('maps each dtype to the host array that holds it', () => {
    expectTypeOf<Awaited<ReturnType<Tensor<'bf16'>['download']>>>().toEqualTypeOf<Uint16Array>();
    expectTypeOf<Awaited<ReturnType<Tensor<'e4m3'>['download']>>>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<Awaited<ReturnType<Tensor<'f32'>['download']>>>().toEqualTypeOf<Float32Array>();
    expectTypeOf<DType>().toEqualTypeOf<'bf16' | 'f16' | 'f32' | 'e4m3' | 'e5m2' | 'i32' | 'u8'>();
  });

  it('types ops as functions of one options object, by dtype', () => {
    expectTypeOf(quantizeRows).parameter(0).toHaveProperty('x').toEqualTypeOf<Tensor<'bf16'>>();
    expectTypeOf(quantizeRows).returns.toEqualTypeOf<QuantizedRows>();
    expectTypeOf<QuantizedRows['scales']>().toEqualTypeOf<Tensor<'f32'>>();
    expectTypeOf(gatherRows<'e4m3'>).returns.toEqualTypeOf<Tensor<'e4m3'>>();
    expectTypeOf(dequantizeRows).toMatchTypeOf<KernelOp>();
    expectTypeOf<Tensor<'f32'>>().toMatchTypeOf<Disposable>();
    // @ts-expect-error: no positional arguments
    quantizeRows(null as unknown as Tensor<'bf16'>, {});
  });

  it('keeps ops off the backend: it has device primitives only', () => {
    expectTypeOf<keyof Backend>().toEqualTypeOf<'name' | 'empty' | 'fromArray' | 'synchronize' | 'memoryStats' | 'emptyCache' | 'dispatch'>();
  });

  it('derives native params from the field table (paths are strings, optional tensors nullable)', () => {
    type P = NativeParams<typeof QUANTIZE_ROWS.fields>;
    expectTypeOf<P['path']>().toEqualTypeOf<'auto' | 'two-pass' | 'fused'>();
    expectTypeOf<P['format']>().toEqualTypeOf<'e4m3' | 'e5m2'>();
    expectTypeOf<P['mean']>().toEqualTypeOf<{ handle: number; byteOffset: number; byteLength: number } | null>();
    expectTypeOf<P['rows']>().toEqualTypeOf<number>();
  });
});
