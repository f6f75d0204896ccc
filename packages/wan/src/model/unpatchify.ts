/**
 * Unpatchify (wan21-architecture.md 1.5): the head's token vectors [F' H' W', pt ph pw outDim] back to a video
 * [outDim, F' pt, H' ph, W' pw]; `einsum('fhwpqrc->cfphqwr')`, so within a token the channel runs fastest:
 * out[c, f pt + a, h ph + b, w pw + d] = token(f, h, w)[((a ph + b) pw + d) outDim + c].
 */
export function unpatchify(options: {
  /** [F' H' W', pt * ph * pw * outDim], tokens row-major over (f, h, w). */
  tokens: Float32Array;
  /** The patch grid [F', H', W']. */
  grid: readonly [number, number, number];
  patchSize: readonly [number, number, number];
  outDim: number;
}): Float32Array {
  const { tokens, grid, patchSize, outDim } = options;
  const [pt, ph, pw] = patchSize;
  const [frames, height, width] = [grid[0] * pt, grid[1] * ph, grid[2] * pw];
  const perToken = pt * ph * pw * outDim;
  const out = new Float32Array(outDim * frames * height * width);
  // Writes the video in memory order; each output row reads pw-wide runs of consecutive tokens' vectors.
  let at = 0;
  for (let c = 0; c < outDim; c++) {
    for (let f = 0; f < frames; f++) {
      const tokenF = Math.floor(f / pt) * grid[1];
      const a = f % pt;
      for (let y = 0; y < height; y++) {
        const tokenRow = (tokenF + Math.floor(y / ph)) * grid[2];
        const feature = ((a * ph + (y % ph)) * pw) * outDim + c;
        for (let tx = 0; tx < grid[2]; tx++) {
          const src = (tokenRow + tx) * perToken + feature;
          for (let d = 0; d < pw; d++) out[at++] = tokens[src + d * outDim] as number;
        }
      }
    }
  }
  return out;
}
