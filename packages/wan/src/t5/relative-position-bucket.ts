/**
 * T5's relative position bucket (`T5RelativeEmbedding._relative_position_bucket` of Wan's t5.py,
 * wan21-architecture.md 6.2) of `relativePosition = key index - query index`:
 * ```
 * bidirectional (the encoder): half = numBuckets / 2, keys after the query (r > 0) add half, n = |r|
 * unidirectional (a decoder):  half = numBuckets,      n = max(-r, 0)
 * exact = half / 2
 * bucket += n                                                                  n < exact
 *           min(half - 1, exact + trunc(log(n / exact) / log(maxDistance / exact) * (half - exact)))   otherwise
 * ```
 * For umT5 (32 buckets, max distance 128): 16 per direction, 0..7 exact, then 8 log-spaced buckets up to 128, every
 * farther position in bucket 15 (31 for keys after the query).
 *
 * The reference computes the log branch in float32 (`rel_pos.float()`, a float32 `torch.log`, the Python double
 * `math.log(max_dist / max_exact)` applied as a float32 operand) and truncates with `.long()`; this emulates each step
 * with `Math.fround`, so a quotient that lands just below an integer in float32 truncates as the reference's does.
 */
export function relativePositionBucket(options: {
  relativePosition: number;
  numBuckets: number;
  maxDistance: number;
  /** true in the encoder (the default), false for causal attention. */
  bidirectional?: boolean;
}): number {
  const { relativePosition: r, numBuckets, maxDistance } = options;
  const bidirectional = options.bidirectional ?? true;
  const half = bidirectional ? numBuckets / 2 : numBuckets;
  const base = bidirectional && r > 0 ? half : 0;
  const n = bidirectional ? Math.abs(r) : Math.max(-r, 0);
  const exact = Math.floor(half / 2);
  if (n < exact) return base + n;
  const logRatio = Math.fround(Math.log(Math.fround(Math.fround(n) / exact)));
  const logRange = Math.fround(Math.log(maxDistance / exact));
  const scaled = Math.fround(Math.fround(logRatio / logRange) * (half - exact));
  return base + Math.min(half - 1, exact + Math.trunc(scaled));
}

/**
 * The bucket of every (query i, key j) pair of a sequence of `length` tokens, `buckets[i * length + j]` =
 * bucket(j - i): one table serves every block (only the bias values differ per block).
 */
export function relativePositionBuckets(options: { length: number; numBuckets: number; maxDistance: number }): Int32Array {
  const { length, numBuckets, maxDistance } = options;
  // Bucket by relative position -(length - 1)..(length - 1), then spread over the pairs.
  const byOffset = new Int32Array(2 * length - 1);
  for (let r = -(length - 1); r < length; r++) byOffset[r + length - 1] = relativePositionBucket({ relativePosition: r, numBuckets, maxDistance });
  const out = new Int32Array(length * length);
  for (let i = 0; i < length; i++) {
    for (let j = 0; j < length; j++) out[i * length + j] = byOffset[j - i + length - 1] as number;
  }
  return out;
}
