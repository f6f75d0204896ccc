/**
 * A PyTorch `Linear` on the CPU: `out[r, o] = bias[o] + sum_i weight[o, i] * input[r, i]`, `weight` row-major
 * [outFeatures, inFeatures] (wan21-architecture.md 3.2). Each sum runs in float64 and is rounded once to float32:
 * the reference (fp32 GEMM) rounds more often, so results agree to about 1e-7 relative, not bit for bit.
 *
 * Every sum is two partial sums (even and odd i, in order of i) added at the end: that order is the contract (the
 * CPU forward's results depend on it to the bit), and the loops below only change what runs beside it.
 */
export function linear(options: {
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
    const y = r * outFeatures;
    let o = 0;
    for (; o + 3 < outFeatures; o += 4) dot4({ input, x, weight, w: o * inFeatures, inFeatures, bias, o, out, at: y + o });
    for (; o < outFeatures; o++) out[y + o] = (bias[o] as number) + dot(input, x, weight, o * inFeatures, inFeatures);
  }
  return out;
}

/**
 * `sum_i weight[w + i] * input[x + i]` as two partial sums (even i, odd i); both float64. The order every CPU
 * `Linear` of the package sums in (the umT5 encoder's `linearNoBias` too).
 */
export function dot(input: Float32Array | Float64Array, x: number, weight: Float32Array, w: number, n: number): number {
  let sum = 0;
  let sum2 = 0;
  let i = 0;
  // Two partial sums: shorter dependency chains (about 2x faster in V8).
  for (; i + 1 < n; i += 2) {
    sum += (weight[w + i] as number) * (input[x + i] as number);
    sum2 += (weight[w + i + 1] as number) * (input[x + i + 1] as number);
  }
  if (i < n) sum += (weight[w + i] as number) * (input[x + i] as number);
  return sum + sum2;
}

/**
 * Outputs o .. o + 3 (weight rows w, w + n, w + 2n, w + 3n) at once, each summed exactly as `dot` sums it: eight
 * independent chains instead of two, and each input value read once for four rows. For a single input row (the
 * host time MLP of the device forward, a GEMV) this is about 2x faster than one output at a time.
 */
function dot4(options: {
  input: Float32Array; x: number; weight: Float32Array; w: number; inFeatures: number;
  bias: Float32Array; o: number; out: Float32Array; at: number;
}): void {
  const { input, x, weight, w, inFeatures: n, bias, o, out, at } = options;
  const w1 = w + n;
  const w2 = w1 + n;
  const w3 = w2 + n;
  let a = 0, a2 = 0, b = 0, b2 = 0, c = 0, c2 = 0, d = 0, d2 = 0; // (even, odd) partial sums of the four rows
  let i = 0;
  for (; i + 1 < n; i += 2) {
    const v = input[x + i] as number;
    const v2 = input[x + i + 1] as number;
    a += (weight[w + i] as number) * v;
    a2 += (weight[w + i + 1] as number) * v2;
    b += (weight[w1 + i] as number) * v;
    b2 += (weight[w1 + i + 1] as number) * v2;
    c += (weight[w2 + i] as number) * v;
    c2 += (weight[w2 + i + 1] as number) * v2;
    d += (weight[w3 + i] as number) * v;
    d2 += (weight[w3 + i + 1] as number) * v2;
  }
  if (i < n) {
    const v = input[x + i] as number;
    a += (weight[w + i] as number) * v;
    b += (weight[w1 + i] as number) * v;
    c += (weight[w2 + i] as number) * v;
    d += (weight[w3 + i] as number) * v;
  }
  out[at] = (bias[o] as number) + (a + a2);
  out[at + 1] = (bias[o + 1] as number) + (b + b2);
  out[at + 2] = (bias[o + 2] as number) + (c + c2);
  out[at + 3] = (bias[o + 3] as number) + (d + d2);
}
