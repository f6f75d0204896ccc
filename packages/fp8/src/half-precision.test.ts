import { describe, expect, it } from 'vitest';
import { bf16BitsToFloat32, decodeBf16Array, encodeBf16Array, float32ToBf16Bits, roundToBf16 } from './bf16';
import { decodeFp16Array, encodeFp16Array, float32ToFp16Bits, fp16BitsToFloat32 } from './fp16';

describe('BF16 and FP16', () => {
  it('round-trips all 65536 BF16 codes (NaNs to the canonical NaN)', () => {
    const codes = new Uint16Array(65536).map((_, i) => i);
    const values = decodeBf16Array({ input: codes });
    const back = encodeBf16Array({ input: values });
    for (let i = 0; i < 65536; i++) {
      const expected = Number.isNaN(values[i]) ? 0x7fff : i;
      if (back[i] !== expected) expect.fail(`bf16 code ${i.toString(16)} came back as ${back[i]?.toString(16)}`);
    }
  });

  it('round-trips all 65536 FP16 codes (NaNs to the canonical NaN)', () => {
    const codes = new Uint16Array(65536).map((_, i) => i);
    const values = decodeFp16Array({ input: codes });
    const back = encodeFp16Array({ input: values });
    for (let i = 0; i < 65536; i++) {
      const expected = Number.isNaN(values[i]) ? 0x7fff : i;
      if (back[i] !== expected) expect.fail(`fp16 code ${i.toString(16)} came back as ${back[i]?.toString(16)}`);
    }
  });

  it.each([
    [1, 0x3f80, 0x3c00],
    [-2, 0xc000, 0xc000],
    [65504, 0x4780, 0x7bff], // BF16 keeps 8 significant bits: 65504 rounds up to 65536
    [65520, 0x4780, 0x7c00], // FP16 tie past the largest finite value rounds to infinity
    [2 ** -24, 0x3380, 0x0001],
  ])('encodes %d as bf16 %i and fp16 %i', (value, bf16, fp16) => {
    expect(float32ToBf16Bits(value)).toBe(bf16);
    expect(float32ToFp16Bits(value)).toBe(fp16);
    expect(fp16BitsToFloat32(fp16)).toBe(Math.fround(value) === 65520 ? Infinity : value);
  });

  it('rounds to BF16 values', () => {
    expect(roundToBf16(1 + 2 ** -8)).toBe(1); // tie to even
    expect(roundToBf16(1 + 3 * 2 ** -8)).toBe(1 + 2 ** -6);
    expect(bf16BitsToFloat32(0xff80)).toBe(-Infinity);
  });

  it('rejects mismatched output buffers', () => {
    expect(() => encodeBf16Array({ input: new Float32Array(3), out: new Uint16Array(2) })).toThrow(/Shape mismatch for 'out': expected length 3, got length 2/);
    expect(() => decodeFp16Array({ input: new Float32Array(2) as unknown as Uint16Array })).toThrow(/expected a Uint16Array, got Float32Array/);
  });
});
