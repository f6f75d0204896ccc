// layerNormModulate: the DiT's LayerNorm of the f32 residual stream, with the optional affine (norm3) and adaLN
// modulation, written as BF16 for the next GEMM. Native op layerNormModulate, kernel
// native/src/kernels/norms/layer_norm_modulate.cu. Declares a tolerance against its float64-statistics twin.
import { InvalidArgumentError, encodeBf16Array } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import type { Tensor } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { NORM_MAX_DIM, ditMatrixOf, expectEps, expectRowsPerItem } from './_dit-checks';
import { gatedResidualCpu } from './gated-residual';
import { NORM_EXACTNESS } from './_norm-tolerance';
import { backendOf, expectDType, expectOut, expectShape, expectTensor, withOutputs } from './_checks';

export const LAYER_NORM_MODULATE = defineNativeOp({
  name: 'layerNormModulate',
  fields: {
    x: 'tensor',
    weight: 'tensor?',
    bias: 'tensor?',
    shift: 'tensor?',
    scale: 'tensor?',
    residual: 'tensor?',
    residualGate: 'tensor?',
    out: 'tensor',
    rows: 'int',
    dim: 'int',
    rowsPerItem: 'int',
    eps: 'float',
    residualInput: ['bf16', 'f32'],
  },
  result: null,
});

export interface LayerNormModulateOptions {
  /** f32 [rows, dim]: the residual stream, rows = batch items x rowsPerItem. */
  x: Tensor<'f32'>;
  /** Tokens per batch item (rows % rowsPerItem == 0): row r takes shift/scale row floor(r / rowsPerItem). */
  rowsPerItem: number;
  /** Inside the square root (Wan: 1e-6). */
  eps: number;
  /** f32 [dim]: the affine LayerNorm's weight (Wan's norm3); each of weight and bias may be given alone. */
  weight?: Tensor<'f32'> | null;
  /** f32 [dim]. */
  bias?: Tensor<'f32'> | null;
  /** f32 [rows / rowsPerItem, dim], with scale: out = n * (1 + scale[item]) + shift[item]. Both or neither. */
  shift?: Tensor<'f32'> | null;
  scale?: Tensor<'f32'> | null;
  /**
   * The previous part's gated residual, fused: first x = x + y * gate[item] (x + y without gate), written back to x
   * exactly as gatedResidual does (bit for bit), then the norm of the updated x. Saves one read of the stream.
   */
  residual?: { y: Tensor<'bf16' | 'f32'>; gate?: Tensor<'f32'> | null } | null;
  /** bf16 [rows, dim]. */
  out?: Tensor<'bf16'>;
  name?: string;
}

export interface LayerNormModulateCpuOptions {
  /** [rows, dim] float32 values. */
  x: Float32Array;
  rows: number;
  dim: number;
  rowsPerItem: number;
  eps: number;
  weight?: Float32Array | null;
  bias?: Float32Array | null;
  /** [rows / rowsPerItem, dim] each, both or neither. */
  shift?: Float32Array | null;
  scale?: Float32Array | null;
  /** x += y * gate first (in place), as gatedResidualCpu; y float32 values or BF16 bits. */
  residual?: { y: Float32Array | Uint16Array; gate?: Float32Array | null } | null;
  /** [rows, dim] BF16 bits, written in place when given. */
  out?: Uint16Array;
  /** When given ([rows, dim]): each element's magnitude for the declared tolerance (see _norm-tolerance.ts). */
  magnitude?: Float64Array;
}

const f32 = Math.fround;

/**
 * The CPU twin: per row, mean and biased variance in float64, mean32 = f32(mean), inv32 = f32(1 / sqrt(var + eps)),
 * then per element the kernel's float32 steps, each rounded: n = f32(f32(x - mean32) * inv32); n = f32(n * weight);
 * n = f32(n + bias); n = f32(f32(n * f32(1 + scale)) + shift); out = BF16(n) (round to nearest even, @fpsattn/fp8).
 */
export function layerNormModulateCpu(o: LayerNormModulateCpuOptions): Uint16Array {
  const { x, rows, dim, rowsPerItem, eps } = o;
  // The fused residual is gatedResidual's twin, run first on the whole stream (same roundings, same NaN bits).
  if (o.residual) gatedResidualCpu({ x, y: o.residual.y, gate: o.residual.gate ?? null, rows, dim, rowsPerItem });
  const weight = o.weight ?? null;
  const bias = o.bias ?? null;
  const shift = o.shift ?? null;
  const scale = o.scale ?? null;
  const mag = o.magnitude;
  const out = o.out ?? new Uint16Array(rows * dim);
  const row = new Float32Array(dim);
  for (let r = 0; r < rows; r++) {
    const at = r * dim;
    let sum = 0;
    for (let i = 0; i < dim; i++) sum += x[at + i] as number;
    const mean = sum / dim;
    let sq = 0;
    for (let i = 0; i < dim; i++) {
      const d = (x[at + i] as number) - mean;
      sq += d * d;
    }
    const variance = sq / dim;
    const invExact = 1 / Math.sqrt(variance + eps);
    const mean32 = f32(mean);
    const inv32 = f32(invExact);
    const itemAt = Math.floor(r / rowsPerItem) * dim;
    for (let i = 0; i < dim; i++) {
      let n = f32(f32((x[at + i] as number) - mean32) * inv32);
      if (weight !== null) n = f32(n * (weight[i] as number));
      if (bias !== null) n = f32(n + (bias[i] as number));
      if (scale !== null && shift !== null) n = f32(n * f32(1 + (scale[itemAt + i] as number))) + (shift[itemAt + i] as number);
      row[i] = n; // the last sum rounds to float32 here
    }
    encodeBf16Array({ input: row, out: out.subarray(at, at + dim) });
    if (mag !== undefined) {
      const rowScale = (Math.sqrt(variance) + Math.abs(mean)) * invExact;
      for (let i = 0; i < dim; i++) {
        const n = Math.abs((x[at + i] as number) - mean) * invExact;
        let m = (weight === null ? 1 : Math.abs(weight[i] as number)) * (n + rowScale) + (bias === null ? 0 : Math.abs(bias[i] as number));
        if (scale !== null && shift !== null) m = Math.abs(1 + (scale[itemAt + i] as number)) * m + Math.abs(shift[itemAt + i] as number);
        mag[at + i] = m;
      }
    }
  }
  return out;
}

/**
 * LayerNorm over the last dim of f32 [rows, dim] (biased variance, eps inside the square root, float32 statistics by
 * a two-pass reduction over the row held in registers), then the optional affine and the optional modulation
 * n * (1 + scale[item]) + shift[item] in float32, rounded once to BF16. Within the declared tolerance of the twin.
 */
export const layerNormModulate = defineOp(
  { name: 'layerNormModulate', exactness: NORM_EXACTNESS, native: LAYER_NORM_MODULATE },
  function layerNormModulate(o: LayerNormModulateOptions): Tensor<'bf16'> {
    const op = 'layerNormModulate';
    const be = backendOf(o.x, 'x', op);
    const { x } = o;
    expectDType(x, 'x', ['f32']);
    const { rows, dim } = ditMatrixOf(x, 'x', NORM_MAX_DIM);
    expectRowsPerItem(o.rowsPerItem, rows, 'x');
    const { rowsPerItem } = o;
    expectEps(o.eps);
    const items = rows / rowsPerItem;
    const inputs: Tensor[] = [x];
    const vectors = { weight: o.weight ?? null, bias: o.bias ?? null };
    for (const [name, t] of Object.entries(vectors)) {
      if (t === null) continue;
      expectTensor(t, name, be, op);
      expectDType(t, name, ['f32']);
      expectShape(t, name, [dim]);
      inputs.push(t);
    }
    const shift = o.shift ?? null;
    const scale = o.scale ?? null;
    if ((shift === null) !== (scale === null)) {
      const missing = shift === null ? 'shift' : 'scale';
      throw new InvalidArgumentError({ argument: missing, value: null, message: 'shift and scale go together (out = n * (1 + scale) + shift): pass both or neither' });
    }
    for (const [name, t] of [['shift', shift], ['scale', scale]] as const) {
      if (t === null) continue;
      expectTensor(t, name, be, op);
      expectDType(t, name, ['f32']);
      expectShape(t, name, [items, dim]);
      inputs.push(t);
    }
    const residual = o.residual ?? null;
    const residualGate = residual?.gate ?? null;
    if (residual !== null) {
      const { y } = residual;
      expectTensor(y, 'residual.y', be, op);
      expectDType(y, 'residual.y', ['bf16', 'f32']);
      expectShape(y, 'residual.y', [rows, dim]);
      if (y.storage === x.storage) throw new InvalidArgumentError({ argument: 'residual.y', value: y.name, message: `${op} updates x in place and cannot read residual.y from the same storage ('${x.name}')` });
      inputs.push(y);
      if (residualGate !== null) {
        expectTensor(residualGate, 'residual.gate', be, op);
        expectDType(residualGate, 'residual.gate', ['f32']);
        expectShape(residualGate, 'residual.gate', [items, dim]);
        if (residualGate.storage === x.storage) {
          throw new InvalidArgumentError({ argument: 'residual.gate', value: residualGate.name, message: `${op} updates x in place and cannot read residual.gate from the same storage ('${x.name}')` });
        }
        inputs.push(residualGate);
      }
    }
    if (o.out !== undefined) expectOut(o.out, 'out', 'bf16', [rows, dim], be, op, inputs);
    return withOutputs(be, (outputs) => {
      const out = o.out ?? outputs.empty([rows, dim], 'bf16', o.name ?? `${x.name}.norm`);
      be.dispatch(op, {
        cpu: () =>
          void layerNormModulateCpu({
            ...(residual === null
              ? {}
              : {
                  residual: {
                    y: hostView(residual.y as Tensor<'bf16'>) as Uint16Array | Float32Array,
                    gate: residualGate === null ? null : hostView(residualGate),
                  },
                }),
            x: hostView(x),
            rows,
            dim,
            rowsPerItem,
            eps: o.eps,
            weight: vectors.weight === null ? null : hostView(vectors.weight),
            bias: vectors.bias === null ? null : hostView(vectors.bias),
            shift: shift === null ? null : hostView(shift),
            scale: scale === null ? null : hostView(scale),
            out: hostView(out),
          }),
        cuda: (device) =>
          device.call(LAYER_NORM_MODULATE, {
            x: device.ref(x),
            weight: device.optionalRef(vectors.weight),
            bias: device.optionalRef(vectors.bias),
            shift: device.optionalRef(shift),
            scale: device.optionalRef(scale),
            residual: device.optionalRef(residual?.y ?? null),
            residualGate: device.optionalRef(residualGate),
            out: device.ref(out),
            rows,
            dim,
            rowsPerItem,
            eps: o.eps,
            residualInput: residual === null ? 'bf16' : (residual.y.dtype as 'bf16' | 'f32'),
          }),
      });
      return out;
    });
  },
);
