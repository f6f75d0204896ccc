/** One shared float32 <-> uint32 scratch pair: reinterpretation without allocating. Private. */
const scratchFloat = new Float32Array(1);
const scratchBits = new Uint32Array(scratchFloat.buffer);

export function float32Bits(value: number): number {
  scratchFloat[0] = value;
  return scratchBits[0] as number;
}

export function bitsToFloat32(bits: number): number {
  scratchBits[0] = bits;
  return scratchFloat[0] as number;
}
