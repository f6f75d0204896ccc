// gatedResidual: x += y * gate[item] (or x += y) on the f32 residual stream, in place. Native op gatedResidual, kernel
// native/src/kernels/gated_residual.cu. Bit-exact: one float32 product and one float32 sum per element on both sides.
import { InvalidArgumentError, decodeBf16Array } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import type { Tensor } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { DIT_MAX_ROWS, ditMatrixOf, expectRowsPerItem } from './_dit-checks';
import { backendOf, expectDType, expectShape, expectTensor } from './_checks';

export const GATED_RESIDUAL = defineNativeOp({
  name: 'gatedResidual',
  fields: { x: 'tensor', y: 'tensor', gate: 'tensor?', rows: 'int', dim: 'int', rowsPerItem: 'int', input: ['bf16', 'f32'] },
  result: null,
});

export interface GatedResidualOptions {
  /** f32 [rows, dim], updated in place. */
  x: Tensor<'f32'>;
  /** bf16 or f32 [rows, dim]: the block's output (attention or FFN projection). */
  y: Tensor<'bf16' | 'f32'>;
  /** f32 [rows / rowsPerItem, dim]; null or absent: x += y (the cross-attention's residual). */
  gate?: Tensor<'f32'> | null;
  /** Tokens per batch item (rows % rowsPerItem == 0): row r takes gate row floor(r / rowsPerItem). */
  rowsPerItem: number;
  name?: string;
}

export interface GatedResidualCpuOptions {
  /** [rows, dim] float32, updated in place. */
  x: Float32Array;
  /** [rows, dim]: float32 values or BF16 bits (Uint16Array). */
  y: Float32Array | Uint16Array;
  gate?: Float32Array | null;
  rows: number;
  dim: number;
  rowsPerItem: number;
}

/** NaN as CUDA's float32 arithmetic returns it (the canonical 0x7fffffff), so that NaN results compare bit for bit. */
const CANONICAL_NAN_BITS = 0x7fffffff;

/**
 * The CPU twin: x[r, c] = f32(x[r, c] + f32(y[r, c] * gate[floor(r / rowsPerItem), c])) (or f32(x + y)), the
 * kernel's __fmul_rn then __fadd_rn (a product or sum of two float32 values in float64 rounded once to float32 is the
 * correctly rounded float32 result); a NaN result is stored as 0x7fffffff, as CUDA returns it.
 */
export function gatedResidualCpu(o: GatedResidualCpuOptions): Float32Array {
  const { x, rows, dim, rowsPerItem } = o;
  const gate = o.gate ?? null;
  const bits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const yRow = new Float32Array(dim);
  for (let r = 0; r < rows; r++) {
    const at = r * dim;
    const ys = o.y instanceof Uint16Array ? decodeBf16Array({ input: o.y.subarray(at, at + dim), out: yRow }) : o.y.subarray(at, at + dim);
    const gAt = Math.floor(r / rowsPerItem) * dim;
    for (let i = 0; i < dim; i++) {
      const update = gate === null ? (ys[i] as number) : Math.fround((ys[i] as number) * (gate[gAt + i] as number));
      const v = (x[at + i] as number) + update;
      if (v === v) x[at + i] = v;
      else bits[at + i] = CANONICAL_NAN_BITS;
    }
  }
  return x;
}

/** x = x + y * gate[item] (x + y without gate), float32, in place; bit-identical on both backends. */
export const gatedResidual = defineOp(
  { name: 'gatedResidual', exactness: 'bit-exact', native: GATED_RESIDUAL },
  function gatedResidual(o: GatedResidualOptions): void {
    const op = 'gatedResidual';
    const be = backendOf(o.x, 'x', op);
    const { x, y } = o;
    expectDType(x, 'x', ['f32']);
    const { rows, dim } = ditMatrixOf(x, 'x', DIT_MAX_ROWS);
    expectRowsPerItem(o.rowsPerItem, rows, 'x');
    const { rowsPerItem } = o;
    expectTensor(y, 'y', be, op);
    expectDType(y, 'y', ['bf16', 'f32']);
    expectShape(y, 'y', [rows, dim]);
    if (y.storage === x.storage) throw new InvalidArgumentError({ argument: 'y', value: y.name, message: `${op} updates x in place and cannot read y from the same storage ('${x.name}')` });
    const gate = o.gate ?? null;
    if (gate !== null) {
      expectTensor(gate, 'gate', be, op);
      expectDType(gate, 'gate', ['f32']);
      expectShape(gate, 'gate', [rows / rowsPerItem, dim]);
      if (gate.storage === x.storage) throw new InvalidArgumentError({ argument: 'gate', value: gate.name, message: `${op} updates x in place and cannot read gate from the same storage ('${x.name}')` });
    }
    const input = y.dtype as 'bf16' | 'f32';
    be.dispatch(op, {
      cpu: () =>
        void gatedResidualCpu({
          x: hostView(x),
          y: hostView(y as Tensor<'bf16'>) as Uint16Array | Float32Array,
          gate: gate === null ? null : hostView(gate),
          rows,
          dim,
          rowsPerItem,
        }),
      cuda: (device) => device.call(GATED_RESIDUAL, { x: device.ref(x), y: device.ref(y), gate: device.optionalRef(gate), rows, dim, rowsPerItem, input }),
    });
  },
);
