// dequantizeV: transposed FP8 codes of quantizeV back to float32 [rows, cols] (tests, debugging), native op
// dequantizeV, kernel native/src/kernels/dequantize_v.cu.
import { type Fp8Format, InvalidArgumentError, decodeFp8Array } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import type { Tensor } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { backendOf, expectDType, expectShape, expectTensor, matrixOf, withOutputs } from './_checks';

export const DEQUANTIZE_V = defineNativeOp({
  name: 'dequantizeV',
  fields: { codesT: 'tensor', scales: 'tensor', out: 'tensor', rows: 'int', cols: 'int', tokenStride: 'int', format: ['e4m3', 'e5m2'] },
  result: null,
});

export interface DequantizeVOptions {
  /** FP8 [cols, tokenStride], transposed (K-major). */
  codesT: Tensor<Fp8Format>;
  /** float32 [cols]. */
  scales: Tensor<'f32'>;
  /** Tokens to recover (at most tokenStride). */
  rows: number;
  name?: string;
}

/** out[t][c] = float32(decode(codesT[c][t]) * scales[c]) for t < rows (un-transposes). */
export function dequantizeVCpu(o: {
  codesT: Uint8Array;
  scales: Float32Array;
  rows: number;
  cols: number;
  tokenStride: number;
  format: Fp8Format;
  out?: Float32Array;
}): Float32Array {
  const { codesT, scales, rows, cols, tokenStride, format } = o;
  const decoded = decodeFp8Array({ codes: codesT, format });
  const out = o.out ?? new Float32Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    const s = scales[c] as number;
    // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
    for (let t = 0; t < rows; t++) out[t * cols + c] = (decoded[c * tokenStride + t] as number) * s;
  }
  return out;
}

/** Transposed FP8 codes and per-channel scales back to float32 [rows, cols]: `dequantizeV({ ...quantizedV })`. */
export const dequantizeV = defineOp(
  { name: 'dequantizeV', exactness: 'bit-exact', native: DEQUANTIZE_V },
  function dequantizeV(o: DequantizeVOptions): Tensor<'f32'> {
    const op = 'dequantizeV';
    const be = backendOf(o.codesT, 'codesT', op);
    const { codesT, scales } = o;
    expectTensor(scales, 'scales', be, op);
    expectDType(codesT, 'codesT', ['e4m3', 'e5m2']);
    expectDType(scales, 'scales', ['f32']);
    const { rows: cols, cols: tokenStride } = matrixOf(codesT, 'codesT');
    expectShape(scales, 'scales', [cols]);
    const rows = o.rows;
    if (!Number.isSafeInteger(rows) || rows < 0 || rows > tokenStride) {
      throw new InvalidArgumentError({ argument: 'rows', value: rows, message: `expected 0..${tokenStride} (the codes' token stride)` });
    }
    return withOutputs(be, (outputs) => {
      const out = outputs.empty([rows, cols], 'f32', o.name ?? `${codesT.name}.dequantized`);
      be.dispatch(op, {
        cpu: () =>
          void dequantizeVCpu({ codesT: hostView(codesT), scales: hostView(scales), rows, cols, tokenStride, format: codesT.dtype, out: hostView(out) }),
        cuda: (device) =>
          device.call(DEQUANTIZE_V, { codesT: device.ref(codesT), scales: device.ref(scales), out: device.ref(out), rows, cols, tokenStride, format: codesT.dtype }),
      });
      return out;
    });
  },
);
