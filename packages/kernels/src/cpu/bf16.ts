/** BF16 bit patterns widened exactly to float32. */
export function bf16BitsToFloat32Array(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  const u32 = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) u32[i] = (bits[i] as number) << 16;
  return out;
}
