import type { WanVaeWeights } from './check-weights';
import type { VaeClip } from './clip';
import { type CausalConvCache, causalConv3d, WAN_VAE_CACHE_T } from './causal-conv3d';
import { convFrames } from './conv';
import type { WanVaeResampleSpec } from './layout';
import { vaeTensor } from './residual-block';

/**
 * The cache slot of an `upsample3d` (the reference's `feat_map[idx]`): `empty` before the first chunk, `rep` after it
 * (the reference's `'Rep'` marker: the first chunk was not upsampled in time), then the time convolution's input
 * frames like any causal cache.
 */
export interface ResampleCache {
  state: 'empty' | 'rep' | 'frames';
  readonly conv: CausalConvCache;
}

export function createResampleCache(): ResampleCache {
  return { state: 'empty', conv: { frames: null } };
}

/** Nearest ("nearest-exact", scale 2) upsampling of one frame `[c, h, w]` to `[c, 2h, 2w]`: out[y][x] = in[y >> 1][x >> 1]. */
export function upsampleNearest2x(options: { frame: Float32Array; channels: number; height: number; width: number }): Float32Array {
  const { frame, channels, height: h, width: w } = options;
  const w2 = 2 * w;
  const out = new Float32Array(channels * 4 * h * w);
  for (let c = 0; c < channels; c++) {
    for (let y = 0; y < 2 * h; y++) {
      const src = (c * h + (y >> 1)) * w;
      const dst = (c * 2 * h + y) * w2;
      for (let x = 0; x < w2; x++) out[dst + x] = frame[src + (x >> 1)] as number;
    }
  }
  return out;
}

/**
 * `Resample` in mode `upsample2d` or `upsample3d` (vae.py): for `upsample3d` first the time upsampling, then per frame
 * a nearest x2 upsampling and a 3x3 Conv2d `dim -> dim / 2` (`resample.1`).
 *
 * Time upsampling, chunk by chunk: the first chunk is not upsampled (the cache becomes `rep`, so the first latent
 * frame gives one frame); later chunks run `time_conv` (CausalConv3d (3,1,1), `dim -> 2 dim`) with zero causal
 * padding on the chunk after the first (state `rep`, whose one-frame cache gets a zero frame in front) and the cached
 * frames afterwards, then interleave: output frame 2t is channels [0, dim) of time_conv's frame t, 2t + 1 channels
 * [dim, 2 dim).
 */
export function resample(options: { x: VaeClip; spec: WanVaeResampleSpec; weights: WanVaeWeights; cache: ResampleCache }): VaeClip {
  const { spec, weights, cache } = options;
  let { x } = options;
  const w = (name: string): Float32Array => vaeTensor(weights, `${spec.prefix}.${name}`);
  const c = spec.dim;
  if (spec.mode === 'upsample3d') {
    if (cache.state === 'empty') {
      cache.state = 'rep';
    } else {
      const pixels = x.height * x.width;
      let next = x.frames.slice(-WAN_VAE_CACHE_T);
      if (next.length < WAN_VAE_CACHE_T) {
        const previous = cache.state === 'frames' ? (cache.conv.frames?.at(-1) as Float32Array) : new Float32Array(c * pixels);
        next = [previous, ...next];
      }
      // State rep: the reference calls time_conv without a cache (zero padding).
      const convCache = { frames: cache.state === 'frames' ? cache.conv.frames : null };
      const y = causalConv3d({ x, weight: w('time_conv.weight'), bias: w('time_conv.bias'), cout: 2 * c, kernel: [3, 1, 1], cache: convCache });
      cache.conv.frames = next;
      cache.state = 'frames';
      const frames: Float32Array[] = [];
      for (const frame of y.frames) frames.push(frame.slice(0, c * pixels), frame.slice(c * pixels));
      x = { channels: c, height: x.height, width: x.width, frames };
    }
  }
  const h2 = 2 * x.height;
  const w2 = 2 * x.width;
  const up = x.frames.map((frame) => upsampleNearest2x({ frame, channels: c, height: x.height, width: x.width }));
  const frames = convFrames({ frames: up, cin: c, height: h2, width: w2, weight: w('resample.1.weight'), bias: w('resample.1.bias'), cout: c / 2, kernel: [1, 3, 3] });
  return { channels: c / 2, height: h2, width: w2, frames };
}
