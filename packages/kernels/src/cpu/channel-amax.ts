import { bf16BitsToFloat32Array } from './bf16';

/**
 * Per-channel max |x| over the finite values of BF16 [rows, cols] (0 for a channel with none), as float32: the twin of
 * the amax the tile-major gather computes for V (gatherRows { amax }) and of quantizeV's first pass.
 */
export function channelAmaxCpu(x: Uint16Array, rows: number, cols: number, out: Float32Array = new Float32Array(cols)): Float32Array {
  out.fill(0);
  const row = new Float32Array(cols);
  // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
  for (let r = 0; r < rows; r++) {
    bf16BitsToFloat32Array(x.subarray(r * cols, (r + 1) * cols), row);
    // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(row[c] as number);
      // Stryker disable next-line EqualityOperator: a >= max keeps the same maximum
      if (a > (out[c] as number) && a !== Infinity) out[c] = a; // NaN fails the comparison
    }
  }
  return out;
}
