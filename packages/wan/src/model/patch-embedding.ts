/**
 * The patch embedding, `Conv3d(inDim, dim, kernel = stride = patchSize)` (wan21-architecture.md 1.5), as a linear map
 * of each patch: token (f, h, w) = bias + W . x[:, f pt .. f pt + pt-1, h ph .., w pw ..], the patch flattened in the
 * weight's order (c, dt, dh, dw), tokens row-major over (f, h, w).
 */
import { linear } from './linear';

/**
 * The patches of a latent video, one row per token: [F' H' W', inDim pt ph pw], tokens row-major over (f, h, w),
 * each patch in the Conv3d weight's order (c, dt, dh, dw), so that the embedding is one [dim, inDim pt ph pw] GEMM.
 */
export function patchify(options: {
  /** [inDim, F, H, W], row-major; F, H, W multiples of the patch size. */
  latents: Float32Array;
  latentShape: readonly [number, number, number, number];
  patchSize: readonly [number, number, number];
  /** Written in place when given (tokens x inDim pt ph pw values). */
  out?: Float32Array;
}): Float32Array {
  const { latents, latentShape, patchSize } = options;
  const [channels, frames, height, width] = latentShape;
  const [pt, ph, pw] = patchSize;
  const [gh, gw] = [height / ph, width / pw];
  const patchLength = channels * pt * ph * pw;
  const patches = options.out ?? new Float32Array((frames / pt) * gh * gw * patchLength);
  // Walks the latents in memory order (one sequential read; the writes go to pw-wide runs of each token's patch):
  // latent (c, f, y, x) is feature ((c pt + f % pt) ph + y % ph) pw + x % pw of token (f / pt, y / ph, x / pw).
  let at = 0;
  for (let c = 0; c < channels; c++) {
    for (let f = 0; f < frames; f++) {
      const tokenF = Math.floor(f / pt) * gh;
      const featureF = (c * pt + (f % pt)) * ph;
      for (let y = 0; y < height; y++) {
        const tokenRow = (tokenF + Math.floor(y / ph)) * gw;
        const feature = (featureF + (y % ph)) * pw;
        for (let tx = 0; tx < gw; tx++) {
          const dst = (tokenRow + tx) * patchLength + feature;
          for (let dx = 0; dx < pw; dx++) patches[dst + dx] = latents[at++] as number;
        }
      }
    }
  }
  return patches;
}

export function patchEmbedding(options: {
  /** [inDim, F, H, W], row-major; F, H, W multiples of the patch size. */
  latents: Float32Array;
  latentShape: readonly [number, number, number, number];
  patchSize: readonly [number, number, number];
  /** [dim, inDim, pt, ph, pw]. */
  weight: Float32Array;
  bias: Float32Array;
  dim: number;
}): Float32Array {
  const { latents, latentShape, patchSize, weight, bias, dim } = options;
  const patches = patchify({ latents, latentShape, patchSize });
  const tokens = patches.length / (latentShape[0] * patchSize[0] * patchSize[1] * patchSize[2]);
  return linear({ input: patches, rows: tokens, inFeatures: patches.length / tokens, outFeatures: dim, weight, bias });
}
