import { describe, expectTypeOf, it } from 'vitest';
import {
  type ErrorStats,
  FP8_ERROR_CODES,
  FpsAttnError,
  type FpsAttnErrorCode,
  type Fp8Format,
  type QuantGranularity,
  type QuantizedTensor,
  decodeFp8Array,
  encodeFp8,
  encodeFp8Array,
  quantize,
} from './index';

describe('public types of @fpsattn/fp8', () => {
  it('names exactly the two FP8 formats', () => {
    expectTypeOf<Fp8Format>().toEqualTypeOf<'e4m3' | 'e5m2'>();
    expectTypeOf<Parameters<typeof encodeFp8>[0]['format']>().toEqualTypeOf<Fp8Format>();
    // @ts-expect-error: not a format
    encodeFp8({ value: 1, format: 'e3m4' });
    // @ts-expect-error: options object only, no positional arguments
    encodeFp8(1, 'e4m3');
  });

  it('keeps the bulk API on typed arrays', () => {
    expectTypeOf(encodeFp8Array).returns.toEqualTypeOf<Uint8Array>();
    expectTypeOf(decodeFp8Array).returns.toEqualTypeOf<Float32Array>();
    // @ts-expect-error: codes are bytes, not floats
    decodeFp8Array({ codes: new Float32Array(4), format: 'e4m3' });
  });

  it('makes a granularity carry exactly the fields of its kind', () => {
    const ok: QuantGranularity = { kind: 'group', groupOfRow: new Int32Array(2), groupCount: 1, columnsPerScale: 128 };
    expectTypeOf(ok).toMatchTypeOf<QuantGranularity>();
    expectTypeOf<{ kind: 'tensor' }>().toMatchTypeOf<QuantGranularity>();
    expectTypeOf<{ kind: 'token'; columnsPerScale: 128 }>().toMatchTypeOf<QuantGranularity>();
    expectTypeOf<QuantGranularity['kind']>().toEqualTypeOf<'tensor' | 'token' | 'channel' | 'group'>();
    // @ts-expect-error: the scheduler's old name is not a kind
    const oldName: QuantGranularity = { kind: 'per-token' };
    // @ts-expect-error: a channel granularity has one scale per column, no column blocks
    const channelBlocks: QuantGranularity = { kind: 'channel', columnsPerScale: 4 };
    void oldName;
    void channelBlocks;
    // @ts-expect-error: a per-tensor granularity has no group map
    const wrong: QuantGranularity = { kind: 'tensor', groupCount: 3 };
    // @ts-expect-error: a group granularity needs its map
    const missing: QuantGranularity = { kind: 'group', groupCount: 3 };
    void wrong;
    void missing;
  });

  it('takes any FPSATTN_ code in the base error and lists fp8 codes in FP8_ERROR_CODES', () => {
    expectTypeOf<FpsAttnErrorCode>().toEqualTypeOf<`FPSATTN_${Uppercase<string>}`>();
    expectTypeOf(FP8_ERROR_CODES.INVALID_ARGUMENT).toEqualTypeOf<'FPSATTN_INVALID_ARGUMENT'>();
    new FpsAttnError({ code: 'FPSATTN_CUDA_ERROR', message: 'a kernels code works as a plain string' });
    // @ts-expect-error: codes start with FPSATTN_
    new FpsAttnError({ code: 'CUDA_ERROR', message: 'x' });
  });

  it('returns codes with their scales and statistics with their fields', () => {
    expectTypeOf(quantize).returns.toEqualTypeOf<QuantizedTensor>();
    expectTypeOf<QuantizedTensor['codes']>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<ErrorStats>().toHaveProperty('snrDb').toEqualTypeOf<number>();
  });
});
