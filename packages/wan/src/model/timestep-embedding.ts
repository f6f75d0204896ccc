/**
 * The timestep sinusoid (wan21-architecture.md 1.2), in float64 and then rounded to float32 as the reference's
 * `.float()` does:
 * ```
 * half   = freqDim / 2
 * freq_j = 10000^(-j / half),  j = 0 .. half-1
 * emb    = [cos(t freq_0) .. cos(t freq_{half-1}), sin(t freq_0) .. sin(t freq_{half-1})]     # cos first
 * ```
 */
export const SINUSOID_BASE = 10000;

export function timestepSinusoid(options: { timestep: number; freqDim: number }): Float32Array {
  const { timestep, freqDim } = options;
  const half = freqDim / 2;
  const out = new Float32Array(freqDim);
  for (let j = 0; j < half; j++) {
    // torch.pow(10000, -arange(half).div(half)) in float64, then the outer product with t.
    const angle = timestep * SINUSOID_BASE ** (-j / half);
    out[j] = Math.cos(angle);
    out[half + j] = Math.sin(angle);
  }
  return out;
}
