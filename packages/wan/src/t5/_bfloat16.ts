const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);

/**
 * `x` rounded to bfloat16 (returned as a number): first to float32 (the reference computes each bf16 op in float32),
 * then to the nearest bfloat16, ties to even, as PyTorch's `.to(torch.bfloat16)`. NaN stays NaN, infinities stay.
 */
export function roundToBfloat16(x: number): number {
  F32[0] = x;
  const bits = U32[0] as number;
  if ((bits & 0x7f80_0000) === 0x7f80_0000) return F32[0] as number; // NaN or infinity
  U32[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff_0000) >>> 0;
  return F32[0] as number;
}
