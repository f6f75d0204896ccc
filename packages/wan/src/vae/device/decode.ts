/**
 * The Wan-VAE decoder on a backend (CUDA, or the CPU backend's twins of the same ops): `WanVAE.decode`
 * (wan21-architecture.md 6.1) one latent frame at a time with the two-frame causal feature caches, exactly as the CPU
 * decoder (../decode.ts `wanVaeDecodeCpu`, the reference it is tested against), 21 latent frames -> 81 frames.
 *
 * Layout: activations channels-last, one tensor per frame, F32 [H W, C]: a pixel's channels are one row, so a
 * convolution is im2col rows x weight^T (cuBLASLt writes channels-last directly, no transposes anywhere), a 1x1
 * convolution a plain GEMM, and the channel RMS norm a row norm. The residual stream and every convolution's output
 * are F32, as the reference decodes in float32; what a GEMM reads is BF16 (FP32 accumulation).
 *
 * Per chunk (one latent frame; CPU module in parentheses):
 * ```
 * host    de-normalise, conv2 (1x1x1) in float64, per latent frame channels-last F32    latent-input.ts
 * device  conv1 CausalConv3d k3: convIm2col (BF16 columns, cached frames in front) + gemm, F32 out   conv.ts
 *         residual blocks: channelRmsNorm(+SiLU) -> BF16, conv, norm, conv, + shortcut (gatedResidual)   residual-block.ts
 *         attention (middle): norm, q k vT GEMMs, scores GEMM, softmaxRows, P vT GEMM, proj + x          attention-block.ts
 *         upsample3d: time_conv (3,1,1) as two GEMMs (frame 2t, 2t + 1); 3x3 conv over the nearest 2x
 *         upsampling fused into convIm2col                                                                resample.ts
 *         head: norm + SiLU, CausalConv3d k3 to 3 channels (padded to 8), clampToPlanar -> [3, H W]       decoder.ts
 * host    frames downloaded into [3, T, H, W] (F32 or BF16), onFrame
 * ```
 * Convolutions are chunked by output pixels so that one column matrix stays under `im2colBytes` (default 1 GiB).
 * Deviations from the reference's numerics, all at BF16 resolution: every convolution, GEMM and the attention read
 * BF16 operands (weights and activations rounded once, FP32 accumulation), q, k and the attention output are BF16,
 * V's bias is added after the softmax (exact in exact arithmetic: each row of P sums to 1). Relative L2 against the
 * float32 CPU decoder on the tiny synthetic VAE: 1.6e-2 with BF16-exact weights, 2e-2 with float32 ones (rounding the
 * weights alone costs 1.5e-2 on that random network; decode.test.ts).
 */
import { type Backend, type Tensor, clampToPlanar } from '@fpsattn/kernels';
import { shapeSize } from '../../model/_shape-size';
import { WanInputError } from '../../model/errors';
import { wanVaeOutputShape } from '../layout';
import { disposeAll } from './clip';
import { createDeviceDecoderCache, decodeChunkDevice, disposeDeviceDecoderCache } from './decoder';
import { Im2colScratch, WAN_VAE_IM2COL_BYTES } from './im2col-scratch';
import { wanVaeLatentFrames } from './latent-input';
import type { WanVaeDeviceWeights } from './weights';

export type WanVaeOutputDType = 'f32' | 'bf16';

/** What `onFrame` gets after each latent frame: its decoded frames, clamped to [-1, 1]. */
export interface WanVaeDeviceFrameEvent {
  readonly latentFrame: number;
  readonly latentFrames: number;
  /** Its output frames: `firstFrame .. firstFrame + frameCount - 1` of `totalFrames`. */
  readonly firstFrame: number;
  readonly frameCount: number;
  readonly totalFrames: number;
  readonly height: number;
  readonly width: number;
  /** `[3, frameCount, height, width]`: float32 values, or BF16 bits with outDtype 'bf16' (a copy of the result's). */
  readonly pixels: Float32Array | Uint16Array;
  /** Wall time of this latent frame, from its upload to its frames on the host. */
  readonly ms: number;
}

export interface WanVaeDeviceDecodeOptions {
  /** Normalised latents `[zDim, F, H, W]` row-major, as the sampler returns them. */
  readonly latents: Float32Array;
  readonly latentShape: readonly number[];
  /** The output frames' dtype (default 'f32'). */
  readonly outDtype?: WanVaeOutputDType;
  readonly onFrame?: (event: WanVaeDeviceFrameEvent) => void;
  /** Checked before each latent frame; an abort throws the signal's reason, with everything freed. */
  readonly signal?: AbortSignal;
}

export interface WanVaeDeviceDecodeResult {
  /** `[3, T, H, W]` RGB in [-1, 1]: float32 values, or BF16 bits with outDtype 'bf16'. */
  readonly frames: Float32Array | Uint16Array;
  readonly shape: readonly [number, number, number, number];
  readonly dtype: WanVaeOutputDType;
}

const CALLER = 'WanVaeDeviceDecoder.decode';

function validateInputs(options: WanVaeDeviceDecodeOptions, zDim: number): void {
  const bad = (input: string, value: unknown, rule: string): never => {
    throw new WanInputError({ input, value, rule, caller: CALLER });
  };
  const { latents, latentShape } = options;
  if (!Array.isArray(latentShape) || latentShape.length !== 4 || !latentShape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    bad('latentShape', latentShape, 'expected four integers >= 1 ([zDim, F, H, W])');
  }
  if (latentShape[0] !== zDim) bad('latentShape[0]', latentShape[0], `expected ${zDim} latent channels (zDim)`);
  if (!(latents instanceof Float32Array)) bad('latents', latents, 'expected a Float32Array');
  if (latents.length !== shapeSize(latentShape)) bad('latents', latents, `expected ${shapeSize(latentShape)} values ([${latentShape.join(', ')}])`);
  for (let i = 0; i < latents.length; i++) {
    if (!Number.isFinite(latents[i])) bad(`latents[${i}]`, latents[i], 'expected finite values');
  }
  const outDtype = options.outDtype ?? 'f32';
  if (outDtype !== 'f32' && outDtype !== 'bf16') bad('outDtype', outDtype, "expected 'f32' or 'bf16'");
  if (options.onFrame !== undefined && typeof options.onFrame !== 'function') bad('onFrame', options.onFrame, 'expected a function');
}

/**
 * Decodes latents to video frames on the backend of `weights` (see the file's comment). Stateless between calls: each
 * `decode` makes its caches and column buffer and frees them (and every intermediate) before it returns or throws,
 * so between decodes the device holds only the weights.
 */
export class WanVaeDeviceDecoder {
  readonly weights: WanVaeDeviceWeights;
  /** Bound on one convolution call's BF16 column matrix; convolutions are chunked by output pixels to stay under it. */
  readonly im2colBytes: number;

  constructor(options: { weights: WanVaeDeviceWeights; im2colBytes?: number }) {
    const im2colBytes = options.im2colBytes ?? WAN_VAE_IM2COL_BYTES;
    if (!Number.isSafeInteger(im2colBytes) || im2colBytes < 16) {
      throw new WanInputError({ input: 'im2colBytes', value: im2colBytes, rule: 'expected an integer >= 16 (bytes)', caller: 'WanVaeDeviceDecoder' });
    }
    this.weights = options.weights;
    this.im2colBytes = im2colBytes;
  }

  get backend(): Backend {
    return this.weights.backend;
  }

  async decode(options: WanVaeDeviceDecodeOptions): Promise<WanVaeDeviceDecodeResult> {
    const { weights } = this;
    validateInputs(options, weights.layout.zDim);
    const latentShape = options.latentShape as [number, number, number, number];
    const [z, f, h, w] = latentShape;
    const outDtype = options.outDtype ?? 'f32';
    const shape = wanVaeOutputShape({ config: weights.config, latentShape });
    const [, totalFrames, outH, outW] = shape;
    const outPixels = outH * outW;
    const inputs = wanVaeLatentFrames({ latents: options.latents, latentShape, weight: weights.conv2.weight, bias: weights.conv2.bias });
    const frames = outDtype === 'f32' ? new Float32Array(shapeSize(shape)) : new Uint16Array(shapeSize(shape));
    const scratch = new Im2colScratch({ backend: this.backend, maxBytes: this.im2colBytes });
    const cache = createDeviceDecoderCache(weights);
    try {
      let firstFrame = 0;
      for (let i = 0; i < f; i++) {
        options.signal?.throwIfAborted();
        const start = performance.now();
        const latent = this.backend.fromArray(inputs[i] as Float32Array, [h * w, z], 'f32', { name: `vae.latent${i}` });
        let heads: Tensor<'f32'>[];
        try {
          heads = decodeChunkDevice({ scratch, latent, height: h, width: w, weights, cache });
        } finally {
          latent.dispose();
        }
        const count = heads.length;
        const pixels = outDtype === 'f32' ? new Float32Array(3 * count * outPixels) : new Uint16Array(3 * count * outPixels);
        try {
          for (let t = 0; t < count; t++) {
            const planar = clampToPlanar({ x: heads[t] as Tensor<'f32'>, channels: 3, outDtype, name: 'vae.rgb' });
            try {
              const data = (await planar.download()) as Float32Array | Uint16Array;
              for (let c = 0; c < 3; c++) {
                const plane = data.subarray(c * outPixels, (c + 1) * outPixels);
                frames.set(plane, (c * totalFrames + firstFrame + t) * outPixels);
                pixels.set(plane, (c * count + t) * outPixels);
              }
            } finally {
              planar.dispose();
            }
          }
        } finally {
          disposeAll(heads);
        }
        options.onFrame?.({ latentFrame: i, latentFrames: f, firstFrame, frameCount: count, totalFrames, height: outH, width: outW, pixels, ms: performance.now() - start });
        firstFrame += count;
      }
      return { frames, shape, dtype: outDtype };
    } finally {
      disposeDeviceDecoderCache(cache);
      scratch.dispose();
    }
  }
}
