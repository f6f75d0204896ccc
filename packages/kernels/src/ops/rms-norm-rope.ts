// rmsNormRope: the q/k path of Wan's attention between the projection and attention: RMSNorm over the full dim (all
// heads), then optionally the 3D RoPE rotation of each head's interleaved pairs, written as BF16. Native op
// rmsNormRope, kernel native/src/kernels/norms/rms_norm_rope.cu. Declares a tolerance against its float64-statistics twin.
import { InvalidArgumentError, ShapeMismatchError, decodeBf16Array, encodeBf16Array } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import { type Tensor, formatShape } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { NORM_MAX_DIM, ditMatrixOf, expectEps } from './_dit-checks';
import { NORM_EXACTNESS } from './_norm-tolerance';
import { backendOf, expectDType, expectOut, expectShape, expectTensor, withOutputs } from './_checks';

export const RMS_NORM_ROPE = defineNativeOp({
  name: 'rmsNormRope',
  fields: {
    x: 'tensor',
    weight: 'tensor',
    cos: 'tensor?',
    sin: 'tensor?',
    out: 'tensor',
    rows: 'int',
    dim: 'int',
    headDim: 'int',
    tokens: 'int',
    input: ['bf16', 'f32'],
    eps: 'float',
  },
  result: null,
});

/** The RoPE tables of one grid: row t = token t of each batch item (rows of x are item-major: r = item x tokens + t). */
export interface RmsNormRopeTables {
  /** f32 [tokens, headDim / 2] each: cos and sin of pair j's angle at token t (packages/wan ropeTable, as float32). */
  cos: Tensor<'f32'>;
  sin: Tensor<'f32'>;
  /** Even, dividing dim (Wan: 128). */
  headDim: number;
}

export interface RmsNormRopeOptions {
  /** bf16 or f32 [rows, dim] (rows = batch items x tokens; heads side by side along dim). */
  x: Tensor<'bf16' | 'f32'>;
  /** f32 [dim]. */
  weight: Tensor<'f32'>;
  /** Inside the square root (Wan: 1e-6). */
  eps: number;
  /** The rotation (self-attention q and k); null or absent: the norm alone (cross-attention). */
  rope?: RmsNormRopeTables | null;
  /** bf16 [rows, dim]. */
  out?: Tensor<'bf16'>;
  name?: string;
}

export interface RmsNormRopeCpuOptions {
  /** [rows, dim]: float32 values, or BF16 bits (Uint16Array). */
  x: Float32Array | Uint16Array;
  rows: number;
  dim: number;
  weight: Float32Array;
  eps: number;
  /** cos/sin [tokens, headDim / 2] float32 each; rows % tokens == 0. */
  rope?: { cos: Float32Array; sin: Float32Array; headDim: number; tokens: number } | null;
  /** [rows, dim] BF16 bits, written in place when given. */
  out?: Uint16Array;
  /** When given ([rows, dim]): each element's magnitude for the declared tolerance (see _norm-tolerance.ts). */
  magnitude?: Float64Array;
}

const f32 = Math.fround;

/**
 * The CPU twin: per row, the mean square in float64, inv32 = f32(1 / sqrt(meanSquare + eps)), y = f32(f32(x inv32) w);
 * with rope, for each head and pair j: (a, b) = (y[2j], y[2j+1]) of the head, c = cos[r % tokens, j], s = sin[...]:
 * a' = f32(f32(a c) - f32(b s)), b' = f32(f32(a s) + f32(b c)); out = BF16 (round to nearest even, @fpsattn/fp8).
 */
export function rmsNormRopeCpu(o: RmsNormRopeCpuOptions): Uint16Array {
  const { rows, dim, weight, eps } = o;
  const rope = o.rope ?? null;
  const mag = o.magnitude;
  const out = o.out ?? new Uint16Array(rows * dim);
  const xs = o.x instanceof Uint16Array ? decodeBf16Array({ input: o.x.subarray(0, rows * dim) }) : o.x;
  const y = new Float32Array(dim);
  const half = rope === null ? 0 : rope.headDim / 2;
  for (let r = 0; r < rows; r++) {
    const at = r * dim;
    let sq = 0;
    for (let i = 0; i < dim; i++) sq += (xs[at + i] as number) * (xs[at + i] as number);
    const inv = f32(1 / Math.sqrt(sq / dim + eps));
    for (let i = 0; i < dim; i++) y[i] = f32((xs[at + i] as number) * inv) * (weight[i] as number);
    if (mag !== undefined && rope === null) for (let i = 0; i < dim; i++) mag[at + i] = Math.abs(y[i] as number);
    if (rope !== null) {
      const tableAt = (r % rope.tokens) * half;
      for (let e = 0; e < dim; e += 2) {
        const j = tableAt + ((e % rope.headDim) >> 1);
        const c = rope.cos[j] as number;
        const s = rope.sin[j] as number;
        const a = y[e] as number;
        const b = y[e + 1] as number;
        y[e] = f32(a * c) - f32(b * s);
        y[e + 1] = f32(a * s) + f32(b * c);
        if (mag !== undefined) {
          mag[at + e] = Math.abs(a * c) + Math.abs(b * s);
          mag[at + e + 1] = Math.abs(a * s) + Math.abs(b * c);
        }
      }
    }
    encodeBf16Array({ input: y, out: out.subarray(at, at + dim) });
  }
  return out;
}

/**
 * RMSNorm over the full last dim of bf16/f32 [rows, dim] (x rsqrt(mean(x^2) + eps) weight, in float32; statistics by a
 * block reduction over the row held in registers), then, with `rope`, each head's interleaved pairs (y[h hd + 2j],
 * y[h hd + 2j + 1]) turned by cos/sin[row % tokens, j]; rounded once to BF16. Within the declared tolerance of the twin.
 */
export const rmsNormRope = defineOp(
  { name: 'rmsNormRope', exactness: NORM_EXACTNESS, native: RMS_NORM_ROPE },
  function rmsNormRope(o: RmsNormRopeOptions): Tensor<'bf16'> {
    const op = 'rmsNormRope';
    const be = backendOf(o.x, 'x', op);
    const { x } = o;
    expectDType(x, 'x', ['bf16', 'f32']);
    const { rows, dim } = ditMatrixOf(x, 'x', NORM_MAX_DIM);
    expectTensor(o.weight, 'weight', be, op);
    expectDType(o.weight, 'weight', ['f32']);
    expectShape(o.weight, 'weight', [dim]);
    expectEps(o.eps);
    const inputs: Tensor[] = [x, o.weight];
    const rope = o.rope ?? null;
    let headDim = 0;
    let tokens = 0;
    if (rope !== null) {
      if (typeof rope !== 'object') throw new InvalidArgumentError({ argument: 'rope', value: rope, message: 'expected { cos, sin, headDim } or null' });
      headDim = rope.headDim;
      if (typeof headDim !== 'number' || !Number.isInteger(headDim) || headDim < 2 || headDim % 2 !== 0) {
        throw new InvalidArgumentError({ argument: 'rope.headDim', value: headDim, message: 'expected a positive even integer (pairs (2j, 2j + 1) of each head turn together)' });
      }
      if (dim % headDim !== 0) throw new ShapeMismatchError({ tensor: 'x', expected: `dim a multiple of rope.headDim ${headDim} (whole heads)`, actual: `dim ${dim}` });
      for (const name of ['cos', 'sin'] as const) {
        const t = rope[name];
        expectTensor(t, `rope.${name}`, be, op);
        expectDType(t, `rope.${name}`, ['f32']);
        if (t.shape.length !== 2 || t.shape[1] !== headDim / 2 || (t.shape[0] as number) < 1) {
          throw new ShapeMismatchError({ tensor: `rope.${name}`, expected: `[tokens >= 1, ${headDim / 2}] (headDim / 2 pairs per token)`, actual: formatShape(t.shape), hint: `'${t.name}'` });
        }
        inputs.push(t);
      }
      tokens = rope.cos.shape[0] as number;
      expectShape(rope.sin, 'rope.sin', rope.cos.shape);
      if (rows % tokens !== 0) {
        throw new ShapeMismatchError({ tensor: 'x', expected: `a multiple of ${tokens} rows (rope.cos rows = tokens per batch item)`, actual: `${rows} rows` });
      }
    }
    if (o.out !== undefined) expectOut(o.out, 'out', 'bf16', [rows, dim], be, op, inputs);
    const input = x.dtype as 'bf16' | 'f32';
    return withOutputs(be, (outputs) => {
      const out = o.out ?? outputs.empty([rows, dim], 'bf16', o.name ?? `${x.name}.rms`);
      be.dispatch(op, {
        cpu: () =>
          void rmsNormRopeCpu({
            x: hostView(x as Tensor<'bf16'>) as Uint16Array | Float32Array,
            rows,
            dim,
            weight: hostView(o.weight),
            eps: o.eps,
            rope: rope === null ? null : { cos: hostView(rope.cos), sin: hostView(rope.sin), headDim, tokens },
            out: hostView(out),
          }),
        cuda: (device) =>
          device.call(RMS_NORM_ROPE, {
            x: device.ref(x),
            weight: device.ref(o.weight),
            cos: rope === null ? null : device.ref(rope.cos),
            sin: rope === null ? null : device.ref(rope.sin),
            out: device.ref(out),
            rows,
            dim,
            headDim,
            tokens,
            input,
            eps: o.eps,
          }),
      });
      return out;
    });
  },
);
