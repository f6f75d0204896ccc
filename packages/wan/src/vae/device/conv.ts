import { type Tensor, convIm2col, gemm } from '@fpsattn/kernels';
import { WAN_VAE_CACHE_T } from '../causal-conv3d';
import { disposeAll, shareTensor } from './clip';
import type { Im2colScratch } from './im2col-scratch';

/**
 * A convolution's weights on the device: `weight` BF16 [cout, kt kh kw cin], PyTorch's [cout, cin, kt, kh, kw]
 * permuted to tap-major, channel-minor (the column order of convIm2col), and `bias` F32 [cout].
 */
export interface DeviceConv {
  readonly weight: Tensor<'bf16'>;
  readonly bias: Tensor<'f32'>;
  readonly kernel: readonly [number, number, number];
  readonly cin: number;
  readonly cout: number;
}

/** A conv input frame: channels-last [pixels, cin], BF16 (a norm's output) or F32 (the residual stream); null = zeros. */
export type ConvInput = Tensor<'bf16'> | Tensor<'f32'>;

/**
 * One output frame of a stride-1 convolution, as im2col + GEMM: for each run of output pixels that fits the scratch
 * buffer, the BF16 columns (convIm2col over the kt tap frames, `upsample`: read at 2x nearest) times the weight, F32
 * accumulation, F32 bias, written into that run of the F32 output [height * width, cout].
 */
export function convFrame(options: {
  scratch: Im2colScratch;
  taps: readonly (ConvInput | null)[];
  conv: DeviceConv;
  height: number;
  width: number;
  upsample?: boolean;
  name?: string;
}): Tensor<'f32'> {
  const { scratch, taps, conv, height, width } = options;
  const [, kh, kw] = conv.kernel;
  const pixels = height * width;
  const columns = taps.length * kh * kw * conv.cin;
  const out = scratch.backend.empty([pixels, conv.cout], 'f32', { name: options.name ?? 'vae.conv' });
  try {
    const chunk = scratch.rowsPerChunk(columns);
    for (let rowStart = 0; rowStart < pixels; rowStart += chunk) {
      const rows = Math.min(chunk, pixels - rowStart);
      const cols = scratch.columns(rows, columns);
      const target = out.sliceRows(rowStart, rows);
      try {
        convIm2col({ frames: taps as (Tensor<'bf16'> | null)[], kernel: [kh, kw], height, width, upsample: options.upsample ?? false, rowStart, rows, out: cols });
        gemm({ x: cols, w: conv.weight, bias: conv.bias, outDtype: 'f32', out: target });
      } finally {
        cols.dispose();
        target.dispose();
      }
    }
    return out;
  } catch (e) {
    out.dispose();
    throw e;
  }
}

/**
 * The feature cache of one causal convolution on the device (the reference's `feat_map[idx]`): its own handles on the
 * last input frames of the previous chunks, at most {@link WAN_VAE_CACHE_T}, null for a zero frame; `frames` null
 * before the first chunk. `disposeConvCache` frees the handles.
 */
export interface DeviceConvCache {
  frames: (ConvInput | null)[] | null;
}

export function createDeviceConvCache(): DeviceConvCache {
  return { frames: null };
}

export function disposeConvCache(cache: DeviceConvCache): void {
  if (cache.frames !== null) disposeAll(cache.frames);
  cache.frames = null;
}

/**
 * Replaces the cache's frames by the ones the next chunk needs (the reference's `cache_x`): the chunk's last two input
 * frames, or the previous chunk's last and the only one (causal-conv3d.ts `nextCacheFrames`). Frames come in as the
 * caller's; the cache takes its own handles and frees the ones it drops.
 */
export function updateConvCache(cache: DeviceConvCache, x: readonly (ConvInput | null)[]): void {
  const previous = cache.frames;
  const last = x.slice(-WAN_VAE_CACHE_T).map((f) => (f === null ? null : shareTensor(f)));
  let next = last;
  let kept: ConvInput | null | undefined;
  if (last.length < WAN_VAE_CACHE_T && previous !== null && previous.length > 0) {
    kept = previous[previous.length - 1];
    next = [kept ?? null, ...last];
  }
  if (previous !== null) disposeAll(previous.filter((f) => f !== kept));
  cache.frames = next;
}

/**
 * `CausalConv3d` on the device, output frame by output frame: the time padding is kt - 1 frames in front, taken from
 * `cache` (zeros for what it lacks, and all zeros with `cache` null: the uncached call); spatial zero padding inside
 * convIm2col. Output frame t reads padded frames t .. t + kt - 1. With a cache, the slot then holds this chunk's last
 * input frames. Returns one F32 [height * width, cout] frame per input frame (the caller owns them).
 */
export function causalConv(options: {
  scratch: Im2colScratch;
  x: readonly ConvInput[];
  conv: DeviceConv;
  height: number;
  width: number;
  cache: DeviceConvCache | null;
  name?: string;
}): Tensor<'f32'>[] {
  const { scratch, x, conv, height, width, cache } = options;
  const front = conv.kernel[0] - 1;
  const cached = front > 0 ? (cache?.frames ?? []).slice(-front) : [];
  const padded: (ConvInput | null)[] = [...new Array<null>(front - cached.length).fill(null), ...cached, ...x];
  const out: Tensor<'f32'>[] = [];
  try {
    for (let t = 0; t < x.length; t++) {
      out.push(convFrame({ scratch, taps: padded.slice(t, t + front + 1), conv, height, width, name: options.name }));
    }
  } catch (e) {
    disposeAll(out);
    throw e;
  }
  if (cache !== null) updateConvCache(cache, x);
  return out;
}
