// channelRmsNorm: the Wan-VAE's RMS_norm over the channels of channels-last F32 pixels (F.normalize * sqrt(C) * gamma),
// optionally followed by SiLU, written as BF16 for the convolution that follows. Native op channelRmsNorm, kernel
// native/src/kernels/vae/channel_rms_norm.cu. Declares a tolerance against its float64 twin.
import { InvalidArgumentError, ShapeMismatchError, float32ToBf16Bits } from '@fpsattn/fp8';
import { type Exactness, defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import { type Tensor, formatShape } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { backendOf, expectDType, expectOut, expectShape, expectTensor, withOutputs } from './_checks';

export const CHANNEL_RMS_NORM = defineNativeOp({
  name: 'channelRmsNorm',
  fields: { x: 'tensor', gamma: 'tensor', out: 'tensor', rows: 'int', channels: 'int', silu: 'bool' },
  result: null,
});

/** F.normalize's eps: the L2 norm of a pixel is clamped from below to this. */
export const CHANNEL_NORM_FLOOR = 1e-12;
/** The kernel's 32-bit indices. */
const MAX_INDEX = 2 ** 31 - 1;

/**
 * Per element |cuda - twin| <= atol * magnitude + rtol * |twin|, magnitude = |y| (the normalised value before SiLU,
 * the twin reports it). rtol is one BF16 ulp: both sides round once, and float32 values a hair apart can round to
 * neighbouring BF16 values. The kernel's float32 steps (a sum of C squares in at most C / 256 + 5 sequential levels
 * per lane and the butterfly, a sqrt, a division, two products, expf) are off by some 10^2 u relative (u = 2^-24) at
 * C = 384, far below an ulp; atol 2^-16 of |y| covers the absolute error of SiLU's tail (y below -88: expf overflows
 * and the kernel returns -0 where the twin keeps a tiny value).
 */
export const CHANNEL_RMS_NORM_EXACTNESS: Exactness = Object.freeze({
  tolerance: Object.freeze({
    atol: 2 ** -16,
    rtol: 2 ** -7,
    note:
      'per element |cuda - twin| <= atol * magnitude + rtol * |twin|, magnitude = |y| before SiLU (reported by the twin); rtol is ' +
      'one BF16 ulp of output rounding, atol covers float32 statistics and SiLU where the output underflows',
  }),
});

export interface ChannelRmsNormOptions {
  /** f32 [rows, C]: channels-last pixels (rows = pixels of one or more frames). */
  x: Tensor<'f32'>;
  /** f32 [C]: the norm's learned scale (the checkpoint's gamma [C, 1, 1(, 1)] flattened). */
  gamma: Tensor<'f32'>;
  /** Apply SiLU after the norm (every norm of the VAE decoder but the attention block's). Default false. */
  silu?: boolean;
  /** bf16 [rows, C] (e.g. the leading rows of a larger zero-padded buffer). */
  out?: Tensor<'bf16'>;
  name?: string;
}

export interface ChannelRmsNormCpuOptions {
  /** [rows, C] float32 values. */
  x: Float32Array;
  gamma: Float32Array;
  rows: number;
  channels: number;
  silu: boolean;
  /** [rows, C] BF16 bits, written in place when given. */
  out?: Uint16Array;
  /** When given ([rows, C]): |y| before SiLU per element, the magnitude of the declared tolerance. */
  magnitude?: Float64Array;
}

/**
 * The CPU twin, in float64: per row n = max(sqrt(sum_c x^2), 1e-12), y = x sqrt(C) / n gamma, SiLU y / (1 + e^-y),
 * then rounded to float32 and to BF16 (nearest even).
 */
export function channelRmsNormCpu(o: ChannelRmsNormCpuOptions): Uint16Array {
  const { x, gamma, rows, channels: c, silu, magnitude } = o;
  const out = o.out ?? new Uint16Array(rows * c);
  const root = Math.sqrt(c);
  for (let r = 0; r < rows; r++) {
    const at = r * c;
    let sum = 0;
    for (let i = 0; i < c; i++) sum += (x[at + i] as number) ** 2;
    const factor = root / Math.max(Math.sqrt(sum), CHANNEL_NORM_FLOOR);
    for (let i = 0; i < c; i++) {
      const y = (x[at + i] as number) * factor * (gamma[i] as number);
      out[at + i] = float32ToBf16Bits(silu ? y / (1 + Math.exp(-y)) : y);
      if (magnitude !== undefined) magnitude[at + i] = Math.abs(y);
    }
  }
  return out;
}

/**
 * The VAE's channel RMS norm of f32 [rows, C] (each row a pixel): x / max(||x||_2, 1e-12) * sqrt(C) * gamma, then
 * SiLU when asked, rounded once to BF16 [rows, C]. Within the declared tolerance of the float64 twin.
 */
export const channelRmsNorm = defineOp(
  { name: 'channelRmsNorm', exactness: CHANNEL_RMS_NORM_EXACTNESS, native: CHANNEL_RMS_NORM },
  function channelRmsNorm(o: ChannelRmsNormOptions): Tensor<'bf16'> {
    const op = 'channelRmsNorm';
    const be = backendOf(o.x, 'x', op);
    const { x, gamma } = o;
    expectDType(x, 'x', ['f32']);
    if (x.shape.length !== 2 || (x.shape[1] as number) < 1) {
      throw new ShapeMismatchError({ tensor: 'x', expected: 'a 2-D [rows, C] tensor (channels-last pixels, C >= 1)', actual: formatShape(x.shape), hint: `'${x.name}'` });
    }
    const rows = x.shape[0] as number;
    const channels = x.shape[1] as number;
    if (rows > MAX_INDEX || channels > MAX_INDEX) throw new ShapeMismatchError({ tensor: 'x', expected: 'rows and C below 2^31', actual: formatShape(x.shape) });
    expectTensor(gamma, 'gamma', be, op);
    expectDType(gamma, 'gamma', ['f32']);
    expectShape(gamma, 'gamma', [channels]);
    const silu = o.silu ?? false;
    if (typeof silu !== 'boolean') throw new InvalidArgumentError({ argument: 'silu', value: silu, message: 'expected a boolean' });
    if (o.out !== undefined) expectOut(o.out, 'out', 'bf16', [rows, channels], be, op, [x, gamma]);
    return withOutputs(be, (outputs) => {
      const out = o.out ?? outputs.empty([rows, channels], 'bf16', o.name ?? `${x.name}.norm`);
      if (rows === 0) return out;
      be.dispatch(op, {
        cpu: () => void channelRmsNormCpu({ x: hostView(x), gamma: hostView(gamma), rows, channels, silu, out: hostView(out) }),
        cuda: (device) => device.call(CHANNEL_RMS_NORM, { x: device.ref(x), gamma: device.ref(gamma), out: device.ref(out), rows, channels, silu }),
      });
      return out;
    });
  },
);
