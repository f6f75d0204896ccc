import { InvalidArgumentError, ShapeMismatchError, decodeFp8, dequantize, quantize } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { thrown } from '../_test/thrown';
import { bf16BitsToFloat32Array } from '../cpu/bf16';
import { CpuBackend } from '../cpu/backend';
import { bitsEqual, randomBf16 } from '../testing';
import { MAX_TOKEN_ROWS } from './_checks';
import { dequantizeV, dequantizeVCpu } from './dequantize-v';
import { quantizeV, quantizeVCpu } from './quantize-v';

const ROWS = 600;
const COLS = 256;

describe('quantizeVCpu', () => {
  it('per-channel scales and transposed codes equal @fpsattn/fp8 channel quantization, padding columns are 0', () => {
    const x = randomBf16(ROWS * COLS, 4, { cols: COLS });
    const tokenStride = 624;
    for (const format of ['e4m3', 'e5m2'] as const) {
      const twin = quantizeVCpu({ v: x, rows: ROWS, cols: COLS, tokenStride, format, codesT: new Uint8Array(COLS * tokenStride).fill(0xab) });
      const ref = quantize({ data: bf16BitsToFloat32Array(x), rows: ROWS, cols: COLS, format, granularity: { kind: 'channel' } });
      expect(bitsEqual(twin.scales, ref.scales)).toBe(-1);
      for (let c = 0; c < COLS; c++) {
        for (let t = 0; t < ROWS; t++) if (twin.codesT[c * tokenStride + t] !== ref.codes[t * COLS + c]) throw new Error(`mismatch at channel ${c}, token ${t}`);
        for (let t = ROWS; t < tokenStride; t++) expect(twin.codesT[c * tokenStride + t]).toBe(0);
      }
      const deq = dequantizeVCpu({ ...twin, rows: ROWS, cols: COLS, tokenStride, format });
      expect(bitsEqual(deq, dequantize({ quantized: ref }))).toBe(-1);
    }
  });

  it('dequantized values are within half an FP8 ulp of the inputs (independent float64 bound)', () => {
    const x = randomBf16(ROWS * COLS, 5, { cols: COLS });
    const f = bf16BitsToFloat32Array(x);
    const { codesT, scales } = quantizeVCpu({ v: x, rows: ROWS, cols: COLS, tokenStride: ROWS, format: 'e4m3' });
    let worst = 0;
    for (let c = 0; c < COLS; c++) {
      const s = scales[c] as number;
      for (let t = 0; t < ROWS; t++) {
        const v = f[t * COLS + c] as number;
        const back = decodeFp8({ code: codesT[c * ROWS + t] as number, format: 'e4m3' }) * s;
        // E4M3: 3 mantissa bits -> relative error <= 2^-4 for normals; absolute 2^-10 * s below the normal range.
        const bound = Math.max(Math.abs(v) * 2 ** -4, 2 ** -10 * s) * (1 + 1e-6);
        worst = Math.max(worst, Math.abs(back - v) / bound);
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('saturates codes of values past the handed-in amax (an amax that does not describe v) instead of making NaN', () => {
    const v = new Uint16Array(2 * 4).fill(0x4000); // 2.0
    const { codesT } = quantizeVCpu({ v, rows: 2, cols: 4, tokenStride: 2, format: 'e4m3', amax: Float32Array.of(1, 1, 1, 1) });
    expect(Array.from(codesT)).toEqual(new Array(8).fill(0x7e)); // 896 saturates to 448, not the NaN code 0x7f
  });

  it('a handed-in amax sets the scales; amax values that are not positive finite numbers give scale 1', () => {
    const v = new Uint16Array(2 * 4).fill(0x3f80); // 1.0
    const amax = Float32Array.of(448, 0, Number.NaN, Number.POSITIVE_INFINITY);
    const { scales, codesT } = quantizeVCpu({ v, rows: 2, cols: 4, tokenStride: 2, format: 'e4m3', amax });
    expect(Array.from(scales)).toEqual([1, 1, 1, 1]);
    expect(codesT[0]).toBe(0x38); // 1.0 at scale 1
    const big = quantizeVCpu({ v, rows: 2, cols: 4, tokenStride: 2, format: 'e4m3', amax: Float32Array.of(896, 3.4028234663852886e38, -1, 2 ** -130) });
    expect(big.scales[0]).toBe(2);
    expect(big.scales[1]).toBe(Math.fround(3.4028234663852886e38 / 448));
    expect(big.scales[2]).toBe(1);
    expect(big.scales[3]).toBe(2 ** -126);
  });
});

describe('quantizeV / dequantizeV', () => {
  const backend = new CpuBackend();
  const rows = 120;
  const xHost = randomBf16(rows * COLS, 9, { cols: COLS });
  const x = backend.fromArray(xHost, [rows, COLS], 'bf16', { name: 'v' });

  it('runs the twin; the token stride defaults to rows rounded up to 16', () => {
    const q = quantizeV({ v: x, format: 'e5m2' });
    expect(q.codesT.shape).toEqual([COLS, 128]);
    expect(q.codesT.dtype).toBe('e5m2');
    expect(q.codesT.name).toBe('v.codesT');
    expect(q.scales.name).toBe('v.scales');
    expect(q).toMatchObject({ rows, format: 'e5m2' });
    const twin = quantizeVCpu({ v: xHost, rows, cols: COLS, tokenStride: 128, format: 'e5m2' });
    expect(bitsEqual(q.codesT.downloadSync(), twin.codesT)).toBe(-1);
    expect(bitsEqual(q.scales.downloadSync(), twin.scales)).toBe(-1);
    const back = dequantizeV({ ...q });
    expect(back.shape).toEqual([rows, COLS]);
    expect(back.name).toBe('v.codesT.dequantized');
    expect(bitsEqual(back.downloadSync(), dequantizeVCpu({ ...twin, rows, cols: COLS, tokenStride: 128, format: 'e5m2' }))).toBe(-1);
    expect(dequantizeV({ ...q, rows: 0, name: 'none' }).shape).toEqual([0, COLS]);
    expect(quantizeV({ v: x.sliceRows(0, 17), format: 'e4m3', name: 'k' }).codesT.shape).toEqual([COLS, 32]);
  });

  it('writes into out and takes an explicit token stride', () => {
    const out = { codesT: backend.empty([COLS, 144], 'e4m3').fillBytes(0xab), scales: backend.empty([COLS], 'f32') };
    const q = quantizeV({ v: x, format: 'e4m3', tokenStride: 144, out });
    expect(q.codesT).toBe(out.codesT);
    expect(bitsEqual(out.codesT.downloadSync(), quantizeVCpu({ v: xHost, rows, cols: COLS, tokenStride: 144, format: 'e4m3' }).codesT)).toBe(-1);
    expect(() => quantizeV({ v: x, format: 'e4m3', out: { codesT: out.codesT, scales: out.scales } })).toThrow(/Shape mismatch for 'out.codesT'.*\[256, 128\].*\[256, 144\]/);
    expect(() => quantizeV({ v: x, format: 'e4m3', tokenStride: 144, out: { codesT: out.codesT, scales: backend.empty([COLS + 1], 'f32') } })).toThrow(/'out.scales'/);
    expect(() => quantizeV({ v: x, format: 'e4m3', tokenStride: 144, out: { scales: out.scales } as never })).toThrow(/'out.codesT': quantizeV expects a Tensor/);
    const T = x.constructor as never as typeof import('../core/tensor').Tensor;
    const onV = <D extends 'e4m3' | 'f32'>(dtype: D, shape: number[]) => new T<D>({ storage: x.storage, dtype, shape });
    expect(thrown(() => quantizeV({ v: x, format: 'e4m3', tokenStride: 128, out: { codesT: onV('e4m3', [COLS, 128]), scales: out.scales } }))).toMatchObject({ argument: 'out.codesT', message: /cannot write into storage it reads \('v'\)/ });
    expect(thrown(() => quantizeV({ v: x, format: 'e4m3', tokenStride: 144, out: { codesT: out.codesT, scales: onV('f32', [COLS]) } }))).toMatchObject({ argument: 'out.scales', message: /cannot write into storage it reads/ });
  });

  it('validates the token stride, the column multiple and the row limit', () => {
    for (const tokenStride of [100, 112, 136, 128.5, MAX_TOKEN_ROWS + 16]) {
      expect(() => quantizeV({ v: x, format: 'e4m3', tokenStride })).toThrow(InvalidArgumentError);
    }
    expect(() => quantizeV({ v: x, format: 'e4m3', tokenStride: 100 })).toThrow(/'tokenStride': expected a multiple of 16 in 120..16776960/);
    expect(quantizeV({ v: backend.empty([16, 0], 'bf16'), format: 'e4m3', tokenStride: MAX_TOKEN_ROWS }).codesT.shape).toEqual([0, MAX_TOKEN_ROWS]); // at the limit
    expect(thrown(() => quantizeV({ v: backend.empty([4, 32], 'bf16'), format: 'e4m3' }))).toMatchObject({ tensor: 'v', expected: 'a multiple of 64 columns', actual: '32 columns' });
    expect(thrown(() => quantizeV({ v: backend.empty([4 * 64], 'bf16'), format: 'e4m3' }))).toMatchObject({ tensor: 'v', expected: 'a 2-D [tokens, heads * headDim] tensor' });
    expect(thrown(() => quantizeV({ v: 'v' as never, format: 'e4m3' }))).toMatchObject({ argument: 'v', message: /quantizeV expects a Tensor/ });
    expect(quantizeV({ v: x, format: 'e4m3', tokenStride: 128 }).codesT.shape).toEqual([COLS, 128]);
    expect(() => quantizeV({ v: backend.empty([4, 32], 'bf16'), format: 'e4m3' })).toThrow(/a multiple of 64 columns.*32 columns/);
    expect(() => quantizeV({ v: backend.empty([4, 64], 'f32') as never, format: 'e4m3' })).toThrow(/'v'.*dtype bf16/);
    expect(() => quantizeV({ v: x, format: 'fp8' as never })).toThrow(/'format'/);
    const v = backend.empty([16, 64], 'bf16');
    expect(() => quantizeV({ v, format: 'e4m3', tokenStride: MAX_TOKEN_ROWS + 16 })).toThrow(/expected a multiple of 16 in 16\.\.16776960/);
    expect(quantizeV({ v: backend.empty([0, 64], 'bf16'), format: 'e4m3' }).codesT.shape).toEqual([64, 0]);
  });

  it('checks the handed-in amax', () => {
    expect(() => quantizeV({ v: x, format: 'e4m3', amax: backend.empty([64], 'f32') })).toThrow(/Shape mismatch for 'amax'/);
    expect(() => quantizeV({ v: x, format: 'e4m3', amax: backend.empty([COLS], 'bf16') as never })).toThrow(/'amax'.*dtype f32/);
    expect(() => quantizeV({ v: x, format: 'e4m3', amax: [1] as never })).toThrow(/'amax': quantizeV expects a Tensor/);
  });

  it('dequantizeV checks codes, scales and rows', () => {
    const q = quantizeV({ v: x, format: 'e4m3' });
    expect(() => dequantizeV({ ...q, rows: 129 })).toThrow(/'rows': expected 0..128 \(the codes' token stride\)/);
    expect(thrown(() => dequantizeV({ ...q, rows: -1 }))).toMatchObject({ argument: 'rows', value: -1 });
    expect(thrown(() => dequantizeV({ ...q, rows: 1.5 }))).toMatchObject({ argument: 'rows', value: 1.5 });
    expect(thrown(() => dequantizeV({ ...q, rows: '4' as never }))).toMatchObject({ argument: 'rows' });
    expect(thrown(() => dequantizeV({ ...q, codesT: q.codesT.reshape([-1]) }))).toMatchObject({ tensor: 'codesT', expected: 'a 2-D [tokens, heads * headDim] tensor' });
    expect(thrown(() => dequantizeV({ ...q, scales: backend.empty([COLS + 64], 'f32') }))).toMatchObject({ tensor: 'scales', expected: '[256]' });
    expect(thrown(() => dequantizeV({ ...q, codesT: 'c' as never }))).toMatchObject({ argument: 'codesT', message: /dequantizeV expects a Tensor/ });
    expect(dequantizeV({ ...q, rows: 128 }).shape).toEqual([128, COLS]);
    expect(() => dequantizeV({ codesT: x as never, scales: q.scales, rows })).toThrow(/'codesT'.*dtype e4m3 or e5m2/);
    expect(() => dequantizeV({ codesT: q.codesT, scales: q.codesT as never, rows })).toThrow(/'scales'.*dtype f32/);
    expect(() => dequantizeV({ codesT: q.codesT, scales: backend.empty([COLS + 64], 'f32'), rows })).toThrow(ShapeMismatchError);
    expect(() => dequantizeV({ codesT: q.codesT.reshape([-1]), scales: q.scales, rows })).toThrow(/a 2-D/);
    expect(() => dequantizeV({ codesT: q.codesT, scales: undefined as never, rows })).toThrow(/'scales': dequantizeV expects a Tensor/);
  });
});
