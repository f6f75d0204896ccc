// castToBf16: f32 / f16 / bf16 / e4m3 / e5m2 -> bf16 with an optional float32 scale (checkpoint tensors uploaded in
// their stored dtype and converted on the device). Native op castToBf16, kernel native/src/kernels/cast_to_bf16.cu.
// Bit-exact: exact decoding, one float32 product, one round-to-nearest-even to BF16 on both sides.
import { InvalidArgumentError, encodeBf16Array, fp16BitsToFloat32, fp8DecodeTable } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import type { Tensor } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { backendOf, expectDType, expectOut, withOutputs } from './_checks';

export const CAST_SOURCE_DTYPES = ['f32', 'f16', 'bf16', 'e4m3', 'e5m2'] as const;
export type CastSourceDType = (typeof CAST_SOURCE_DTYPES)[number];

export const CAST_TO_BF16 = defineNativeOp({
  name: 'castToBf16',
  fields: { src: 'tensor', out: 'tensor', count: 'int', source: CAST_SOURCE_DTYPES, hasScale: 'bool', scale: 'float' },
  result: null,
});

export interface CastToBf16Options {
  /** Any shape; the output has the same shape. */
  src: Tensor<CastSourceDType>;
  /** Multiplies every value in float32 before the rounding (taken as Math.fround(scale)); finite. Default: none. */
  scale?: number;
  /** bf16, src's shape. */
  out?: Tensor<'bf16'>;
  name?: string;
}

export interface CastToBf16CpuOptions {
  /** float32 values (f32), FP16 or BF16 bits (Uint16Array), FP8 codes (Uint8Array). */
  src: Float32Array | Uint16Array | Uint8Array;
  dtype: CastSourceDType;
  /** As the op's option (float32 of it). */
  scale?: number | null;
  /** BF16 bits, src's length, written in place when given. */
  out?: Uint16Array;
}

const CHUNK = 4096;

/**
 * The CPU twin: v = the exact float32 value of each element (@fpsattn/fp8's decoders), v = f32(v * f32(scale)) with a
 * scale, out = float32ToBf16Bits(v) (@fpsattn/fp8 encodeBf16Array: round to nearest even, overflow to infinity, every
 * NaN to 0x7fff, so BF16 NaN payloads are not kept).
 */
export function castToBf16Cpu(o: CastToBf16CpuOptions): Uint16Array {
  const { src, dtype } = o;
  const n = src.length;
  const out = o.out ?? new Uint16Array(n);
  const scale = o.scale === undefined || o.scale === null ? null : Math.fround(o.scale);
  const buf = new Float32Array(Math.min(CHUNK, n));
  const bufBits = new Uint32Array(buf.buffer);
  const table = dtype === 'e4m3' || dtype === 'e5m2' ? fp8DecodeTable(dtype) : null;
  for (let start = 0; start < n; start += CHUNK) {
    const len = Math.min(CHUNK, n - start);
    for (let i = 0; i < len; i++) {
      const c = src[start + i] as number;
      if (dtype === 'f32') buf[i] = c;
      else if (dtype === 'bf16') bufBits[i] = c << 16;
      else if (dtype === 'f16') buf[i] = fp16BitsToFloat32(c);
      else buf[i] = (table as Float32Array)[c] as number;
    }
    if (scale !== null) for (let i = 0; i < len; i++) buf[i] = (buf[i] as number) * scale; // exact product, rounded once on store
    encodeBf16Array({ input: len === buf.length ? buf : buf.subarray(0, len), out: out.subarray(start, start + len) });
  }
  return out;
}

/** out = BF16(value(src) [* scale]), elementwise, bit-identical on both backends. */
export const castToBf16 = defineOp(
  { name: 'castToBf16', exactness: 'bit-exact', native: CAST_TO_BF16 },
  function castToBf16(o: CastToBf16Options): Tensor<'bf16'> {
    const op = 'castToBf16';
    const be = backendOf(o.src, 'src', op);
    const { src } = o;
    expectDType(src, 'src', CAST_SOURCE_DTYPES);
    const scale = o.scale;
    if (scale !== undefined && (typeof scale !== 'number' || !Number.isFinite(Math.fround(scale)))) {
      throw new InvalidArgumentError({ argument: 'scale', value: scale, message: 'expected a number finite in float32 (or leave it out)' });
    }
    if (o.out !== undefined) expectOut(o.out, 'out', 'bf16', src.shape, be, op, [src]);
    const source = src.dtype as CastSourceDType;
    return withOutputs(be, (outputs) => {
      const out = o.out ?? outputs.empty(src.shape, 'bf16', o.name ?? `${src.name}.bf16`);
      if (src.numel === 0) return out;
      be.dispatch(op, {
        cpu: () => void castToBf16Cpu({ src: hostView(src as Tensor<'f32'>) as Float32Array | Uint16Array | Uint8Array, dtype: source, scale: scale ?? null, out: hostView(out) }),
        cuda: (device) =>
          device.call(CAST_TO_BF16, {
            src: device.ref(src),
            out: device.ref(out),
            count: src.numel,
            source,
            hasScale: scale !== undefined,
            scale: scale === undefined ? 1 : Math.fround(scale),
          }),
      });
      return out;
    });
  },
);
