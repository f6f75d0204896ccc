/**
 * The DiT's two norms over the last dimension (wan21-architecture.md 1.1), on float32 rows, statistics in float64:
 *   WanLayerNorm(x) = (x - mean) / sqrt(var + eps) * weight + bias   biased variance; `norm1`, `norm2` and `head.norm`
 *                                                                    have no weight and bias, `norm3` has both
 *   WanRMSNorm(x)   = (x * rsqrt(mean(x^2) + eps)) * weight          over the full `dim` (all heads), before the split
 *                                                                    into heads; the normalized value is rounded to
 *                                                                    the input dtype before the weight multiplies it
 */

export function layerNorm(options: {
  /** [rows, width], row-major. */
  input: Float32Array;
  rows: number;
  width: number;
  eps: number;
  /** Both or neither (the affine `norm3`). */
  affine?: { weight: Float32Array; bias: Float32Array };
}): Float32Array {
  const { input, rows, width, eps, affine } = options;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const start = r * width;
    let sum = 0;
    for (let i = 0; i < width; i++) sum += input[start + i] as number;
    const mean = sum / width;
    let squares = 0;
    for (let i = 0; i < width; i++) {
      const d = (input[start + i] as number) - mean;
      squares += d * d;
    }
    const inverseStd = 1 / Math.sqrt(squares / width + eps);
    if (affine === undefined) {
      for (let i = 0; i < width; i++) out[start + i] = ((input[start + i] as number) - mean) * inverseStd;
    } else {
      const { weight, bias } = affine;
      for (let i = 0; i < width; i++) {
        out[start + i] = ((input[start + i] as number) - mean) * inverseStd * (weight[i] as number) + (bias[i] as number);
      }
    }
  }
  return out;
}

export function rmsNorm(options: {
  /** [rows, width], row-major. */
  input: Float32Array;
  rows: number;
  width: number;
  eps: number;
  weight: Float32Array;
}): Float32Array {
  const { input, rows, width, eps, weight } = options;
  const out = new Float32Array(rows * width);
  for (let r = 0; r < rows; r++) {
    const start = r * width;
    let squares = 0;
    for (let i = 0; i < width; i++) squares += (input[start + i] as number) ** 2;
    const inverseRms = 1 / Math.sqrt(squares / width + eps);
    for (let i = 0; i < width; i++) {
      // `.type_as(x)` rounds the normalized value to float32 first, then `* self.weight` (1.1).
      out[start + i] = Math.fround((input[start + i] as number) * inverseRms) * (weight[i] as number);
    }
  }
  return out;
}
