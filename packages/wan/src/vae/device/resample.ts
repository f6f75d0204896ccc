import type { Tensor } from '@fpsattn/kernels';
import { WAN_VAE_CACHE_T } from '../causal-conv3d';
import { type DeviceClip, disposeAll, shareTensor } from './clip';
import { type ConvInput, type DeviceConv, type DeviceConvCache, convFrame, createDeviceConvCache, disposeConvCache } from './conv';
import type { Im2colScratch } from './im2col-scratch';
import type { DeviceResample } from './weights';

/**
 * The cache slot of an `upsample3d` on the device (CPU: ../resample.ts `ResampleCache`): `empty` before the first
 * chunk, `rep` after it (the first chunk is not upsampled in time), then `frames`: the time convolution's last input
 * frames (F32 residual frames; null for the zero frame the reference puts in front after `rep`).
 */
export interface DeviceResampleCache {
  state: 'empty' | 'rep' | 'frames';
  readonly conv: DeviceConvCache;
}

export function createDeviceResampleCache(): DeviceResampleCache {
  return { state: 'empty', conv: createDeviceConvCache() };
}

export function disposeResampleCache(cache: DeviceResampleCache): void {
  disposeConvCache(cache.conv);
}

/**
 * Time upsampling of a chunk (`upsample3d` after the first chunk): `time_conv` (CausalConv3d (3,1,1), dim -> 2 dim)
 * with zero causal padding in state `rep` and the cached frames in state `frames`; its output channels [0, dim) are
 * frame 2t and [dim, 2 dim) frame 2t + 1, computed as two GEMMs on the same columns' weight halves (no interleave).
 * The cache then holds the chunk's last two input frames, or [previous last (a zero frame after `rep`), the only one].
 */
function timeUpsample(options: { scratch: Im2colScratch; x: DeviceClip; resample: DeviceResample; cache: DeviceResampleCache }): Tensor<'f32'>[] {
  const { scratch, x, resample, cache } = options;
  const [even, odd] = resample.timeConv as readonly [DeviceConv, DeviceConv];
  const cached: (ConvInput | null)[] = cache.state === 'frames' ? (cache.conv.frames ?? []).slice(-2) : [];
  const padded: (ConvInput | null)[] = [...new Array<null>(2 - cached.length).fill(null), ...cached, ...x.frames];
  const out: Tensor<'f32'>[] = [];
  try {
    for (let t = 0; t < x.frames.length; t++) {
      const taps = padded.slice(t, t + 3);
      for (const conv of [even, odd]) out.push(convFrame({ scratch, taps, conv, height: x.height, width: x.width, name: 'vae.time_conv' }));
    }
  } catch (e) {
    disposeAll(out);
    throw e;
  }
  // The next chunk's cache (the reference's cache_x), built before the old one is released.
  const last: (ConvInput | null)[] = x.frames.slice(-WAN_VAE_CACHE_T).map((f) => shareTensor(f));
  const previous = cache.conv.frames;
  let kept: ConvInput | null = null;
  if (last.length < WAN_VAE_CACHE_T) {
    kept = cache.state === 'frames' ? ((previous ?? []).at(-1) ?? null) : null;
    last.unshift(kept);
  }
  if (previous !== null) disposeAll(previous.filter((f) => f !== kept));
  cache.conv.frames = last;
  cache.state = 'frames';
  return out;
}

/**
 * `Resample` (`upsample2d`, `upsample3d`) on the device (CPU: ../resample.ts): for `upsample3d` first the time
 * upsampling (none on the first chunk, whose cache becomes `rep`), then per frame the 3x3 convolution dim -> dim / 2
 * over the nearest 2x upsampling, the upsampling fused into the columns (convIm2col `upsample`). Returns a new clip;
 * `x` stays the caller's.
 */
export function resampleDevice(options: { scratch: Im2colScratch; x: DeviceClip; resample: DeviceResample; cache: DeviceResampleCache | null }): DeviceClip {
  const { scratch, x, resample } = options;
  let frames: readonly Tensor<'f32'>[] = x.frames;
  let owned: Tensor<'f32'>[] = [];
  if (resample.mode === 'upsample3d') {
    const cache = options.cache as DeviceResampleCache;
    if (cache.state === 'empty') cache.state = 'rep';
    else frames = owned = timeUpsample({ scratch, x, resample, cache });
  }
  const height = 2 * x.height;
  const width = 2 * x.width;
  const out: Tensor<'f32'>[] = [];
  try {
    for (const frame of frames) out.push(convFrame({ scratch, taps: [frame], conv: resample.conv, height, width, upsample: true, name: 'vae.resample' }));
    return { channels: resample.dim / 2, height, width, frames: out };
  } catch (e) {
    disposeAll(out);
    throw e;
  } finally {
    disposeAll(owned);
  }
}
