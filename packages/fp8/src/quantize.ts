import { expectLength, expectPositiveInteger, expectTypedArray } from './_validate';
import { computeScale, reciprocalScale } from './compute-scale';
import { decodeFp8Array } from './decode-fp8-array';
import { encodeFp8Array } from './encode-fp8-array';
import { InvalidArgumentError } from './errors/invalid-argument-error';
import { NonFiniteValueError } from './errors/non-finite-value-error';
import { type Fp8Format, fp8FormatSpec } from './formats';
import { type QuantGranularity, resolveScaleLayout, type ScaleLayout } from './granularity';

/**
 * What to do with NaN and infinite inputs.
 * - `error` (default): throw a NonFiniteValueError naming the tensor and the flat index of the first one.
 * - `ignore`: leave them out of every amax, so one NaN cannot poison its group's scale; NaN then encodes to the NaN
 *   code and +-infinity to +-maxFinite (saturating) or infinity/NaN (not saturating). `nonFiniteCount` reports them.
 */
export type NonFinitePolicy = 'error' | 'ignore';

export interface QuantizeOptions {
  /** Row-major [rows, cols] float32 values. */
  data: Float32Array;
  rows: number;
  cols: number;
  format: Fp8Format;
  granularity: QuantGranularity;
  /** Saturate values beyond the range (default true). See `EncodeFp8Options.saturate`. */
  saturate?: boolean;
  nonFinite?: NonFinitePolicy;
  /** Name used in error messages, e.g. 'q' or 'layer 3 k'. */
  tensor?: string;
}

export interface QuantizedTensor {
  /** Row-major [rows, cols] FP8 codes. */
  readonly codes: Uint8Array;
  /** One float32 scale per group, laid out as described by QuantGranularity. */
  readonly scales: Float32Array;
  readonly rows: number;
  readonly cols: number;
  readonly format: Fp8Format;
  readonly granularity: QuantGranularity;
  readonly nonFiniteCount: number;
}

function scaleIndexOf(layout: ScaleLayout, row: number): number {
  return layout.groupOfRow === null ? 0 : (layout.groupOfRow[row] as number) * layout.colGroups;
}

/**
 * Quantizes a float32 tensor to FP8 with one scale per group:
 *   amax_g = max |x| over the group's finite elements; scale_g = computeScale(amax_g);
 *   inv_g = reciprocalScale(scale_g) = float32(1 / scale_g);
 *   code = encodeFp8(float32(x * inv_g)) (one correctly rounded float32 product, then round-to-nearest-even).
 * This is the arithmetic contract the CUDA kernels reproduce bit for bit.
 */
export function quantize(options: QuantizeOptions): QuantizedTensor {
  const { data, rows, cols, format, granularity } = options;
  const tensor = options.tensor ?? 'data';
  const nonFinite = options.nonFinite ?? 'error';
  fp8FormatSpec(format);
  expectPositiveInteger('rows', rows);
  expectPositiveInteger('cols', cols);
  expectTypedArray(tensor, data, Float32Array);
  expectLength(tensor, data.length, rows * cols, `a [${rows}, ${cols}] tensor`);
  if (nonFinite !== 'error' && nonFinite !== 'ignore') {
    throw new InvalidArgumentError({ argument: 'nonFinite', value: nonFinite, message: "expected 'error' or 'ignore'" });
  }
  const layout = resolveScaleLayout({ granularity, rows, cols });

  // Pass 1: amax per scale, over finite values only.
  const amax = new Float32Array(layout.scaleCount);
  let nonFiniteCount = 0;
  // Stryker disable next-line EqualityOperator: a row past the end reads undefined, which is neither finite-and-larger nor NaN (equivalent)
  for (let r = 0; r < rows; r++) {
    const base = scaleIndexOf(layout, r);
    const rowStart = r * cols;
    for (let c = 0; c < cols; c++) {
      const x = data[rowStart + c] as number;
      const magnitude = Math.abs(x);
      if (magnitude === Infinity || Number.isNaN(x)) {
        if (nonFinite === 'error') {
          throw new NonFiniteValueError({
            tensor,
            index: rowStart + c,
            value: x,
            hint: `row ${r}, column ${c}; pass nonFinite: 'ignore' to quantize it without letting it set a scale`,
          });
        }
        nonFiniteCount++;
        continue;
      }
      // Stryker disable next-line ConditionalExpression: the columnsPerScale === 1 branch is a fast path; floor(c / 1) = c gives the same index (equivalent)
      const s = layout.columnsPerScale === 1 ? base + c : base + Math.floor(c / layout.columnsPerScale);
      // Stryker disable next-line EqualityOperator: >= only rewrites an equal amax (equivalent)
      if (magnitude > (amax[s] as number)) amax[s] = magnitude;
    }
  }
  const scales = new Float32Array(layout.scaleCount);
  const inverses = new Float32Array(layout.scaleCount);
  for (let s = 0; s < scales.length; s++) {
    scales[s] = computeScale({ amax: amax[s] as number, format });
    inverses[s] = reciprocalScale(scales[s] as number);
  }

  // Pass 2: scale (float32 product: the double product of two float32 values is exact, and storing it into a
  // Float32Array rounds it once) and encode, one row at a time.
  const codes = new Uint8Array(rows * cols);
  const scaledRow = new Float32Array(cols);
  const saturate = options.saturate; // encodeFp8Array's default (true) applies when undefined
  for (let r = 0; r < rows; r++) {
    const base = scaleIndexOf(layout, r);
    const rowStart = r * cols;
    // Stryker disable next-line EqualityOperator: scaledRow[cols] is past the end of the typed array: the write is ignored (equivalent)
    for (let c = 0; c < cols; c++) {
      // Stryker disable next-line ConditionalExpression: the columnsPerScale === 1 branch is a fast path; floor(c / 1) = c gives the same index (equivalent)
      const s = layout.columnsPerScale === 1 ? base + c : base + Math.floor(c / layout.columnsPerScale);
      scaledRow[c] = (data[rowStart + c] as number) * (inverses[s] as number);
    }
    encodeFp8Array({ input: scaledRow, format, saturate, out: codes.subarray(rowStart, rowStart + cols) });
  }
  return { codes, scales, rows, cols, format, granularity, nonFiniteCount };
}

export interface DequantizeOptions {
  quantized: QuantizedTensor;
  /** Where to write the `[rows, cols]` values; a new array when omitted. */
  out?: Float32Array;
}

/** Reconstructs float32 values: float32(decode(code) * scale). */
export function dequantize(options: DequantizeOptions): Float32Array;
export function dequantize(options: DequantizeOptions): Float32Array {
  const { quantized, out } = options;
  const { codes, scales, rows, cols, format, granularity } = quantized;
  const layout = resolveScaleLayout({ granularity, rows, cols });
  expectLength('codes', codes.length, rows * cols, `a [${rows}, ${cols}] tensor`);
  expectLength('scales', scales.length, layout.scaleCount, `one scale per group of a ${granularity.kind} granularity`);
  for (let s = 0; s < scales.length; s++) {
    const scale = scales[s] as number;
    if (!Number.isFinite(scale) || scale <= 0) {
      throw new InvalidArgumentError({ argument: 'scales', value: scale, message: `scale ${s} is ${scale}; scales must be finite and positive` });
    }
  }
  const result = decodeFp8Array({ codes, format, out });
  // Stryker disable next-line EqualityOperator: a row past the end writes past the end of the typed array, which is ignored (equivalent)
  for (let r = 0; r < rows; r++) {
    const base = scaleIndexOf(layout, r);
    const rowStart = r * cols;
    for (let c = 0; c < cols; c++) {
      // Stryker disable next-line ConditionalExpression: the columnsPerScale === 1 branch is a fast path; floor(c / 1) = c gives the same index (equivalent)
      const s = layout.columnsPerScale === 1 ? base + c : base + Math.floor(c / layout.columnsPerScale);
      result[rowStart + c] = (result[rowStart + c] as number) * (scales[s] as number);
    }
  }
  return result;
}
