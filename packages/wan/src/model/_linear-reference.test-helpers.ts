// linear as it was before the four-rows-at-once loop (commit 98bbc5b), the reference the fast one must match bit for bit.
// (A verbatim copy, renamed.)
/**
 * A PyTorch `Linear` on the CPU: `out[r, o] = bias[o] + sum_i weight[o, i] * input[r, i]`, `weight` row-major
 * [outFeatures, inFeatures] (wan21-architecture.md 3.2). Each sum runs in float64 and is rounded once to float32:
 * the reference (fp32 GEMM) rounds more often, so results agree to about 1e-7 relative, not bit for bit.
 */
export function referenceLinear(options: {
  /** [rows, inFeatures], row-major. */
  input: Float32Array;
  rows: number;
  inFeatures: number;
  outFeatures: number;
  weight: Float32Array;
  bias: Float32Array;
}): Float32Array {
  const { input, rows, inFeatures, outFeatures, weight, bias } = options;
  const out = new Float32Array(rows * outFeatures);
  for (let r = 0; r < rows; r++) {
    const x = r * inFeatures;
    for (let o = 0; o < outFeatures; o++) {
      const w = o * inFeatures;
      let sum = 0;
      let sum2 = 0;
      let i = 0;
      // Two partial sums: shorter dependency chains (about 2x faster in V8); both float64.
      for (; i + 1 < inFeatures; i += 2) {
        sum += (weight[w + i] as number) * (input[x + i] as number);
        sum2 += (weight[w + i + 1] as number) * (input[x + i + 1] as number);
      }
      if (i < inFeatures) sum += (weight[w + i] as number) * (input[x + i] as number);
      out[r * outFeatures + o] = (bias[o] as number) + (sum + sum2);
    }
  }
  return out;
}
