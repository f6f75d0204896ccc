/**
 * The channel RMS norm of the VAE (`RMS_norm`, vae.py): `F.normalize(x, dim=channels) * sqrt(C) * gamma`, i.e. at
 * each pixel `x_c / max(||x||_2, 1e-12) * sqrt(C) * gamma_c` (no bias: the decoder's norms are built with
 * `bias=False`), optionally followed by SiLU (`x * sigmoid(x)`), as in every norm of the decoder but the attention's.
 * One frame `[C, H, W]`; float64 inside, one rounding to float32.
 */
export function channelRmsNorm(options: { frame: Float32Array; channels: number; pixels: number; gamma: Float32Array; silu: boolean }): Float32Array {
  const { frame, channels: c, pixels: hw, gamma, silu } = options;
  const out = new Float32Array(c * hw);
  const sumSquares = new Float64Array(hw);
  for (let ch = 0; ch < c; ch++) {
    const base = ch * hw;
    for (let p = 0; p < hw; p++) {
      const v = frame[base + p] as number;
      sumSquares[p] = (sumSquares[p] as number) + v * v;
    }
  }
  const root = Math.sqrt(c);
  const scale = new Float64Array(hw);
  for (let p = 0; p < hw; p++) scale[p] = root / Math.max(Math.sqrt(sumSquares[p] as number), 1e-12);
  for (let ch = 0; ch < c; ch++) {
    const base = ch * hw;
    const g = gamma[ch] as number;
    for (let p = 0; p < hw; p++) {
      const y = (frame[base + p] as number) * (scale[p] as number) * g;
      out[base + p] = silu ? y / (1 + Math.exp(-y)) : y;
    }
  }
  return out;
}
