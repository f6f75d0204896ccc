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
  const out = new Float32Array(outDim * frames * height * width);
  let at = 0;
  for (let f = 0; f < grid[0]; f++) {
    for (let h = 0; h < grid[1]; h++) {
      for (let w = 0; w < grid[2]; w++) {
        for (let a = 0; a < pt; a++) {
          for (let b = 0; b < ph; b++) {
            for (let d = 0; d < pw; d++) {
              for (let c = 0; c < outDim; c++) {
                out[((c * frames + f * pt + a) * height + h * ph + b) * width + w * pw + d] = tokens[at++] as number;
              }
            }
          }
        }
      }
    }
  }
  return out;
}
