/**
 * 3D RoPE of the self-attention (wan21-architecture.md 1.3). The head vector's c = headDim / 2 adjacent pairs
 * (x[2j], x[2j+1]) are split into t, h and w groups of [c - 2 floor(c/3), floor(c/3), floor(c/3)] pairs (22/21/21 at
 * head dim 128); pair j of a group of n pairs turns by the token's integer position p on that axis times
 * `1 / 10000^(2j / (2n))` (the table `rope_params(1024, 2n)`, axis widths 44/42/42). Tokens are raster-ordered,
 * s = (f H' + h) W' + w. The rotation runs in float64 (complex128 in the reference), the result is rounded to float32.
 */
export const ROPE_THETA = 10000;

/** Positions the reference's tables cover per axis (`rope_params(1024, ...)`): a grid side must not exceed it. */
export const ROPE_MAX_POSITIONS = 1024;

/** The pairs of the t, h and w groups: [c - 2 floor(c/3), floor(c/3), floor(c/3)] for c = headDim / 2. */
export function ropeAxisPairs(headDim: number): readonly [number, number, number] {
  const c = headDim / 2;
  const third = Math.floor(c / 3);
  return [c - 2 * third, third, third];
}

/** cos and sin of every (token, pair) angle: [tokens, headDim / 2] each, float64. */
export interface RopeTable {
  readonly tokens: number;
  readonly pairs: number;
  readonly cos: Float64Array;
  readonly sin: Float64Array;
}

/** The rotation angles of every token of the grid [F', H', W'] (patch grid, not latent grid), as cos and sin. */
export function ropeTable(options: { headDim: number; grid: readonly [number, number, number] }): RopeTable {
  const { headDim, grid } = options;
  const axisPairs = ropeAxisPairs(headDim);
  const pairs = headDim / 2;
  // The inverse frequencies of each pair, `1 / theta^(2j / axisDim)` with axisDim = 2 * (pairs of the axis).
  const inverseFrequency = new Float64Array(pairs);
  const axisOf = new Uint8Array(pairs);
  let j = 0;
  axisPairs.forEach((n, axis) => {
    for (let k = 0; k < n; k++, j++) {
      inverseFrequency[j] = 1 / ROPE_THETA ** ((2 * k) / (2 * n));
      axisOf[j] = axis;
    }
  });
  const [frames, height, width] = grid;
  const tokens = frames * height * width;
  const cos = new Float64Array(tokens * pairs);
  const sin = new Float64Array(tokens * pairs);
  const position = [0, 0, 0];
  for (let s = 0; s < tokens; s++) {
    position[0] = Math.floor(s / (height * width));
    position[1] = Math.floor(s / width) % height;
    position[2] = s % width;
    for (let p = 0; p < pairs; p++) {
      const angle = (position[axisOf[p] as number] as number) * (inverseFrequency[p] as number);
      cos[s * pairs + p] = Math.cos(angle);
      sin[s * pairs + p] = Math.sin(angle);
    }
  }
  return { tokens, pairs, cos, sin };
}

/**
 * Rotates q or k in place: `x` is [tokens, numHeads * headDim] (heads side by side, as after the projection), every
 * head turned by the same table; (x0, x1) -> (x0 cos - x1 sin, x0 sin + x1 cos).
 */
export function applyRope(options: { x: Float32Array; numHeads: number; table: RopeTable }): Float32Array {
  const { x, numHeads, table } = options;
  const { tokens, pairs, cos, sin } = table;
  const headDim = 2 * pairs;
  for (let s = 0; s < tokens; s++) {
    for (let h = 0; h < numHeads; h++) {
      const start = (s * numHeads + h) * headDim;
      for (let p = 0; p < pairs; p++) {
        const c = cos[s * pairs + p] as number;
        const n = sin[s * pairs + p] as number;
        const x0 = x[start + 2 * p] as number;
        const x1 = x[start + 2 * p + 1] as number;
        x[start + 2 * p] = x0 * c - x1 * n;
        x[start + 2 * p + 1] = x0 * n + x1 * c;
      }
    }
  }
  return x;
}
