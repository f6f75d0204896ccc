import { attentionBlock } from './attention-block';
import type { WanVaeWeights } from './check-weights';
import type { VaeClip } from './clip';
import { type CausalConvCache, causalConv3d, createCausalConvCache } from './causal-conv3d';
import type { WanVaeDecoderLayout } from './layout';
import { createResampleCache, type ResampleCache, resample } from './resample';
import { createResidualBlockCache, type ResidualBlockCache, residualBlock, vaeTensor } from './residual-block';
import { channelRmsNorm } from './rms-norm';

/**
 * Every feature cache of `Decoder3d` (the reference's `feat_map` after `clear_cache`), one slot per cached
 * convolution: made fresh for each video, carried from one latent frame to the next.
 */
export interface WanVaeDecoderCache {
  readonly conv1: CausalConvCache;
  readonly middle: readonly [ResidualBlockCache, ResidualBlockCache];
  readonly stages: readonly { readonly residuals: readonly ResidualBlockCache[]; readonly resample: ResampleCache | null }[];
  readonly head: CausalConvCache;
}

export function createWanVaeDecoderCache(layout: WanVaeDecoderLayout): WanVaeDecoderCache {
  return {
    conv1: createCausalConvCache(),
    middle: [createResidualBlockCache(), createResidualBlockCache()],
    stages: layout.stages.map((stage) => ({
      residuals: stage.residuals.map(() => createResidualBlockCache()),
      resample: stage.resample === null ? null : createResampleCache(),
    })),
    head: createCausalConvCache(),
  };
}

/**
 * The checkpoints `Decoder3d` reports for each chunk: `conv1`, `middle` (after the attention and both residual
 * blocks), `upsample<i>` (after stage i: its residual blocks and upsampling), `head` (the 3-channel output before the
 * clamp).
 */
export type WanVaeCheckpointName = 'conv1' | 'middle' | `upsample${number}` | 'head';

/**
 * `Decoder3d.forward` on one chunk (one latent frame after `conv2`, `[zDim, 1, h, w]`) with its caches: conv1
 * (CausalConv3d k3), middle, the upsampling stages, head (RMS_norm, SiLU, CausalConv3d k3 to 3 channels).
 */
export function decodeChunk(options: {
  x: VaeClip;
  layout: WanVaeDecoderLayout;
  weights: WanVaeWeights;
  cache: WanVaeDecoderCache;
  onCheckpoint?: (name: WanVaeCheckpointName, clip: VaeClip) => void;
}): VaeClip {
  const { layout, weights, cache, onCheckpoint } = options;
  const w = (name: string): Float32Array => vaeTensor(weights, name);
  let x = causalConv3d({ x: options.x, weight: w('decoder.conv1.weight'), bias: w('decoder.conv1.bias'), cout: layout.dims[0] as number, kernel: [3, 3, 3], cache: cache.conv1 });
  onCheckpoint?.('conv1', x);
  x = residualBlock({ x, spec: layout.middle[0], weights, cache: cache.middle[0] });
  x = attentionBlock({ x, spec: layout.middle[1], weights });
  x = residualBlock({ x, spec: layout.middle[2], weights, cache: cache.middle[1] });
  onCheckpoint?.('middle', x);
  layout.stages.forEach((stage, i) => {
    const stageCache = cache.stages[i] as WanVaeDecoderCache['stages'][number];
    stage.residuals.forEach((spec, r) => {
      x = residualBlock({ x, spec, weights, cache: stageCache.residuals[r] as ResidualBlockCache });
    });
    if (stage.resample !== null) x = resample({ x, spec: stage.resample, weights, cache: stageCache.resample as ResampleCache });
    onCheckpoint?.(`upsample${i}`, x);
  });
  const pixels = x.height * x.width;
  const gamma = w('decoder.head.0.gamma');
  const normed: VaeClip = { ...x, frames: x.frames.map((frame) => channelRmsNorm({ frame, channels: x.channels, pixels, gamma, silu: true })) };
  x = causalConv3d({ x: normed, weight: w('decoder.head.2.weight'), bias: w('decoder.head.2.bias'), cout: 3, kernel: [3, 3, 3], cache: cache.head });
  onCheckpoint?.('head', x);
  return x;
}
