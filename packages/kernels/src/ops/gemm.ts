// gemm: the DiT's linear layers, y = act(x . w^T * scales + bias), as PyTorch's nn.Linear stores them (x [..., K],
// w [N, K], y [..., N]), and a strided batch of such products (x [B, M, K], w [B, N, K], y [B, M, N]: per-head
// attention scores and P . V in one call). Native op gemm runs cuBLASLt (loaded by the addon at run time:
// native/src/blas/); the CPU twin accumulates in float64, so the op declares a tolerance, not bit-exactness.
import { InvalidArgumentError, ShapeMismatchError, bf16BitsToFloat32, fp8DecodeTable, float32ToBf16Bits } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import { type Tensor, formatShape, numelOf } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { backendOf, expectDType, expectOut, expectShape, expectTensor, withOutputs } from './_checks';

export const GEMM = defineNativeOp({
  name: 'gemm',
  fields: {
    x: 'tensor',
    w: 'tensor',
    bias: 'tensor?',
    xScale: 'tensor?',
    wScale: 'tensor?',
    y: 'tensor',
    m: 'int',
    n: 'int',
    k: 'int',
    batch: 'int',
    input: ['bf16', 'e4m3'],
    output: ['bf16', 'f32'],
    epilogue: ['none', 'bias', 'gelu', 'gelu-bias'],
    fastAccum: 'bool',
  },
  result: null,
});

export type GemmInputDType = 'bf16' | 'e4m3';
export type GemmOutputDType = 'bf16' | 'f32';
/** `'gelu'`: the tanh approximation, 0.5 v (1 + tanh(sqrt(2 / pi) (v + 0.044715 v^3))), as cuBLASLt's epilogue. */
export type GemmActivation = 'none' | 'gelu';
export const GEMM_ACTIVATIONS: readonly GemmActivation[] = ['none', 'gelu'];
export const GEMM_OUTPUT_DTYPES: readonly GemmOutputDType[] = ['bf16', 'f32'];

/** cuBLASLt indexes with int32: M, N and K each at most this (and the batch count, an int32 too). */
export const GEMM_MAX_DIM = 2 ** 31 - 1;

/** The bias dtype cuBLASLt takes: the output dtype for BF16 inputs, BF16 for E4M3 inputs. */
export function gemmBiasDType(input: GemmInputDType, output: GemmOutputDType): 'bf16' | 'f32' {
  return input === 'bf16' ? output : 'bf16';
}

/** N and K must be multiples of this: 16-byte rows (8 for BF16; 16 for E4M3, which FP8 on Hopper requires). */
export function gemmDimMultiple(input: GemmInputDType): number {
  return input === 'e4m3' ? 16 : 8;
}

export interface GemmOptions {
  /**
   * [..., K] BF16 or E4M3 (rows: M = the product of the leading dimensions, e.g. batch x tokens). With a batched `w`
   * ([B, N, K]): exactly [B, M, K], BF16.
   */
  x: Tensor<GemmInputDType>;
  /**
   * [N, K], x's dtype (nn.Linear's weight: out_features x in_features), or [B, N, K] for a strided batch of B products
   * y[b] = act(x[b] . w[b]^T) (BF16 inputs, no bias; y [B, M, N]): one call, one cuBLASLt launch on CUDA.
   */
  w: Tensor<GemmInputDType>;
  /** [N]: dtype `gemmBiasDType(input, outDtype)` (BF16, or F32 for BF16 inputs with F32 output). Not batched. */
  bias?: Tensor<'bf16' | 'f32'> | null;
  /** Default 'none'. */
  activation?: GemmActivation;
  /** E4M3 inputs only, both required: float32 [1], the value of a code is code x scale. */
  xScale?: Tensor<'f32'> | null;
  wScale?: Tensor<'f32'> | null;
  /** Default 'bf16'. E4M3 inputs take a bias only with BF16 output. */
  outDtype?: GemmOutputDType;
  /** E4M3 only: cuBLASLt's FP8 fast accumulation (faster, less accurate; outside the declared tolerance). */
  fastAccum?: boolean;
  /** [..., N] of outDtype ([B, M, N] when batched). */
  out?: Tensor<GemmOutputDType>;
  name?: string;
}

export interface GemmCpuOptions<O extends GemmOutputDType = GemmOutputDType> {
  /** [m, k] BF16 bits or E4M3 codes, row-major. */
  x: Uint16Array | Uint8Array;
  /** [n, k], same type. */
  w: Uint16Array | Uint8Array;
  m: number;
  n: number;
  k: number;
  input: GemmInputDType;
  output: O;
  /** [n]: BF16 bits (Uint16Array) or float32 values. */
  bias?: Uint16Array | Float32Array | null;
  activation?: GemmActivation;
  /** E4M3: the float32 scales (default 1). */
  xScale?: number;
  wScale?: number;
  /** Written in place when given ([m, n]: float32 values, or BF16 bits). */
  out?: Float32Array | Uint16Array;
  /**
   * When given ([m, n]), receives each element's magnitude: xScale wScale sum_k |x_k w_k| + |bias|, the scale of the
   * rounding errors any summation order makes (the `atol` term of the declared tolerance).
   */
  magnitude?: Float64Array;
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU, tanh approximation (cuBLASLt's GELU epilogue; PyTorch's approximate='tanh'). */
export function geluTanh(v: number): number {
  return 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
}

/** Decoded values (exact in float32: BF16 and E4M3 both are) of BF16 bits or E4M3 codes. */
function decode(data: Uint16Array | Uint8Array, input: GemmInputDType): Float32Array {
  const out = new Float32Array(data.length);
  if (input === 'bf16') {
    const u32 = new Uint32Array(out.buffer);
    for (let i = 0; i < data.length; i++) u32[i] = (data[i] as number) << 16;
  } else {
    const table = fp8DecodeTable('e4m3');
    for (let i = 0; i < data.length; i++) out[i] = table[data[i] as number] as number;
  }
  return out;
}

/**
 * The CPU twin: y[i, j] = act(xScale wScale sum_k x[i, k] w[j, k] + bias[j]), products and sums in float64 (each
 * product of two BF16 or two E4M3 values is exact), GELU in float64, then rounded to float32 (the value cuBLASLt's
 * float32 epilogue holds) and, for BF16 output, from there to BF16 (round to nearest even).
 */
export function gemmCpu<O extends GemmOutputDType>(o: GemmCpuOptions<O>): O extends 'f32' ? Float32Array : Uint16Array {
  const { m, n, k } = o;
  const xs = decode(o.x.subarray(0, m * k), o.input);
  const ws = decode(o.w.subarray(0, n * k), o.input);
  const scale = o.input === 'e4m3' ? (o.xScale ?? 1) * (o.wScale ?? 1) : 1;
  const bias = o.bias ?? null;
  const biasAt = bias === null ? () => 0 : bias instanceof Float32Array ? (j: number) => bias[j] as number : (j: number) => bf16BitsToFloat32(bias[j] as number);
  const gelu = (o.activation ?? 'none') === 'gelu';
  const f32 = o.output === 'f32';
  const out = (o.out ?? (f32 ? new Float32Array(m * n) : new Uint16Array(m * n))) as Float32Array | Uint16Array;
  const mag = o.magnitude;
  for (let i = 0; i < m; i++) {
    const xRow = i * k;
    for (let j = 0; j < n; j++) {
      const wRow = j * k;
      let dot = 0;
      let abs = 0;
      if (mag === undefined) {
        for (let t = 0; t < k; t++) dot += (xs[xRow + t] as number) * (ws[wRow + t] as number);
      } else {
        for (let t = 0; t < k; t++) {
          const p = (xs[xRow + t] as number) * (ws[wRow + t] as number);
          dot += p;
          abs += Math.abs(p);
        }
      }
      const b = biasAt(j);
      const v = scale * dot + b;
      const y = gelu ? geluTanh(v) : v;
      if (f32) out[i * n + j] = y;
      else out[i * n + j] = float32ToBf16Bits(y);
      if (mag !== undefined) mag[i * n + j] = Math.abs(scale) * abs + Math.abs(b);
    }
  }
  return out as O extends 'f32' ? Float32Array : Uint16Array;
}

function expectDim(value: number, tensor: string, dim: string, multiple: number, input: GemmInputDType): void {
  if (value < 1 || value % multiple !== 0 || value > GEMM_MAX_DIM) {
    throw new ShapeMismatchError({
      tensor,
      expected: `${dim} a positive multiple of ${multiple} (16-byte rows for ${input} inputs${input === 'e4m3' ? '; FP8 on Hopper needs 16' : ''}), at most ${GEMM_MAX_DIM}`,
      actual: `${dim} = ${value}`,
    });
  }
}

/**
 * y = act(x . w^T * xScale * wScale + bias) with float32 accumulation (cuBLASLt on CUDA; see native/src/blas/gemm.h):
 * x [..., K], w [N, K] (row-major, as nn.Linear stores them), y [..., N] in `outDtype`. With w [B, N, K] and x
 * [B, M, K] (BF16, no bias): y[b] = act(x[b] . w[b]^T), y [B, M, N], one strided-batched cuBLASLt call. The CUDA
 * result and the float64 twin agree within the declared tolerance, per element.
 */
export const gemm = defineOp(
  {
    name: 'gemm',
    exactness: {
      tolerance: {
        atol: 2 ** -10,
        rtol: 2 ** -7,
        note:
          'per element |cuda - twin| <= atol * magnitude * slope + rtol * |twin|, where magnitude = xScale wScale sum_k |x_k w_k| + |bias| ' +
          '(gemmCpu reports it) and slope = 1.13 with GELU (the largest slope of tanh-GELU), else 1. atol covers float32 ' +
          "accumulation in any order and Hopper's FP8 tensor-core accumulation with periodic promotion (about 2^-13 per " +
          'partial sum), with margin; rtol is one BF16 ulp of output rounding (the twin rounds float64 -> float32 -> BF16)',
      },
    },
    native: GEMM,
  },
  function gemm(o: GemmOptions): Tensor<GemmOutputDType> {
    const op = 'gemm';
    const be = backendOf(o.x, 'x', op);
    const { x, w } = o;
    expectDType(x, 'x', ['bf16', 'e4m3']);
    const input = x.dtype as GemmInputDType;
    if (x.shape.length < 2) {
      throw new ShapeMismatchError({ tensor: 'x', expected: '[..., K] with at least 2 dimensions (rows = the product of the leading ones)', actual: formatShape(x.shape), hint: `'${x.name}'` });
    }
    const k = x.shape[x.shape.length - 1] as number;
    const multiple = gemmDimMultiple(input);
    expectDim(k, 'x', 'K (the last dimension)', multiple, input);
    expectTensor(w, 'w', be, op);
    expectDType(w, 'w', [input]);
    // A 3-D w is a strided batch: x [B, M, K], w [B, N, K] -> y [B, M, N].
    const batched = w.shape.length === 3;
    if (batched && (x.shape.length !== 3 || w.shape[0] !== x.shape[0] || w.shape[2] !== k)) {
      const b = x.shape.length === 3 ? x.shape[0] : 'B';
      throw new ShapeMismatchError({ tensor: 'w', expected: `[${b}, N, ${k}] with x [${b}, M, ${k}] (a batch: x's first and last dimensions)`, actual: formatShape(w.shape), hint: `'${w.name}'` });
    }
    if (!batched && (w.shape.length !== 2 || w.shape[1] !== k)) {
      throw new ShapeMismatchError({ tensor: 'w', expected: `[N, ${k}] (K = x's last dimension), or [B, N, ${k}] with x [B, M, ${k}]`, actual: formatShape(w.shape), hint: `'${w.name}'` });
    }
    const batch = batched ? (x.shape[0] as number) : 1;
    const lead = batched ? x.shape.slice(1, -1) : x.shape.slice(0, -1);
    const m = numelOf(lead);
    if (m > GEMM_MAX_DIM) throw new ShapeMismatchError({ tensor: 'x', expected: `at most ${GEMM_MAX_DIM} rows (product of the leading dimensions)`, actual: `${m} rows` });
    if (batch > GEMM_MAX_DIM) throw new ShapeMismatchError({ tensor: 'x', expected: `a batch of at most ${GEMM_MAX_DIM}`, actual: `${batch}` });
    const n = w.shape[batched ? 1 : 0] as number;
    expectDim(n, 'w', `N (the ${batched ? 'second' : 'first'} dimension)`, multiple, input);
    if (batched && input !== 'bf16') {
      throw new InvalidArgumentError({ argument: 'w', value: w.name, message: 'a batched gemm (w [B, N, K]) takes bf16 inputs only' });
    }

    const outDtype = o.outDtype ?? 'bf16';
    if (!GEMM_OUTPUT_DTYPES.includes(outDtype)) throw new InvalidArgumentError({ argument: 'outDtype', value: outDtype, message: "expected 'bf16' or 'f32'" });
    const activation = o.activation ?? 'none';
    if (!GEMM_ACTIVATIONS.includes(activation)) throw new InvalidArgumentError({ argument: 'activation', value: activation, message: "expected 'none' or 'gelu' (tanh approximation)" });
    const fastAccum = o.fastAccum ?? false;
    if (typeof fastAccum !== 'boolean') throw new InvalidArgumentError({ argument: 'fastAccum', value: fastAccum, message: 'expected a boolean' });
    if (fastAccum && input !== 'e4m3') throw new InvalidArgumentError({ argument: 'fastAccum', value: fastAccum, message: 'fast accumulation applies to e4m3 inputs only' });

    const inputs: Tensor[] = [x, w];
    const bias = o.bias ?? null;
    if (bias !== null) {
      if (batched) throw new InvalidArgumentError({ argument: 'bias', value: bias.name, message: 'a batched gemm (w [B, N, K]) takes no bias' });
      expectTensor(bias, 'bias', be, op);
      if (input === 'e4m3' && outDtype !== 'bf16') {
        throw new InvalidArgumentError({ argument: 'bias', value: bias.name, message: "e4m3 gemm takes a bias only with outDtype 'bf16' (cuBLASLt's FP8 bias rule)" });
      }
      expectDType(bias, 'bias', [gemmBiasDType(input, outDtype)]);
      expectShape(bias, 'bias', [n]);
      inputs.push(bias);
    }
    const scales = { xScale: o.xScale ?? null, wScale: o.wScale ?? null };
    for (const [name, t] of Object.entries(scales)) {
      if (input === 'e4m3') {
        if (t === null) throw new InvalidArgumentError({ argument: name, value: t, message: `e4m3 gemm needs ${name} (float32 [1]: a code's value is code x scale)` });
        expectTensor(t, name, be, op);
        expectDType(t, name, ['f32']);
        expectShape(t, name, [1]);
        inputs.push(t);
      } else if (t !== null) {
        throw new InvalidArgumentError({ argument: name, value: t.name, message: 'bf16 gemm takes no scales (pass null or leave it out)' });
      }
    }
    const outShape = batched ? [batch, ...lead, n] : [...lead, n];
    if (o.out !== undefined) expectOut(o.out, 'out', outDtype, outShape, be, op, inputs);
    const epilogue = bias === null ? activation : activation === 'gelu' ? 'gelu-bias' : 'bias';

    return withOutputs(be, (outputs) => {
      const y = o.out ?? outputs.empty(outShape, outDtype, o.name ?? `${x.name}.gemm`);
      if (m === 0 || batch === 0) return y; // nothing to compute (and no library to load)
      be.dispatch(op, {
        cpu: () => {
          const [xs, ws, ys] = [hostView(x), hostView(w), hostView(y)];
          for (let b = 0; b < batch; b++) {
            gemmCpu({
              x: xs.subarray(b * m * k, (b + 1) * m * k),
              w: ws.subarray(b * n * k, (b + 1) * n * k),
              m,
              n,
              k,
              input,
              output: outDtype,
              bias: bias === null ? null : hostView(bias),
              activation,
              xScale: scales.xScale === null ? 1 : (hostView(scales.xScale)[0] as number),
              wScale: scales.wScale === null ? 1 : (hostView(scales.wScale)[0] as number),
              out: ys.subarray(b * m * n, (b + 1) * m * n),
            });
          }
        },
        cuda: (device) =>
          device.call(GEMM, {
            x: device.ref(x),
            w: device.ref(w),
            bias: device.optionalRef(bias),
            xScale: device.optionalRef(scales.xScale),
            wScale: device.optionalRef(scales.wScale),
            y: device.ref(y),
            m,
            n,
            k,
            batch,
            input,
            output: outDtype,
            epilogue,
            fastAccum,
          }),
      });
      return y;
    });
  },
);
