// clampToPlanar: the first channels of channels-last F32 pixels, clamped, transposed to planar F32 or BF16 (the
// Wan-VAE's RGB output frames, from its head convolution padded to 8 channels). Native op clampToPlanar, kernel
// native/src/kernels/vae/clamp_to_planar.cu. Bit-exact.
import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import { type Tensor, formatShape } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { backendOf, expectDType, expectOut, withOutputs } from './_checks';

export const CLAMP_TO_PLANAR = defineNativeOp({
  name: 'clampToPlanar',
  fields: { x: 'tensor', out: 'tensor', rows: 'int', cols: 'int', channels: 'int', lo: 'float', hi: 'float', output: ['f32', 'bf16'] },
  result: null,
});

export type PlanarOutputDType = 'f32' | 'bf16';
/** The kernel's 32-bit output indices. */
const MAX_INDEX = 2 ** 31 - 1;

export interface ClampToPlanarOptions {
  /** f32 [rows, cols]: channels-last pixels. */
  x: Tensor<'f32'>;
  /** The leading columns to keep (1..cols): 3 for RGB. */
  channels: number;
  /** Clamp bounds, as float32 (default -1 and 1, the VAE's output range); lo <= hi. */
  lo?: number;
  hi?: number;
  /** Default 'f32'. */
  outDtype?: PlanarOutputDType;
  /** [channels, rows] of outDtype. */
  out?: Tensor<PlanarOutputDType>;
  name?: string;
}

export interface ClampToPlanarCpuOptions {
  x: Float32Array;
  rows: number;
  cols: number;
  channels: number;
  lo: number;
  hi: number;
  output: PlanarOutputDType;
  /** [channels, rows]: float32 values or BF16 bits, written in place when given. */
  out?: Float32Array | Uint16Array;
}

/**
 * The CPU twin: out[c, r] = clamp(x[r, c], lo, hi) on the float32 bits (a NaN passes through with its bits, as the
 * kernel copies it), or its BF16 code (nearest even, every NaN 0x7fff).
 */
export function clampToPlanarCpu(o: ClampToPlanarCpuOptions): Float32Array | Uint16Array {
  const { x, rows, cols, channels, output } = o;
  const out = o.out ?? (output === 'f32' ? new Float32Array(channels * rows) : new Uint16Array(channels * rows));
  const xBits = new Uint32Array(x.buffer, x.byteOffset, x.length);
  const lo = Math.fround(o.lo);
  const hi = Math.fround(o.hi);
  const loBits = new Uint32Array(Float32Array.of(lo).buffer)[0] as number;
  const hiBits = new Uint32Array(Float32Array.of(hi).buffer)[0] as number;
  const outBits = out instanceof Float32Array ? new Uint32Array(out.buffer, out.byteOffset, out.length) : out;
  for (let c = 0; c < channels; c++) {
    for (let r = 0; r < rows; r++) {
      const v = x[r * cols + c] as number;
      const bits = v < lo ? loBits : v > hi ? hiBits : (xBits[r * cols + c] as number);
      if (output === 'f32') outBits[c * rows + r] = bits;
      else outBits[c * rows + r] = (bits & 0x7fffffff) > 0x7f800000 ? 0x7fff : ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
    }
  }
  return out;
}

/**
 * Columns [0, channels) of f32 [rows, cols], each value clamped to [lo, hi] (NaN kept), as [channels, rows] in
 * outDtype: channels-last pixels to planar images. Bit-identical on both backends.
 */
export const clampToPlanar = defineOp(
  { name: 'clampToPlanar', exactness: 'bit-exact', native: CLAMP_TO_PLANAR },
  function clampToPlanar(o: ClampToPlanarOptions): Tensor<PlanarOutputDType> {
    const op = 'clampToPlanar';
    const be = backendOf(o.x, 'x', op);
    const { x } = o;
    expectDType(x, 'x', ['f32']);
    if (x.shape.length !== 2 || (x.shape[1] as number) < 1) {
      throw new ShapeMismatchError({ tensor: 'x', expected: 'a 2-D [rows, cols] tensor (channels-last pixels)', actual: formatShape(x.shape), hint: `'${x.name}'` });
    }
    const rows = x.shape[0] as number;
    const cols = x.shape[1] as number;
    const { channels } = o;
    if (typeof channels !== 'number' || !Number.isInteger(channels) || channels < 1 || channels > cols) {
      throw new InvalidArgumentError({ argument: 'channels', value: channels, message: `expected an integer in 1..${cols} (the leading columns to keep)` });
    }
    if (rows * channels > MAX_INDEX) throw new ShapeMismatchError({ tensor: 'x', expected: 'rows x channels below 2^31', actual: `${rows} x ${channels}` });
    const lo = o.lo ?? -1;
    const hi = o.hi ?? 1;
    if (typeof lo !== 'number' || typeof hi !== 'number' || Number.isNaN(lo) || Number.isNaN(hi) || !(Math.fround(lo) <= Math.fround(hi))) {
      throw new InvalidArgumentError({ argument: 'lo/hi', value: [lo, hi], message: 'expected two numbers with lo <= hi' });
    }
    const outDtype = o.outDtype ?? 'f32';
    if (outDtype !== 'f32' && outDtype !== 'bf16') throw new InvalidArgumentError({ argument: 'outDtype', value: outDtype, message: "expected 'f32' or 'bf16'" });
    const outShape = [channels, rows];
    if (o.out !== undefined) expectOut(o.out, 'out', outDtype, outShape, be, op, [x]);
    return withOutputs(be, (outputs) => {
      const out = o.out ?? outputs.empty(outShape, outDtype, o.name ?? `${x.name}.planar`);
      if (rows === 0) return out;
      be.dispatch(op, {
        cpu: () => void clampToPlanarCpu({ x: hostView(x), rows, cols, channels, lo, hi, output: outDtype, out: hostView(out as Tensor<'f32'>) as Float32Array | Uint16Array }),
        cuda: (device) => device.call(CLAMP_TO_PLANAR, { x: device.ref(x), out: device.ref(out), rows, cols, channels, lo: Math.fround(lo), hi: Math.fround(hi), output: outDtype }),
      });
      return out;
    });
  },
);
