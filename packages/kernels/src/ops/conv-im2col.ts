// convIm2col: the BF16 column matrix of a stride-1 convolution over channels-last frames, for a run of output pixels,
// so that the convolution is one `gemm` (the Wan-VAE decoder's causal 3-D and 2-D convolutions). Native op
// convIm2col, kernel native/src/kernels/vae/conv_im2col.cu. Bit-exact: data movement and one BF16 rounding of F32 input.
import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import { type Tensor, formatShape } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { backendOf, expectDType, expectOut, expectShape, expectTensor, withOutputs } from './_checks';

export const CONV_IM2COL = defineNativeOp({
  name: 'convIm2col',
  fields: {
    frame0: 'tensor?',
    frame1: 'tensor?',
    frame2: 'tensor?',
    out: 'tensor',
    height: 'int',
    width: 'int',
    channels: 'int',
    kt: 'int',
    kh: 'int',
    kw: 'int',
    upsample: 'bool',
    rowStart: 'int',
    rows: 'int',
    input: ['bf16', 'f32'],
  },
  result: null,
});

/** At most this many time taps (frames): a causal conv3d of kernel depth 3. */
export const IM2COL_MAX_TAPS = 3;
/** The kernel's 32-bit indices: pixels of a frame and elements of one call's output each below this. */
export const IM2COL_MAX_ELEMENTS = 2 ** 31 - 1;

export type Im2colInputDType = 'bf16' | 'f32';

export interface ConvIm2colOptions {
  /**
   * The input frame of each time tap, in order (its length is the kernel depth kt, 1 to 3): channels-last
   * `[srcH * srcW, C]`, bf16 or f32 (all the same), or null for a zero frame (causal time padding). At least one is
   * a tensor (it gives C and the dtype). srcH x srcW is height x width, or half of each with `upsample`.
   */
  frames: readonly (Tensor<Im2colInputDType> | null)[];
  /** Spatial kernel [kh, kw]: 1 or 3 each (symmetric zero padding (k - 1) / 2). */
  kernel: readonly [number, number];
  /** The output frame's size (the convolution keeps it). */
  height: number;
  width: number;
  /** Read the frames as their nearest-neighbour 2x upsampling (Resample's nearest-exact x2, fused). Default false. */
  upsample?: boolean;
  /** The run of output pixels (raster order) this call writes: default all of them. */
  rowStart?: number;
  rows?: number;
  /** bf16 [rows, kt kh kw C]. */
  out?: Tensor<'bf16'>;
  name?: string;
}

export interface ConvIm2colCpuOptions {
  /** Per tap: channels-last frame data (BF16 bits or float32 values), or null (zeros). */
  frames: readonly (Uint16Array | Float32Array | null)[];
  input: Im2colInputDType;
  height: number;
  width: number;
  channels: number;
  kh: number;
  kw: number;
  upsample: boolean;
  rowStart: number;
  rows: number;
  /** BF16 bits [rows, kt kh kw C], written in place when given. */
  out?: Uint16Array;
}

/** BF16 code of float32 bits: nearest even, NaN to 0x7fff (the kernel's common/bf16_round.cuh). */
function bf16OfBits(bits: number): number {
  if ((bits & 0x7fffffff) > 0x7f800000) return 0x7fff;
  return ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * The CPU twin: cols[r, ((dt kh + dy) kw + dx) C + c] = frame dt at (y + dy - (kh - 1) / 2, x + dx - (kw - 1) / 2),
 * channel c, for pixel rowStart + r = y width + x; zero outside the frame or for a null frame; with `upsample` the
 * frame is read at (sy >> 1, sx >> 1) of its half-size grid. BF16 frames are copied bit for bit, F32 frames rounded.
 */
export function convIm2colCpu(o: ConvIm2colCpuOptions): Uint16Array {
  const { height, width, channels: c, kh, kw, rowStart, rows, upsample } = o;
  const kt = o.frames.length;
  const k = kt * kh * kw * c;
  const out = o.out ?? new Uint16Array(rows * k);
  const srcWidth = upsample ? width / 2 : width;
  const sources = o.frames.map((f) => (f === null ? null : f instanceof Float32Array ? new Uint32Array(f.buffer, f.byteOffset, f.length) : f));
  const f32 = o.input === 'f32';
  for (let r = 0; r < rows; r++) {
    const pixel = rowStart + r;
    const y = Math.floor(pixel / width);
    const x = pixel - y * width;
    let at = r * k;
    for (let dt = 0; dt < kt; dt++) {
      const src = sources[dt] ?? null;
      for (let dy = 0; dy < kh; dy++) {
        for (let dx = 0; dx < kw; dx++, at += c) {
          let sy = y + dy - (kh - 1) / 2;
          let sx = x + dx - (kw - 1) / 2;
          if (src === null || sy < 0 || sy >= height || sx < 0 || sx >= width) {
            out.fill(0, at, at + c);
            continue;
          }
          if (upsample) {
            sy >>= 1;
            sx >>= 1;
          }
          const from = (sy * srcWidth + sx) * c;
          if (f32) for (let i = 0; i < c; i++) out[at + i] = bf16OfBits(src[from + i] as number);
          else out.set((src as Uint16Array).subarray(from, from + c), at);
        }
      }
    }
  }
  return out;
}

function expectSize(value: unknown, argument: string, min: number, rule: string): asserts value is number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > IM2COL_MAX_ELEMENTS) {
    throw new InvalidArgumentError({ argument, value, message: `expected ${rule}` });
  }
}

/**
 * The column matrix of a stride-1 convolution with kernel [kt = frames.length, kh, kw] over channels-last frames, for
 * output pixels rowStart .. rowStart + rows - 1 of a height x width frame: bf16 [rows, kt kh kw C], column order
 * tap-major and channel-minor, so that `gemm({ x: cols, w })` with the weight permuted to [cout, kt, kh, kw, C] is
 * the convolution. Bit-identical on both backends.
 */
export const convIm2col = defineOp(
  { name: 'convIm2col', exactness: 'bit-exact', native: CONV_IM2COL },
  function convIm2col(o: ConvIm2colOptions): Tensor<'bf16'> {
    const op = 'convIm2col';
    const frames = o.frames as unknown;
    if (!Array.isArray(frames) || frames.length < 1 || frames.length > IM2COL_MAX_TAPS) {
      throw new InvalidArgumentError({ argument: 'frames', value: frames, message: `expected an array of 1 to ${IM2COL_MAX_TAPS} frames (one per time tap; null for a zero frame)` });
    }
    const first = o.frames.find((f) => f !== null);
    if (first === undefined) throw new InvalidArgumentError({ argument: 'frames', value: frames, message: 'expected at least one frame tensor (the others may be null): it gives the channels and the dtype' });
    const be = backendOf(first, 'frames', op);
    const kernel = o.kernel as unknown;
    if (!Array.isArray(kernel) || kernel.length !== 2 || !kernel.every((v) => v === 1 || v === 3)) {
      throw new InvalidArgumentError({ argument: 'kernel', value: kernel, message: 'expected [kh, kw], each 1 or 3 (odd: symmetric zero padding)' });
    }
    const [kh, kw] = o.kernel;
    expectSize(o.height, 'height', 1, 'an integer >= 1 (the output frame height)');
    expectSize(o.width, 'width', 1, 'an integer >= 1 (the output frame width)');
    const { height, width } = o;
    const upsample = o.upsample ?? false;
    if (typeof upsample !== 'boolean') throw new InvalidArgumentError({ argument: 'upsample', value: upsample, message: 'expected a boolean' });
    if (upsample && (height % 2 !== 0 || width % 2 !== 0)) {
      throw new InvalidArgumentError({ argument: 'upsample', value: upsample, message: `the frames are read upsampled 2x: height and width must be even, got ${height} x ${width}` });
    }
    const pixels = height * width;
    if (pixels > IM2COL_MAX_ELEMENTS) throw new ShapeMismatchError({ tensor: 'frames', expected: `height x width below 2^31 pixels`, actual: `${height} x ${width}` });
    const srcPixels = upsample ? pixels / 4 : pixels;
    const dtype = first.dtype;
    expectDType(first, 'frames', ['bf16', 'f32']);
    if (first.shape.length !== 2 || first.shape[0] !== srcPixels) {
      throw new ShapeMismatchError({ tensor: 'frames', expected: `[${srcPixels}, C] (channels-last ${upsample ? `${height / 2} x ${width / 2}, read upsampled` : `${height} x ${width}`})`, actual: formatShape(first.shape), hint: `'${first.name}'` });
    }
    const channels = first.shape[1] as number;
    o.frames.forEach((f, i) => {
      if (f === null) return;
      expectTensor(f, `frames[${i}]`, be, op);
      expectDType(f, `frames[${i}]`, [dtype]);
      expectShape(f, `frames[${i}]`, [srcPixels, channels]);
    });
    const rowStart = o.rowStart ?? 0;
    expectSize(rowStart, 'rowStart', 0, `an integer in 0..${pixels - 1}`);
    const rows = o.rows ?? pixels - rowStart;
    expectSize(rows, 'rows', 0, 'an integer >= 0');
    if (rowStart + rows > pixels) throw new InvalidArgumentError({ argument: 'rows', value: rows, message: `rows [${rowStart}, ${rowStart + rows}) run past the frame's ${pixels} pixels` });
    const kt = o.frames.length;
    const columns = kt * kh * kw * channels;
    if (rows * columns > IM2COL_MAX_ELEMENTS) {
      throw new ShapeMismatchError({ tensor: 'out', expected: 'rows x columns below 2^31 elements (pass fewer rows per call)', actual: `${rows} x ${columns}` });
    }
    const outShape = [rows, columns];
    const inputs = o.frames.filter((f): f is Tensor<Im2colInputDType> => f !== null);
    if (o.out !== undefined) expectOut(o.out, 'out', 'bf16', outShape, be, op, inputs);
    return withOutputs(be, (outputs) => {
      const out = o.out ?? outputs.empty(outShape, 'bf16', o.name ?? `${first.name}.im2col`);
      if (rows === 0) return out;
      const padded = [0, 1, 2].map((i) => o.frames[i] ?? null);
      be.dispatch(op, {
        cpu: () =>
          void convIm2colCpu({
            frames: o.frames.map((f) => (f === null ? null : (hostView(f as Tensor<'bf16'>) as Uint16Array | Float32Array))),
            input: dtype as Im2colInputDType,
            height,
            width,
            channels,
            kh,
            kw,
            upsample,
            rowStart,
            rows,
            out: hostView(out),
          }),
        cuda: (device) =>
          device.call(CONV_IM2COL, {
            frame0: device.optionalRef(padded[0]),
            frame1: device.optionalRef(padded[1]),
            frame2: device.optionalRef(padded[2]),
            out: device.ref(out),
            height,
            width,
            channels,
            kt,
            kh,
            kw,
            upsample,
            rowStart,
            rows,
            input: dtype as Im2colInputDType,
          }),
      });
      return out;
    });
  },
);
