import { type Tensor, channelRmsNorm } from '@fpsattn/kernels';
import { type DeviceClip, disposeAll, disposeClip } from './clip';
import { type DeviceConvCache, causalConv, createDeviceConvCache, disposeConvCache } from './conv';
import type { Im2colScratch } from './im2col-scratch';
import { attentionBlockDevice } from './attention-block';
import { type DeviceResampleCache, createDeviceResampleCache, disposeResampleCache, resampleDevice } from './resample';
import { type DeviceResidualCache, createDeviceResidualCache, disposeResidualCache, residualBlockDevice } from './residual-block';
import type { WanVaeDeviceWeights } from './weights';

/**
 * Every feature cache of `Decoder3d` on the device (CPU: ../decoder.ts `WanVaeDecoderCache`): one slot per cached
 * convolution, made fresh for each video and carried from one latent frame to the next; the slots hold their own
 * handles on device frames, freed by {@link disposeDeviceDecoderCache}.
 */
export interface DeviceDecoderCache {
  readonly conv1: DeviceConvCache;
  readonly middle: readonly [DeviceResidualCache, DeviceResidualCache];
  readonly stages: readonly { readonly residuals: readonly DeviceResidualCache[]; readonly resample: DeviceResampleCache | null }[];
  readonly head: DeviceConvCache;
}

export function createDeviceDecoderCache(weights: WanVaeDeviceWeights): DeviceDecoderCache {
  return {
    conv1: createDeviceConvCache(),
    middle: [createDeviceResidualCache(), createDeviceResidualCache()],
    stages: weights.stages.map((stage) => ({
      residuals: stage.residuals.map(() => createDeviceResidualCache()),
      resample: stage.resample === null ? null : createDeviceResampleCache(),
    })),
    head: createDeviceConvCache(),
  };
}

export function disposeDeviceDecoderCache(cache: DeviceDecoderCache): void {
  disposeConvCache(cache.conv1);
  for (const c of cache.middle) disposeResidualCache(c);
  for (const stage of cache.stages) {
    for (const c of stage.residuals) disposeResidualCache(c);
    if (stage.resample !== null) disposeResampleCache(stage.resample);
  }
  disposeConvCache(cache.head);
}

/** Runs `step` on `x`, then frees `x` (the step returns a new clip), also when the step throws. */
function consume(x: DeviceClip, step: (x: DeviceClip) => DeviceClip): DeviceClip {
  try {
    return step(x);
  } finally {
    disposeClip(x);
  }
}

/**
 * `Decoder3d.forward` on the device for one chunk (CPU: ../decoder.ts `decodeChunk`): one latent frame after `conv2`
 * (channels-last F32 [h w, zDim], the caller's) through conv1, the middle (residual, attention, residual), the
 * upsampling stages and the head (RMS_norm, SiLU, CausalConv3d to 3 channels, padded to 8). Returns the head's frames,
 * F32 [H W, 8] each (1 for the first chunk, 4 after for the Wan configs), owned by the caller.
 */
export function decodeChunkDevice(options: { scratch: Im2colScratch; latent: Tensor<'f32'>; height: number; width: number; weights: WanVaeDeviceWeights; cache: DeviceDecoderCache }): Tensor<'f32'>[] {
  const { scratch, latent, weights, cache } = options;
  const [res0, attn, res1] = weights.middle;
  const first = causalConv({ scratch, x: [latent], conv: weights.conv1, height: options.height, width: options.width, cache: cache.conv1, name: 'vae.conv1' });
  let x: DeviceClip = { channels: weights.conv1.cout, height: options.height, width: options.width, frames: first };
  x = consume(x, (c) => residualBlockDevice({ scratch, x: c, block: res0, cache: cache.middle[0] }));
  x = consume(x, (c) => attentionBlockDevice({ x: c, block: attn }));
  x = consume(x, (c) => residualBlockDevice({ scratch, x: c, block: res1, cache: cache.middle[1] }));
  weights.stages.forEach((stage, i) => {
    const stageCache = cache.stages[i] as DeviceDecoderCache['stages'][number];
    stage.residuals.forEach((block, r) => {
      x = consume(x, (c) => residualBlockDevice({ scratch, x: c, block, cache: stageCache.residuals[r] as DeviceResidualCache }));
    });
    const { resample } = stage;
    if (resample !== null) x = consume(x, (c) => resampleDevice({ scratch, x: c, resample, cache: stageCache.resample }));
  });
  const normed: Tensor<'bf16'>[] = [];
  try {
    for (const frame of x.frames) normed.push(channelRmsNorm({ x: frame, gamma: weights.headNorm, silu: true }));
    return causalConv({ scratch, x: normed, conv: weights.headConv, height: x.height, width: x.width, cache: cache.head, name: 'vae.head' });
  } finally {
    disposeAll(normed);
    disposeClip(x);
  }
}
