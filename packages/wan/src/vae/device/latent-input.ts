import { WAN_VAE_LATENT_MEAN, WAN_VAE_LATENT_STD } from '../config';

/**
 * The decoder's input on the host, as the CPU decoder computes it (../decode.ts): the latents de-normalised per channel
 * as WanVAE does in float32 (`z / (1 / std) + mean`, 1 / std rounded to float32), then `conv2` (1x1x1, zDim -> zDim)
 * with float64 sums rounded once; returned per latent frame, channels-last F32 [h w, zDim] (the device layout).
 * `latents` is [zDim, F, h, w] row-major; `weight` conv2's [zDim, zDim] (its 1x1x1 kernel flattened), `bias` [zDim].
 */
export function wanVaeLatentFrames(options: { latents: Float32Array; latentShape: readonly [number, number, number, number]; weight: Float32Array; bias: Float32Array }): Float32Array[] {
  const { latents, weight, bias } = options;
  const [z, f, h, w] = options.latentShape;
  const hw = h * w;
  const denorm = new Float32Array(latents.length);
  for (let c = 0; c < z; c++) {
    const inverse = Math.fround(1 / Math.fround(WAN_VAE_LATENT_STD[c] as number));
    const mean = Math.fround(WAN_VAE_LATENT_MEAN[c] as number);
    for (let i = c * f * hw; i < (c + 1) * f * hw; i++) denorm[i] = (latents[i] as number) / inverse + mean;
  }
  const frames: Float32Array[] = [];
  for (let t = 0; t < f; t++) {
    const frame = new Float32Array(hw * z);
    for (let o = 0; o < z; o++) {
      for (let p = 0; p < hw; p++) {
        let acc = bias[o] as number;
        for (let c = 0; c < z; c++) acc += (weight[o * z + c] as number) * (denorm[(c * f + t) * hw + p] as number);
        frame[p * z + o] = acc;
      }
    }
    frames.push(frame);
  }
  return frames;
}
