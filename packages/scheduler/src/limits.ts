/**
 * Upper bounds a schedule config is checked against (each violation is a {@link ConfigError} issue), so a config
 * that validates can also be explained and run without overflowing Int32 index arrays or looping for days.
 *
 * - `maxSteps`: denoising steps D (samplers use tens; 10,000 keeps `explain` and step loops bounded).
 * - `maxLayers`, `maxHeads`: model sizes (far above any DiT; `explain` visits layers x heads calls per step).
 * - `maxHeadDim`: channels per head (attention kernels support up to 256; 1024 leaves room).
 * - `maxTokens`: `frames * height * width`, the Int32 limit of `@fpsattn/tiling`'s index arrays (2^31 - 1).
 * - `maxMaskKeyTiles`: key tiles of one sparse block mask (`numTiles x` window tiles, its CSR `colIdx` length),
 *   the same Int32 limit `@fpsattn/tiling`'s `buildBlockMask` enforces.
 */
export const SCHEDULE_LIMITS = Object.freeze({
  maxSteps: 10_000,
  maxLayers: 4096,
  maxHeads: 4096,
  maxHeadDim: 1024,
  maxTokens: 0x7fffffff,
  maxMaskKeyTiles: 0x7fffffff,
});
