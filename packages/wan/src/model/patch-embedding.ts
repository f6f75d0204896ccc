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
  const grid = [frames / pt, height / ph, width / pw] as const;
  const tokens = grid[0] * grid[1] * grid[2];
  const patches = options.out ?? new Float32Array(tokens * channels * pt * ph * pw);
  let at = 0;
  for (let f = 0; f < grid[0]; f++) {
    for (let h = 0; h < grid[1]; h++) {
      for (let w = 0; w < grid[2]; w++) {
        for (let c = 0; c < channels; c++) {
          for (let dt = 0; dt < pt; dt++) {
            for (let dh = 0; dh < ph; dh++) {
              const row = ((c * frames + f * pt + dt) * height + h * ph + dh) * width + w * pw;
              for (let dw = 0; dw < pw; dw++) patches[at++] = latents[row + dw] as number;
            }
          }
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
