import type { VaeClip } from './clip';
import { convFrames } from './conv';

/** Frames a causal convolution keeps between chunks (`CACHE_T` in vae.py). */
export const WAN_VAE_CACHE_T = 2;

/**
 * The feature cache of one causal convolution (one slot of the reference's `feat_map`): the last frames of its
 * *input* in the previous chunks, at most {@link WAN_VAE_CACHE_T}; `null` before the first chunk.
 */
export interface CausalConvCache {
  frames: readonly Float32Array[] | null;
}

export function createCausalConvCache(): CausalConvCache {
  return { frames: null };
}

/** The frames the cache keeps after a chunk `x`: its last two, or the previous chunk's last and its only one. */
export function nextCacheFrames(x: readonly Float32Array[], previous: readonly Float32Array[] | null): Float32Array[] {
  const last = x.slice(-WAN_VAE_CACHE_T);
  if (last.length < WAN_VAE_CACHE_T && previous !== null && previous.length > 0) {
    return [previous[previous.length - 1] as Float32Array, ...last];
  }
  return last;
}

/**
 * `CausalConv3d` (vae.py) with kernel `[cout, cin, kt, kh, kw]`: spatial zero padding `(k - 1) / 2` on both sides;
 * in time `kt - 1` frames in front only, taken from `cache` (the previous chunks' last input frames) and zeros for what
 * it lacks. With a cache the slot then holds this chunk's last frames ({@link nextCacheFrames}); `cache` null is the
 * uncached call (zero padding), e.g. the 1x1x1 `conv2` and shortcuts.
 */
export function causalConv3d(options: {
  x: VaeClip;
  weight: Float32Array;
  bias: Float32Array;
  cout: number;
  kernel: readonly [number, number, number];
  cache: CausalConvCache | null;
}): VaeClip {
  const { x, cache, kernel } = options;
  const front = kernel[0] - 1;
  const cached = cache?.frames ?? [];
  const prefix: (Float32Array | null)[] = front > 0 ? cached.slice(-front) : [];
  while (prefix.length < front) prefix.unshift(null);
  const frames = convFrames({
    frames: [...prefix, ...x.frames],
    cin: x.channels,
    height: x.height,
    width: x.width,
    weight: options.weight,
    bias: options.bias,
    cout: options.cout,
    kernel,
  });
  if (cache !== null) cache.frames = nextCacheFrames(x.frames, cache.frames);
  return { channels: options.cout, height: x.height, width: x.width, frames };
}
