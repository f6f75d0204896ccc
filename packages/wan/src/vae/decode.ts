import { shapeSize } from '../model/_shape-size';
import { WanInputError } from '../model/errors';
import { checkWanVaeWeights, type WanVaeWeights } from './check-weights';
import { clipFromCthw, clipToCthw, type VaeClip } from './clip';
import { causalConv3d } from './causal-conv3d';
import { type WanVaeConfig, WAN_VAE_LATENT_MEAN, WAN_VAE_LATENT_STD, validateWanVaeConfig } from './config';
import { createWanVaeDecoderCache, decodeChunk, type WanVaeCheckpointName } from './decoder';
import { wanVaeDecoderLayout, wanVaeOutputShape } from './layout';
import { vaeTensor } from './residual-block';

/** What `onFrame` gets after each latent frame: the video frames it decoded, clamped to [-1, 1]. */
export interface WanVaeFrameEvent {
  /** The latent frame just decoded (0-based) and how many there are. */
  readonly latentFrame: number;
  readonly latentFrames: number;
  /** Its output frames: `firstFrame .. firstFrame + frameCount - 1` of `totalFrames` (1 for latent frame 0, 4 after). */
  readonly firstFrame: number;
  readonly frameCount: number;
  readonly totalFrames: number;
  readonly height: number;
  readonly width: number;
  /** `[3, frameCount, height, width]`, RGB in [-1, 1] (a copy of the same values in the result). */
  readonly pixels: Float32Array;
}

/** What `onCheckpoint` gets: an intermediate tensor `[C, T, H, W]` of one chunk, for debugging a port. */
export interface WanVaeCheckpointEvent {
  /** The latent frame (chunk), or null for `conv2`, which runs on all latent frames at once before the chunks. */
  readonly chunk: number | null;
  readonly name: WanVaeCheckpointName | 'conv2';
  readonly shape: readonly [number, number, number, number];
  readonly data: Float32Array;
}

export interface WanVaeDecodeCpuOptions {
  /** The decoder's tensors (checkWanVaeWeights: reference names, float32; the encoder's are ignored). */
  readonly weights: WanVaeWeights;
  readonly config: WanVaeConfig;
  /** Normalised latents `[zDim, F, H, W]` row-major, as the sampler returns them. */
  readonly latents: Float32Array;
  readonly latentShape: readonly number[];
  /** Called after each latent frame with its decoded frames, in order. */
  readonly onFrame?: (event: WanVaeFrameEvent) => void;
  /** Called with the intermediate tensors of every chunk (slow: each is copied to `[C, T, H, W]`). */
  readonly onCheckpoint?: (event: WanVaeCheckpointEvent) => void;
  /** Names the weights in errors (default `weights`). */
  readonly source?: string;
}

export interface WanVaeDecodeResult {
  /** `[3, T, H, W]` RGB in [-1, 1], T = 1 + 4 (F - 1), H and W x8 for the Wan configs (wanVaeOutputShape). */
  readonly frames: Float32Array;
  readonly shape: readonly [number, number, number, number];
}

const CALLER = 'wanVaeDecodeCpu';

function validateInputs(options: WanVaeDecodeCpuOptions): void {
  const bad = (input: string, value: unknown, rule: string): never => {
    throw new WanInputError({ input, value, rule, caller: CALLER });
  };
  const { latents, latentShape, config } = options;
  if (!Array.isArray(latentShape) || latentShape.length !== 4 || !latentShape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    bad('latentShape', latentShape, 'expected four integers >= 1 ([zDim, F, H, W])');
  }
  if (latentShape[0] !== config.zDim) bad('latentShape[0]', latentShape[0], `expected ${config.zDim} latent channels (zDim)`);
  if (!(latents instanceof Float32Array)) bad('latents', latents, 'expected a Float32Array');
  if (latents.length !== shapeSize(latentShape)) bad('latents', latents, `expected ${shapeSize(latentShape)} values ([${latentShape.join(', ')}])`);
  for (let i = 0; i < latents.length; i++) {
    if (!Number.isFinite(latents[i])) bad(`latents[${i}]`, latents[i], 'expected finite values');
  }
  const weights = options.weights as unknown;
  if (!(weights instanceof Map)) bad('weights', weights, 'expected a Map from tensor name to Float32Array');
  if (options.onFrame !== undefined && typeof options.onFrame !== 'function') bad('onFrame', options.onFrame, 'expected a function');
  if (options.onCheckpoint !== undefined && typeof options.onCheckpoint !== 'function') bad('onCheckpoint', options.onCheckpoint, 'expected a function');
}

/**
 * The Wan-VAE decoder on the CPU (`WanVAE.decode`, wan21-architecture.md 6.1), float32 data with float64
 * accumulation, for tiny configs: the latents are de-normalised (`z / (1 / std) + mean` per channel), go through
 * `conv2` (1x1x1), then the decoder runs one latent frame at a time with the two-frame causal feature caches; the
 * output is clamped to [-1, 1]. 21 latent frames give 81 frames. Throws {@link WanInputError},
 * {@link WanConfigError}, {@link WanTensorSetError} or {@link WanTensorShapeError} before any work.
 */
export function wanVaeDecodeCpu(options: WanVaeDecodeCpuOptions): WanVaeDecodeResult {
  const config = validateWanVaeConfig({ config: options.config });
  validateInputs(options);
  const { weights, latents, onFrame, onCheckpoint } = options;
  checkWanVaeWeights({ config, weights, source: options.source ?? 'weights' });
  const layout = wanVaeDecoderLayout(config);
  const [z, f, h, w] = options.latentShape as [number, number, number, number];
  const shape = wanVaeOutputShape({ config, latentShape: options.latentShape });
  const [, totalFrames, outH, outW] = shape;

  // De-normalisation, as WanVAE does it in float32: z / scale[1] + scale[0], scale[1] = 1 / std rounded to float32.
  const hw = h * w;
  const denorm = new Float32Array(latents.length);
  for (let c = 0; c < z; c++) {
    const inverse = Math.fround(1 / Math.fround(WAN_VAE_LATENT_STD[c] as number));
    const mean = Math.fround(WAN_VAE_LATENT_MEAN[c] as number);
    for (let i = c * f * hw; i < (c + 1) * f * hw; i++) denorm[i] = (latents[i] as number) / inverse + mean;
  }
  const x = causalConv3d({
    x: clipFromCthw({ data: denorm, shape: [z, f, h, w], start: 0, count: f }),
    weight: vaeTensor(weights, 'conv2.weight'),
    bias: vaeTensor(weights, 'conv2.bias'),
    cout: z,
    kernel: [1, 1, 1],
    cache: null,
  });
  const report = (chunk: number | null, name: WanVaeCheckpointName | 'conv2', clip: VaeClip): void => {
    onCheckpoint?.({ chunk, name, shape: [clip.channels, clip.frames.length, clip.height, clip.width], data: clipToCthw(clip) });
  };
  if (onCheckpoint !== undefined) report(null, 'conv2', x);

  const out = new Float32Array(shapeSize(shape));
  const outPixels = outH * outW;
  const cache = createWanVaeDecoderCache(layout);
  let firstFrame = 0;
  for (let i = 0; i < f; i++) {
    const chunk: VaeClip = { channels: z, height: h, width: w, frames: [x.frames[i] as Float32Array] };
    const y = decodeChunk({
      x: chunk,
      layout,
      weights,
      cache,
      onCheckpoint: onCheckpoint === undefined ? undefined : (name, clip) => report(i, name, clip),
    });
    const count = y.frames.length;
    const pixels = onFrame === undefined ? null : new Float32Array(3 * count * outPixels);
    y.frames.forEach((frame, t) => {
      for (let c = 0; c < 3; c++) {
        const dst = (c * totalFrames + firstFrame + t) * outPixels;
        const local = (c * count + t) * outPixels;
        for (let p = 0; p < outPixels; p++) {
          const v = Math.min(1, Math.max(-1, frame[c * outPixels + p] as number));
          out[dst + p] = v;
          if (pixels !== null) pixels[local + p] = v;
        }
      }
    });
    if (onFrame !== undefined && pixels !== null) {
      onFrame({ latentFrame: i, latentFrames: f, firstFrame, frameCount: count, totalFrames, height: outH, width: outW, pixels });
    }
    firstFrame += count;
  }
  return { frames: out, shape };
}
