// quantizeRows: FP8 quantization of Q or K with one scale per (group of rows, head), native op quantizeRows, kernel
// native/src/kernels/quantize_rows.cu (fused one-pass kernels for contiguous groups, else two passes).
import { type Fp8Format, InvalidArgumentError, ShapeMismatchError, computeScale, encodeFp8Array, reciprocalScale } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { type GroupMap, mapIndices } from '../core/maps';
import { defineNativeOp } from '../core/native-op';
import type { Tensor } from '../core/tensor';
import { bf16BitsToFloat32Array } from '../cpu/bf16';
import { hostView } from '../cpu/host-storage';
import { backendOf, expectDType, expectFormat, expectHeadDim, expectMap, expectOut, expectShape, expectTensor, matrixOf, withOutputs } from './_checks';

/** Which CUDA kernel quantizes: 'fused' needs a contiguous group map; 'auto' picks it when it fits. */
export type QuantPath = 'auto' | 'two-pass' | 'fused';
export const QUANT_PATHS = ['auto', 'two-pass', 'fused'] as const;

export const QUANTIZE_ROWS = defineNativeOp({
  name: 'quantizeRows',
  fields: {
    x: 'tensor',
    groupOfRow: 'tensor',
    groupStart: 'tensor?',
    mean: 'tensor?',
    codes: 'tensor',
    scales: 'tensor',
    rows: 'int',
    cols: 'int',
    headDim: 'int',
    heads: 'int',
    groupCount: 'int',
    maxGroupRows: 'int',
    format: ['e4m3', 'e5m2'],
    path: QUANT_PATHS,
  },
  result: { path: ['fused', 'two-pass'] },
});

/** Shared-memory staging limit of the fused Q/K kernel per (group, head) (kFusedMaxSmem in quantize_rows.cu). */
export const FUSED_MAX_STAGING_BYTES = 160 * 1024;

export interface QuantizeRowsOptions {
  /** BF16 [rows, heads * headDim]. */
  x: Tensor<'bf16'>;
  groups: GroupMap;
  headDim: number;
  format: Fp8Format;
  /** K smoothing: float32 [cols] channel means (from channelMean) subtracted before quantization. */
  mean?: Tensor<'f32'> | undefined;
  /** CUDA kernel choice; 'fused' needs a contiguous group map. The CPU backend ignores it. */
  path?: QuantPath;
  out?: { codes: Tensor<Fp8Format>; scales: Tensor<'f32'> };
  name?: string;
}

export interface QuantizedRows {
  /** [rows, cols] codes, same layout as the input. */
  codes: Tensor<Fp8Format>;
  /** [groupCount, heads] float32 scales. */
  scales: Tensor<'f32'>;
  /** The kernel that ran ('cpu' on the CPU backend). */
  path: 'fused' | 'two-pass' | 'cpu';
  headDim: number;
  format: Fp8Format;
}

// ------------------------------------------------------------------------------------------------- CPU twin
export interface QuantizeRowsCpuOptions {
  /** BF16 bit patterns [rows, cols]. */
  x: Uint16Array;
  rows: number;
  cols: number;
  headDim: number;
  groupOfRow: Int32Array;
  groupCount: number;
  format: Fp8Format;
  /** K smoothing: float32 [cols] subtracted (in float32) before quantization. */
  mean?: Float32Array | undefined;
  codes?: Uint8Array;
  scales?: Float32Array;
}

/** Smoothed float32 values of one BF16 row: x (widened) or float32(x - mean). */
function rowValues(x: Uint16Array, r: number, cols: number, mean: Float32Array | undefined, out: Float32Array): Float32Array {
  bf16BitsToFloat32Array(x.subarray(r * cols, (r + 1) * cols), out);
  // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
  if (mean) for (let c = 0; c < cols; c++) out[c] = (out[c] as number) - (mean[c] as number); // stored as float32
  return out;
}

/**
 * Q/K quantization twin: codes [rows, cols] and scales [groupCount, heads], one scale per (group, head):
 * amax over finite values, scale = computeScale(amax), code = encodeFp8(float32(x * reciprocalScale(scale))) saturating.
 */
export function quantizeRowsCpu(o: QuantizeRowsCpuOptions): { codes: Uint8Array; scales: Float32Array } {
  const { x, rows, cols, headDim, groupOfRow, groupCount, format, mean } = o;
  const heads = cols / headDim;
  const amax = new Float32Array(groupCount * heads);
  const row = new Float32Array(cols);
  // Stryker disable next-line EqualityOperator: row `rows` reads past the input (no values) and its group index is undefined
  for (let r = 0; r < rows; r++) {
    rowValues(x, r, cols, mean, row);
    const base = (groupOfRow[r] as number) * heads;
    // Stryker disable next-line EqualityOperator: head `heads` reads no values (NaN) and writes back the next slot's own maximum
    for (let h = 0; h < heads; h++) {
      let m = amax[base + h] as number;
      for (let c = h * headDim, end = c + headDim; c < end; c++) {
        const a = Math.abs(row[c] as number);
        // Stryker disable next-line EqualityOperator: a >= max keeps the same maximum
        if (a > m && a !== Infinity) m = a; // NaN fails the comparison
      }
      amax[base + h] = m;
    }
  }
  const scales = o.scales ?? new Float32Array(groupCount * heads);
  for (let i = 0; i < amax.length; i++) scales[i] = computeScale({ amax: amax[i] as number, format });
  const codes = o.codes ?? new Uint8Array(rows * cols);
  const scaled = new Float32Array(cols);
  const inverses = scales.map(reciprocalScale);
  for (let r = 0; r < rows; r++) {
    rowValues(x, r, cols, mean, row);
    const base = (groupOfRow[r] as number) * heads;
    // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
    for (let h = 0; h < heads; h++) {
      const inv = inverses[base + h] as number;
      // Stryker disable next-line EqualityOperator: channel `end` is rewritten with its own head's scale right after (or lies past the row)
      for (let c = h * headDim, end = c + headDim; c < end; c++) scaled[c] = (row[c] as number) * inv;
    }
    encodeFp8Array({ input: scaled, format, saturate: true, out: codes.subarray(r * cols, (r + 1) * cols) });
  }
  return { codes, scales };
}

// ------------------------------------------------------------------------------------------------- the op
/**
 * BF16 [rows, heads * headDim] -> FP8 codes [rows, cols] and float32 scales [groupCount, heads]: one scale per
 * (group of rows, head), amax over finite values of (x - mean); scale = max(f32(amax / maxFinite), 2^-126) (1 for
 * amax 0); code = satfinite RNE FP8 of f32(x * f32(1 / scale)).
 */
export const quantizeRows = defineOp(
  { name: 'quantizeRows', exactness: 'bit-exact', native: QUANTIZE_ROWS },
  function quantizeRows(o: QuantizeRowsOptions): QuantizedRows {
    const op = 'quantizeRows';
    const be = backendOf(o.x, 'x', op);
    const { x, groups, headDim, format, mean } = o;
    expectDType(x, 'x', ['bf16']);
    expectFormat(format);
    const { rows, cols } = matrixOf(x, 'x');
    const heads = expectHeadDim(headDim, cols, 'x');
    expectMap(groups, 'group-map', 'groups', be, op);
    if (groups.rows !== rows) {
      throw new ShapeMismatchError({ tensor: 'groups', expected: `${rows} rows (one group per row of x)`, actual: `${groups.rows} rows` });
    }
    if (mean !== undefined) {
      expectTensor(mean, 'mean', be, op);
      expectDType(mean, 'mean', ['f32']);
      expectShape(mean, 'mean', [cols]);
    }
    const path = o.path ?? 'auto';
    if (!QUANT_PATHS.includes(path)) {
      throw new InvalidArgumentError({ argument: 'path', value: path, message: "expected 'auto', 'two-pass' or 'fused'" });
    }
    if (path === 'fused' && (!groups.contiguous || groups.maxGroupRows * headDim * 2 > FUSED_MAX_STAGING_BYTES)) {
      throw new InvalidArgumentError({
        argument: 'path',
        value: path,
        message: `the fused kernel needs contiguous groups of at most ${FUSED_MAX_STAGING_BYTES / (2 * headDim)} rows (contiguous: ${groups.contiguous}, largest group ${groups.maxGroupRows} rows)`,
      });
    }
    const scaleShape = [groups.groupCount, heads];
    if (o.out !== undefined) {
      expectOut(o.out.codes, 'out.codes', format, [rows, cols], be, op, [x]);
      expectOut(o.out.scales, 'out.scales', 'f32', scaleShape, be, op, [x]);
    }
    const base = o.name ?? x.name;
    return withOutputs(be, (outputs) => {
      const codes = o.out?.codes ?? outputs.empty([rows, cols], format, `${base}.codes`);
      const scales = o.out?.scales ?? outputs.empty(scaleShape, 'f32', `${base}.scales`);
      const ran = be.dispatch<QuantizedRows['path']>(op, {
        cpu: () => {
          quantizeRowsCpu({
            x: hostView(x),
            rows,
            cols,
            headDim,
            groupOfRow: mapIndices(groups) as Int32Array,
            groupCount: groups.groupCount,
            format,
            mean: mean ? hostView(mean) : undefined,
            codes: hostView(codes),
            scales: hostView(scales),
          });
          return 'cpu';
        },
        cuda: (device) =>
          device.call(QUANTIZE_ROWS, {
            x: device.ref(x),
            groupOfRow: device.ref(groups.groupOfRow),
            groupStart: device.optionalRef(groups.groupStart),
            mean: device.optionalRef(mean),
            codes: device.ref(codes),
            scales: device.ref(scales),
            rows,
            cols,
            headDim,
            heads,
            groupCount: groups.groupCount,
            maxGroupRows: groups.maxGroupRows,
            format,
            path,
          }).path,
      });
      return { codes, scales, path: ran, headDim, format };
    });
  },
);
