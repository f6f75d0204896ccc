import { InvalidArgumentError, bf16BitsToFloat32, float32ToBf16Bits } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeDitBackend, handleOf } from '../_test/fake-dit-ops';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { seededRandom } from '../testing';
import { CAST_TO_BF16, castToBf16, castToBf16Cpu } from './cast-to-bf16';

/** BF16 bits of a float64 value by the definition: round the float32 value to 8 significant bits, ties to even. */
function bf16Of(v: number): number {
  const f = Math.fround(v);
  if (Number.isNaN(f)) return 0x7fff;
  if (!Number.isFinite(f) || f === 0) return float32ToBf16Bits(f); // sign and infinity carry over unchanged
  const e = Math.max(Math.floor(Math.log2(Math.abs(f))), -126);
  const ulp = 2 ** (e - 7);
  const t = Math.abs(f) / ulp; // exact: a float32 divided by a power of two
  let q = Math.floor(t);
  const frac = t - q;
  if (frac > 0.5 || (frac === 0.5 && q % 2 !== 0)) q += 1; // nearest, ties to even
  const r = q * ulp; // |result|
  const sign = f < 0 ? 0x8000 : 0;
  return sign | (r > 3.3895313892515355e38 ? 0x7f80 : new Uint32Array(new Float32Array([r]).buffer)[0]! >>> 16);
}

/** FP16 value of bits, by the definition. */
function fp16Value(bits: number): number {
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 31;
  const m = bits & 1023;
  if (e === 31) return m ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return e === 0 ? s * m * 2 ** -24 : s * (1 + m / 1024) * 2 ** (e - 15);
}

/** E4M3 (fn) value of a code, by the definition. */
function e4m3Value(c: number): number {
  const s = c & 0x80 ? -1 : 1;
  const e = (c >> 3) & 15;
  const m = c & 7;
  if ((c & 0x7f) === 0x7f) return Number.NaN;
  return e === 0 ? s * m * 2 ** -9 : s * (1 + m / 8) * 2 ** (e - 7);
}

describe('castToBf16Cpu', () => {
  it('rounds float32 to nearest even, overflow to infinity, NaN to 0x7fff, subnormals kept (against the definition)', () => {
    const rnd = seededRandom(31);
    const specials = [0, -0, 1, -1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, 3.4e38, -3.4e38, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN, 2 ** -130, -(2 ** -140), 2 ** -149];
    const values = Float32Array.from([...specials, ...Array.from({ length: 997 }, () => (rnd() * 2 - 1) * 2 ** (rnd() * 60 - 30))]);
    const out = castToBf16Cpu({ src: values, dtype: 'f32' });
    values.forEach((v, i) => expect(out[i], `value ${v}`).toBe(bf16Of(v)));
    expect(out[11]).toBe(0x7fff);
    expect(out[7]).toBe(0x7f80); // 3.4e38 rounds past BF16's largest finite value
  });

  it('applies the scale in float32 before the single rounding', () => {
    const f = Math.fround;
    const src = Float32Array.of(1.5, -3, 7e37, 0);
    const out = castToBf16Cpu({ src, dtype: 'f32', scale: 10.1 });
    expect(Array.from(out)).toEqual(Array.from(src, (v) => float32ToBf16Bits(f(v * f(10.1)))));
    expect(out[2]).toBe(0x7f80); // overflows to infinity
  });

  it('decodes FP16, BF16, E4M3 and E5M2 exactly (every code), NaN codes to 0x7fff', () => {
    const all16 = Uint16Array.from({ length: 65536 }, (_, i) => i);
    const fromF16 = castToBf16Cpu({ src: all16, dtype: 'f16' });
    all16.forEach((b, i) => expect(fromF16[i]).toBe(bf16Of(fp16Value(b))));
    const fromBf16 = castToBf16Cpu({ src: all16, dtype: 'bf16' });
    all16.forEach((b, i) => expect(fromBf16[i]).toBe((b & 0x7fff) > 0x7f80 ? 0x7fff : b)); // identity but NaN
    const all8 = Uint8Array.from({ length: 256 }, (_, i) => i);
    const fromE4m3 = castToBf16Cpu({ src: all8, dtype: 'e4m3', scale: 0.37 });
    all8.forEach((c, i) => expect(fromE4m3[i]).toBe(bf16Of(Math.fround(e4m3Value(c) * Math.fround(0.37)))));
    const fromE5m2 = castToBf16Cpu({ src: all8, dtype: 'e5m2' });
    all8.forEach((c, i) => expect(fromE5m2[i]).toBe(bf16Of(fp16Value(c << 8)))); // an E5M2 code is the top byte of an FP16 code
  });
});

describe('castToBf16', () => {
  const backend = new CpuBackend();

  it('converts on the backend of src into a new bf16 tensor of the same shape', () => {
    const src = backend.fromArray(Float32Array.of(1, 2.5, -7, 1e-3, 5, 6), [2, 3], 'f32', { name: 'w' });
    const out = castToBf16({ src, scale: 2 });
    expect(out.shape).toEqual([2, 3]);
    expect(out.dtype).toBe('bf16');
    expect(out.name).toBe('w.bf16');
    expect(Array.from(out.downloadSync(), bf16BitsToFloat32)).toEqual([2, 5, -14, bf16BitsToFloat32(float32ToBf16Bits(Math.fround(2e-3))), 10, 12]);
    const into = backend.empty([2, 3], 'bf16');
    expect(castToBf16({ src, out: into })).toBe(into);
    expect(castToBf16({ src: backend.empty([0, 4], 'e4m3') }).shape).toEqual([0, 4]);
  });

  it('refuses bad inputs', () => {
    const src = backend.empty([4], 'f32');
    expect(thrown(() => castToBf16({ src: backend.empty([4], 'i32') as never }))).toMatchObject({ tensor: 'src', expected: 'dtype f32 or f16 or bf16 or e4m3 or e5m2' });
    expect(thrown(() => castToBf16({ src, scale: Number.NaN }))).toMatchObject({ argument: 'scale' });
    expect(thrown(() => castToBf16({ src, scale: 1e39 }))).toBeInstanceOf(InvalidArgumentError); // infinite in float32
    expect(thrown(() => castToBf16({ src, out: backend.empty([5], 'bf16') }))).toMatchObject({ tensor: 'out', expected: '[4]' });
    const b = backend.empty([4], 'bf16');
    expect(thrown(() => castToBf16({ src: b, out: b }))).toMatchObject({ argument: 'out' });
  });

  it('sends the declared params on CUDA (fake addon)', () => {
    const { backend: be, opCalls } = fakeDitBackend();
    const src = be.empty([3, 16], 'e4m3');
    const out = castToBf16({ src, scale: 0.1 });
    castToBf16({ src: be.empty([5], 'f16') });
    castToBf16({ src: be.empty([0], 'f32') }); // nothing to convert: no native call
    expect(opCalls.length).toBe(2);
    expect(Object.keys(opCalls[0]!.params)).toEqual(Object.keys(CAST_TO_BF16.fields));
    expect(opCalls[0]!.params).toMatchObject({ src: { handle: handleOf(src), byteLength: 48 }, out: { handle: handleOf(out), byteLength: 96 }, count: 48, source: 'e4m3', hasScale: true, scale: Math.fround(0.1) });
    expect(opCalls[1]!.params).toMatchObject({ count: 5, source: 'f16', hasScale: false, scale: 1 });
  });
});
