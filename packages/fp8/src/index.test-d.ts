import { describe, expectTypeOf, it } from 'vitest';
import {
  type ErrorStats,
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
    expectTypeOf(encodeFp8).parameter(1).toEqualTypeOf<Fp8Format>();
    // @ts-expect-error: not a format
    encodeFp8(1, 'e3m4');
  });

  it('keeps the bulk API on typed arrays', () => {
    expectTypeOf(encodeFp8Array).returns.toEqualTypeOf<Uint8Array>();
    expectTypeOf(decodeFp8Array).returns.toEqualTypeOf<Float32Array>();
    // @ts-expect-error: codes are bytes, not floats
    decodeFp8Array(new Float32Array(4), 'e4m3');
  });

  it('makes a granularity carry exactly the fields of its kind', () => {
    const ok: QuantGranularity = { kind: 'group', groupOfRow: new Int32Array(2), groupCount: 1, columnsPerScale: 128 };
    expectTypeOf(ok).toMatchTypeOf<QuantGranularity>();
    expectTypeOf<{ kind: 'tensor' }>().toMatchTypeOf<QuantGranularity>();
    // @ts-expect-error: a per-tensor granularity has no group map
    const wrong: QuantGranularity = { kind: 'tensor', groupCount: 3 };
    // @ts-expect-error: a group granularity needs its map
    const missing: QuantGranularity = { kind: 'group', groupCount: 3 };
    void wrong;
    void missing;
  });

  it('returns codes with their scales and statistics with their fields', () => {
    expectTypeOf(quantize).returns.toEqualTypeOf<QuantizedTensor>();
    expectTypeOf<QuantizedTensor['codes']>().toEqualTypeOf<Uint8Array>();
    expectTypeOf<ErrorStats>().toHaveProperty('snrDb').toEqualTypeOf<number>();
  });
});
