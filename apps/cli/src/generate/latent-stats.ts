// Summary statistics of the sampled latents, for the run manifest: a collapsed or diverged run shows here first.

export interface LatentStats {
  mean: number;
  std: number;
  min: number;
  max: number;
  /** NaN and ±Infinity values, left out of the other statistics. */
  nonFinite: number;
}

export function latentStats(x: Float32Array): LatentStats {
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  let nonFinite = 0;
  for (const v of x) {
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    sum += v;
    sq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const n = Math.max(1, x.length - nonFinite);
  const mean = sum / n;
  return { mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)), min, max, nonFinite };
}
