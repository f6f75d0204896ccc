// softmaxRows: the row softmax of F32 attention scores (scaled, padded key columns masked) as BF16 probabilities for
// the P . V GEMM (the Wan-VAE's single-head attention over a frame's pixels). Native op softmaxRows, kernel
// native/src/kernels/vae/softmax_rows.cu. Declares a tolerance against its float64 twin.
import { InvalidArgumentError, ShapeMismatchError, float32ToBf16Bits } from '@fpsattn/fp8';
import { type Exactness, defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import { type Tensor, formatShape } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { backendOf, expectDType, expectOut, withOutputs } from './_checks';

export const SOFTMAX_ROWS = defineNativeOp({
  name: 'softmaxRows',
  fields: { x: 'tensor', out: 'tensor', rows: 'int', cols: 'int', validCols: 'int', scale: 'float' },
  result: null,
});

/** The kernel's 32-bit indices and one block per row. */
const MAX_INDEX = 2 ** 31 - 1;

/**
 * Per element |cuda - twin| <= atol + rtol * |twin|. rtol is one BF16 ulp (both sides round once; float32 values a
 * hair apart can land on neighbouring BF16 values). The kernel's float32 error before that rounding is relative and
 * small: (x - max) and its product with the scale each round once (relative u |x - max| scale in the exponent, about
 * 2^-17 at a logit gap of 100), expf is within 2 ulp, the sum runs per thread over cols / 256 terms, then 8 tree
 * levels (about 2^-16 relative at 14,400 columns), the reciprocal and the product 1 ulp each: below 2^-10 in all.
 * atol 2^-120 covers probabilities that underflow in float32 (e^-88 and below) where the float64 twin keeps them.
 */
export const SOFTMAX_ROWS_EXACTNESS: Exactness = Object.freeze({
  tolerance: Object.freeze({
    atol: 2 ** -120,
    rtol: 2 ** -7,
    note:
      'per element |cuda - twin| <= atol + rtol * |twin|; rtol is one BF16 ulp of output rounding (the float32 error before it is ' +
      'below 2^-10 relative), atol covers probabilities below float32 range',
  }),
});

export interface SoftmaxRowsOptions {
  /** f32 [rows, cols]: scores (q . k, unscaled). */
  x: Tensor<'f32'>;
  /** Multiplies the scores before the softmax (1 / sqrt(head dim)); a positive finite float32. */
  scale: number;
  /** Columns that are real keys (the rest, padding, get probability 0). Default cols. */
  validCols?: number;
  /** bf16 [rows, cols]. */
  out?: Tensor<'bf16'>;
  name?: string;
}

export interface SoftmaxRowsCpuOptions {
  /** [rows, cols] float32 values. */
  x: Float32Array;
  rows: number;
  cols: number;
  validCols: number;
  scale: number;
  /** [rows, cols] BF16 bits, written in place when given. */
  out?: Uint16Array;
}

/**
 * The CPU twin, in float64: p_j = exp((x_j - max) scale) / sum_k exp((x_k - max) scale) over j, k < validCols,
 * rounded to float32 and to BF16 (nearest even); 0 for the padded columns.
 */
export function softmaxRowsCpu(o: SoftmaxRowsCpuOptions): Uint16Array {
  const { x, rows, cols, validCols, scale } = o;
  const out = o.out ?? new Uint16Array(rows * cols);
  const e = new Float64Array(validCols);
  for (let r = 0; r < rows; r++) {
    const at = r * cols;
    let max = -Infinity;
    for (let j = 0; j < validCols; j++) max = Math.max(max, x[at + j] as number);
    let sum = 0;
    for (let j = 0; j < validCols; j++) {
      e[j] = Math.exp(((x[at + j] as number) - max) * scale);
      sum += e[j] as number;
    }
    for (let j = 0; j < validCols; j++) out[at + j] = float32ToBf16Bits((e[j] as number) / sum);
    out.fill(0, at + validCols, at + cols);
  }
  return out;
}

/**
 * softmax(scale x) along each row of f32 [rows, cols] over its first `validCols` columns, as BF16 [rows, cols] with
 * zeros in the padded columns. Within the declared tolerance of the float64 twin.
 */
export const softmaxRows = defineOp(
  { name: 'softmaxRows', exactness: SOFTMAX_ROWS_EXACTNESS, native: SOFTMAX_ROWS },
  function softmaxRows(o: SoftmaxRowsOptions): Tensor<'bf16'> {
    const op = 'softmaxRows';
    const be = backendOf(o.x, 'x', op);
    const { x } = o;
    expectDType(x, 'x', ['f32']);
    if (x.shape.length !== 2 || (x.shape[1] as number) < 1) {
      throw new ShapeMismatchError({ tensor: 'x', expected: 'a 2-D [rows, cols] tensor of scores (cols >= 1)', actual: formatShape(x.shape), hint: `'${x.name}'` });
    }
    const rows = x.shape[0] as number;
    const cols = x.shape[1] as number;
    if (rows > MAX_INDEX || cols > MAX_INDEX) throw new ShapeMismatchError({ tensor: 'x', expected: 'rows and cols below 2^31', actual: formatShape(x.shape) });
    const scale = o.scale;
    if (typeof scale !== 'number' || !(Math.fround(scale) > 0) || !Number.isFinite(Math.fround(scale))) {
      throw new InvalidArgumentError({ argument: 'scale', value: scale, message: 'expected a positive finite float32 (1 / sqrt(head dim))' });
    }
    const validCols = o.validCols ?? cols;
    if (typeof validCols !== 'number' || !Number.isInteger(validCols) || validCols < 1 || validCols > cols) {
      throw new InvalidArgumentError({ argument: 'validCols', value: validCols, message: `expected an integer in 1..${cols} (the real keys; the rest are padding)` });
    }
    if (o.out !== undefined) expectOut(o.out, 'out', 'bf16', [rows, cols], be, op, [x]);
    const scale32 = Math.fround(scale);
    return withOutputs(be, (outputs) => {
      const out = o.out ?? outputs.empty([rows, cols], 'bf16', o.name ?? `${x.name}.softmax`);
      if (rows === 0) return out;
      be.dispatch(op, {
        cpu: () => void softmaxRowsCpu({ x: hostView(x), rows, cols, validCols, scale: scale32, out: hostView(out) }),
        cuda: (device) => device.call(SOFTMAX_ROWS, { x: device.ref(x), out: device.ref(out), rows, cols, validCols, scale: scale32 }),
      });
      return out;
    });
  },
);
