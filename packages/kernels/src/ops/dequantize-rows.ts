// dequantizeRows: FP8 codes of quantizeRows back to float32 (tests, debugging), native op dequantizeRows, kernel
// native/src/kernels/dequantize_rows.cu.
import { type Fp8Format, ShapeMismatchError, decodeFp8Array } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { type GroupMap, mapIndices } from '../core/maps';
import { defineNativeOp } from '../core/native-op';
import type { Tensor } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { backendOf, expectDType, expectHeadDim, expectMap, expectShape, expectTensor, matrixOf, withOutputs } from './_checks';

export const DEQUANTIZE_ROWS = defineNativeOp({
  name: 'dequantizeRows',
  fields: {
    codes: 'tensor',
    scales: 'tensor',
    groupOfRow: 'tensor',
    out: 'tensor',
    rows: 'int',
    cols: 'int',
    headDim: 'int',
    heads: 'int',
    groupCount: 'int',
    format: ['e4m3', 'e5m2'],
  },
  result: null,
});

export interface DequantizeRowsOptions {
  /** FP8 [rows, heads * headDim] (the format is the dtype). */
  codes: Tensor<Fp8Format>;
  /** float32 [groupCount, heads]. */
  scales: Tensor<'f32'>;
  groups: GroupMap;
  headDim: number;
  name?: string;
}

/** out[r][c] = float32(decode(codes[r][c]) * scales[groupOfRow[r]][c / headDim]). */
export function dequantizeRowsCpu(o: {
  codes: Uint8Array;
  scales: Float32Array;
  groupOfRow: Int32Array;
  rows: number;
  cols: number;
  headDim: number;
  format: Fp8Format;
  out?: Float32Array;
}): Float32Array {
  const { codes, scales, groupOfRow, rows, cols, headDim, format } = o;
  const heads = cols / headDim;
  const out = decodeFp8Array({ codes: codes.subarray(0, rows * cols), format, out: o.out });
  // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
  for (let r = 0; r < rows; r++) {
    const base = (groupOfRow[r] as number) * heads;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      out[i] = (out[i] as number) * (scales[base + Math.floor(c / headDim)] as number);
    }
  }
  return out;
}

/** FP8 codes and per-(group, head) scales back to float32 [rows, cols]: `dequantizeRows({ ...quantized, groups })`. */
export const dequantizeRows = defineOp(
  { name: 'dequantizeRows', exactness: 'bit-exact', native: DEQUANTIZE_ROWS },
  function dequantizeRows(o: DequantizeRowsOptions): Tensor<'f32'> {
    const op = 'dequantizeRows';
    const be = backendOf(o.codes, 'codes', op);
    const { codes, scales, groups, headDim } = o;
    expectTensor(scales, 'scales', be, op);
    expectDType(codes, 'codes', ['e4m3', 'e5m2']);
    expectDType(scales, 'scales', ['f32']);
    const { rows, cols } = matrixOf(codes, 'codes');
    const heads = expectHeadDim(headDim, cols, 'codes');
    expectMap(groups, 'group-map', 'groups', be, op);
    if (groups.rows !== rows) throw new ShapeMismatchError({ tensor: 'groups', expected: `${rows} rows`, actual: `${groups.rows} rows` });
    expectShape(scales, 'scales', [groups.groupCount, heads]);
    return withOutputs(be, (outputs) => {
      const out = outputs.empty([rows, cols], 'f32', o.name ?? `${codes.name}.dequantized`);
      be.dispatch(op, {
        cpu: () =>
          void dequantizeRowsCpu({
            codes: hostView(codes),
            scales: hostView(scales),
            groupOfRow: mapIndices(groups) as Int32Array,
            rows,
            cols,
            headDim,
            format: codes.dtype,
            out: hostView(out),
          }),
        cuda: (device) =>
          device.call(DEQUANTIZE_ROWS, {
            codes: device.ref(codes),
            scales: device.ref(scales),
            groupOfRow: device.ref(groups.groupOfRow),
            out: device.ref(out),
            rows,
            cols,
            headDim,
            heads,
            groupCount: groups.groupCount,
            format: codes.dtype,
          }),
      });
      return out;
    });
  },
);
