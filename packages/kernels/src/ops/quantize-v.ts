// quantizeV: FP8 quantization of V with one scale per channel and codes transposed to K-major (as FP8 wgmma wants V),
// native op quantizeV, kernel native/src/kernels/quantize_v.cu.
import { type Fp8Format, InvalidArgumentError, ShapeMismatchError, computeScale, encodeFp8Array, reciprocalScale } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import type { Tensor } from '../core/tensor';
import { bf16BitsToFloat32Array } from '../cpu/bf16';
import { channelAmaxCpu } from '../cpu/channel-amax';
import { hostView } from '../cpu/host-storage';
import { MAX_TOKEN_ROWS, backendOf, expectDType, expectFormat, expectOut, expectShape, expectTensor, matrixOf, withOutputs } from './_checks';

export const QUANTIZE_V = defineNativeOp({
  name: 'quantizeV',
  fields: {
    v: 'tensor',
    codesT: 'tensor',
    scales: 'tensor',
    /** Per-channel amax from the gather; null: the kernel computes it (two passes over v). */
    amax: 'tensor?',
    rows: 'int',
    cols: 'int',
    tokenStride: 'int',
    format: ['e4m3', 'e5m2'],
  },
  result: null,
});

export interface QuantizeVOptions {
  /** BF16 [rows, cols], cols a multiple of 64. */
  v: Tensor<'bf16'>;
  format: Fp8Format;
  /**
   * Per-channel amax of `v` computed by `gatherRows({ src, map, amax })` while it gathered `v`: the quantization is
   * then one pass over V instead of two. Must describe this very tensor (it is not checked against it); values that
   * are not positive finite numbers give a scale of 1.
   */
  amax?: Tensor<'f32'> | undefined;
  /** Columns of the transposed codes (>= rows, multiple of 16); default rows rounded up to 16. */
  tokenStride?: number;
  out?: { codesT: Tensor<Fp8Format>; scales: Tensor<'f32'> };
  name?: string;
}

export interface QuantizedV {
  /** [cols, tokenStride] codes, transposed (K-major); columns >= rows are 0. */
  codesT: Tensor<Fp8Format>;
  /** [cols] float32 scales, one per channel. */
  scales: Tensor<'f32'>;
  rows: number;
  format: Fp8Format;
}

// ------------------------------------------------------------------------------------------------- CPU twin
export interface QuantizeVCpuOptions {
  /** BF16 bit patterns [rows, cols]. */
  v: Uint16Array;
  rows: number;
  cols: number;
  tokenStride: number;
  format: Fp8Format;
  /** Per-channel amax computed elsewhere (the gather); omitted: computed here. */
  amax?: Float32Array | undefined;
  codesT?: Uint8Array;
  scales?: Float32Array;
}

/** The largest finite float32. */
const FLOAT32_MAX = 3.4028234663852886e38;

/** The scale of a handed-in amax: the contract's scale for a positive finite amax, else 1 (as scaleFromAmax). */
function scaleOfGivenAmax(amax: number, format: Fp8Format): number {
  // Stryker disable next-line EqualityOperator: computeScale(0) is 1 too
  return amax > 0 && amax <= FLOAT32_MAX ? computeScale({ amax, format }) : 1;
}

/**
 * V quantization twin: scales [cols] (per channel over all rows, or from a handed-in `amax`), codesT [cols,
 * tokenStride] transposed, 0-padded.
 */
export function quantizeVCpu(o: QuantizeVCpuOptions): { codesT: Uint8Array; scales: Float32Array } {
  const { v, rows, cols, tokenStride, format } = o;
  const amax = o.amax ?? channelAmaxCpu(v, rows, cols);
  const row = new Float32Array(cols);
  const scales = o.scales ?? new Float32Array(cols);
  // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
  for (let c = 0; c < cols; c++) scales[c] = scaleOfGivenAmax(amax[c] as number, format);
  const codesT = o.codesT ?? new Uint8Array(cols * tokenStride);
  const inverses = scales.map(reciprocalScale);
  const scaled = new Float32Array(cols);
  const codes = new Uint8Array(cols);
  for (let r = 0; r < rows; r++) {
    bf16BitsToFloat32Array(v.subarray(r * cols, (r + 1) * cols), row);
    // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
    for (let c = 0; c < cols; c++) scaled[c] = (row[c] as number) * (inverses[c] as number);
    encodeFp8Array({ input: scaled, format, saturate: true, out: codes });
    // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
    for (let c = 0; c < cols; c++) codesT[c * tokenStride + r] = codes[c] as number;
  }
  // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
  for (let c = 0; c < cols; c++) codesT.fill(0, c * tokenStride + rows, (c + 1) * tokenStride);
  return { codesT, scales };
}

// ------------------------------------------------------------------------------------------------- the op
/**
 * BF16 [rows, cols] -> codesT [cols, tokenStride] (K-major) and scales [cols]: a per-channel scale over all rows (same
 * scale and code rule as quantizeRows); padding columns are 0. Two passes on its own; one given the `amax` its
 * tile-major gather computed (the pipeline's path).
 */
export const quantizeV = defineOp(
  { name: 'quantizeV', exactness: 'bit-exact', native: QUANTIZE_V },
  function quantizeV(o: QuantizeVOptions): QuantizedV {
    const op = 'quantizeV';
    const be = backendOf(o.v, 'v', op);
    const { v, format, amax } = o;
    expectDType(v, 'v', ['bf16']);
    expectFormat(format);
    const { rows, cols } = matrixOf(v, 'v');
    if (cols % 64 !== 0) throw new ShapeMismatchError({ tensor: 'v', expected: 'a multiple of 64 columns', actual: `${cols} columns` });
    const tokenStride = o.tokenStride ?? Math.ceil(rows / 16) * 16;
    if (!Number.isSafeInteger(tokenStride) || tokenStride < rows || tokenStride % 16 !== 0 || tokenStride > MAX_TOKEN_ROWS) {
      throw new InvalidArgumentError({ argument: 'tokenStride', value: tokenStride, message: `expected a multiple of 16 in ${rows}..${MAX_TOKEN_ROWS} (rows .. the kernel's token limit)` });
    }
    if (amax !== undefined) {
      expectTensor(amax, 'amax', be, op);
      expectDType(amax, 'amax', ['f32']);
      expectShape(amax, 'amax', [cols]);
    }
    if (o.out !== undefined) {
      expectOut(o.out.codesT, 'out.codesT', format, [cols, tokenStride], be, op, [v]);
      expectOut(o.out.scales, 'out.scales', 'f32', [cols], be, op, [v]);
    }
    const base = o.name ?? v.name;
    return withOutputs(be, (outputs) => {
      const codesT = o.out?.codesT ?? outputs.empty([cols, tokenStride], format, `${base}.codesT`);
      const scales = o.out?.scales ?? outputs.empty([cols], 'f32', `${base}.scales`);
      be.dispatch(op, {
        cpu: () =>
          void quantizeVCpu({ v: hostView(v), rows, cols, tokenStride, format, codesT: hostView(codesT), scales: hostView(scales), amax: amax ? hostView(amax) : undefined }),
        cuda: (device) =>
          device.call(QUANTIZE_V, { v: device.ref(v), codesT: device.ref(codesT), scales: device.ref(scales), amax: device.optionalRef(amax), rows, cols, tokenStride, format }),
      });
      return { codesT, scales, rows, format };
    });
  },
);
