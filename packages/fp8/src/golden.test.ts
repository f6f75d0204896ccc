import { fileURLToPath } from 'node:url';
import { describe, expect, inject, it } from 'vitest';
import { encodeBf16Array, float32ToBf16Bits } from './bf16';
import { decodeFp8 } from './decode-fp8';
import { encodeFp8 } from './encode-fp8';
import { encodeFp8Array } from './encode-fp8-array';
import { encodeFp16Array, float32ToFp16Bits } from './fp16';
import type { Fp8Format } from './formats';
import { type GoldenVectors, readGoldenVectors } from './testing/golden-vectors';

const boundaryPath = fileURLToPath(new URL('../golden/fp8-golden-boundaries.bin', import.meta.url));
const full = inject('fullGoldenVectors');

const hex = (n: number, width: number) => `0x${n.toString(16).padStart(width, '0')}`;

/** Compares two code arrays and describes the first few mismatches with their float32 inputs. */
function mismatches(golden: GoldenVectors, expected: ArrayLike<number>, actual: ArrayLike<number>, width: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < golden.count && out.length < 5; i++) {
    if (expected[i] !== actual[i]) {
      out.push(`input ${hex(golden.inputBits[i] as number, 8)} (${golden.inputs[i]}): CUDA ${hex(expected[i] as number, width)}, ours ${hex(actual[i] as number, width)}`);
    }
  }
  return out;
}

const cases: Array<{ format: Fp8Format; saturate: boolean; key: 'e4m3Sat' | 'e4m3NoSat' | 'e5m2Sat' | 'e5m2NoSat' }> = [
  { format: 'e4m3', saturate: true, key: 'e4m3Sat' },
  { format: 'e4m3', saturate: false, key: 'e4m3NoSat' },
  { format: 'e5m2', saturate: true, key: 'e5m2Sat' },
  { format: 'e5m2', saturate: false, key: 'e5m2NoSat' },
];

function describeGolden(name: string, load: () => GoldenVectors, minimumCount: number): void {
  describe(name, () => {
    const golden = load();

    it(`holds at least ${minimumCount} vectors`, () => {
      expect(golden.count).toBeGreaterThanOrEqual(minimumCount);
    });

    it.each(['e4m3', 'e5m2'] as const)('decodes all 256 %s codes like CUDA', (format) => {
      const table = format === 'e4m3' ? golden.decodeE4m3 : golden.decodeE5m2;
      for (let code = 0; code < 256; code++) {
        const ours = decodeFp8({ code, format });
        const cuda = table[code] as number;
        if (Number.isNaN(cuda)) expect(ours, `code ${hex(code, 2)}`).toBeNaN();
        else expect(Object.is(ours, cuda), `code ${hex(code, 2)}: CUDA ${cuda}, ours ${ours}`).toBe(true);
      }
    });

    it.each(cases)('encodes like CUDA: $format saturate=$saturate (scalar encodeFp8)', ({ format, saturate, key }) => {
      const ours = new Uint8Array(golden.count);
      for (let i = 0; i < golden.count; i++) ours[i] = encodeFp8({ value: golden.inputs[i] as number, format, saturate });
      expect(mismatches(golden, golden[key], ours, 2)).toEqual([]);
    });

    it.each(cases)('encodes like CUDA: $format saturate=$saturate (bulk encodeFp8Array)', ({ format, saturate, key }) => {
      const ours = encodeFp8Array({ input: golden.inputs, format, saturate });
      expect(mismatches(golden, golden[key], ours, 2)).toEqual([]);
    });

    it('rounds to BF16 like __float2bfloat16_rn (bulk and scalar)', () => {
      expect(mismatches(golden, golden.bf16, encodeBf16Array({ input: golden.inputs }), 4)).toEqual([]);
      const scalar = Uint16Array.from(golden.inputs, (x) => float32ToBf16Bits(x));
      expect(mismatches(golden, golden.bf16, scalar, 4)).toEqual([]);
    });

    it('rounds to FP16 like __float2half_rn (bulk and scalar)', () => {
      expect(mismatches(golden, golden.fp16, encodeFp16Array({ input: golden.inputs }), 4)).toEqual([]);
      const scalar = Uint16Array.from(golden.inputs, (x) => float32ToFp16Bits(x));
      expect(mismatches(golden, golden.fp16, scalar, 4)).toEqual([]);
    });
  });
}

describeGolden('CUDA golden vectors: committed boundary set', () => readGoldenVectors(boundaryPath), 20_000);

if (full.path !== undefined) {
  const path = full.path;
  describeGolden('CUDA golden vectors: full set generated at test time', () => readGoldenVectors(path), 1_000_000);
} else if (full.error !== undefined) {
  const error = full.error;
  describe('CUDA golden vectors: full set generated at test time', () => {
    it('builds the generator and the vectors', () => {
      throw new Error(error);
    });
  });
} else {
  describe('CUDA golden vectors: full set generated at test time', () => {
    it.skip(`skipped: ${full.reason}`, () => {});
  });
}
