/**
 * The float32 element-wise steps around the norms (wan21-architecture.md 1.4, 1.5, 1.7), each operation rounded to
 * float32 in the reference's order, so they match an fp32 implementation bit for bit:
 *   modulate:      norm(x) * (1 + scale) + shift
 *   gatedResidual: x + y * gate              (the cross-attention's residual has no gate: x + y)
 */
const f32 = Math.fround;

/** The six (block) or two (head) modulation vectors: `modulation[k] + e[k]` in float32, [count, dim]. */
export function modulationVectors(options: { modulation: Float32Array; embedding: Float32Array }): Float32Array {
  const { modulation, embedding } = options;
  const out = new Float32Array(modulation.length);
  for (let i = 0; i < out.length; i++) out[i] = (modulation[i] as number) + (embedding[i] as number);
  return out;
}

/** `normed * (1 + scale) + shift` for every row of [rows, dim]; `scale` and `shift` are [dim] views. */
export function modulate(options: { normed: Float32Array; dim: number; shift: Float32Array; scale: Float32Array }): Float32Array {
  const { normed, dim, shift, scale } = options;
  const onePlusScale = new Float32Array(dim);
  for (let i = 0; i < dim; i++) onePlusScale[i] = 1 + (scale[i] as number);
  const out = new Float32Array(normed.length);
  for (let at = 0; at < normed.length; at += dim) {
    for (let i = 0; i < dim; i++) out[at + i] = f32((normed[at + i] as number) * (onePlusScale[i] as number)) + (shift[i] as number);
  }
  return out;
}

/** `x += y * gate` in place for every row of [rows, dim] (no `gate`: `x += y`); returns x. */
export function gatedResidual(options: { x: Float32Array; y: Float32Array; dim: number; gate?: Float32Array }): Float32Array {
  const { x, y, dim, gate } = options;
  for (let at = 0; at < x.length; at += dim) {
    for (let i = 0; i < dim; i++) {
      const update = gate === undefined ? (y[at + i] as number) : f32((y[at + i] as number) * (gate[i] as number));
      x[at + i] = (x[at + i] as number) + update;
    }
  }
  return x;
}
