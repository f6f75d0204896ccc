import { bf16BitsToFloat32 } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeVaeBackend } from '../_test/fake-vae-ops';
import { handleOf } from '../_test/fake-dit-ops';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { randomF32 } from '../testing';
import { SOFTMAX_ROWS, softmaxRows, softmaxRowsCpu } from './softmax-rows';

/** softmax written from its definition: e^{s x_j} / sum_k e^{s x_k} over the valid columns, float64, no max shift. */
function reference(x: Float32Array, rows: number, cols: number, valid: number, scale: number): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const e = Array.from({ length: valid }, (_, j) => Math.exp(scale * x[r * cols + j]!));
    const sum = e.reduce((a, b) => a + b, 0);
    e.forEach((v, j) => (out[r * cols + j] = v / sum));
  }
  return out;
}

describe('softmaxRowsCpu', () => {
  it.each([
    { rows: 5, cols: 24, valid: 24 },
    { rows: 3, cols: 32, valid: 27 },
    { rows: 2, cols: 9, valid: 1 },
  ])('is the definition rounded to BF16, zeros in the padded columns: $rows x $cols, $valid valid', ({ rows, cols, valid }) => {
    const x = randomF32(rows * cols, rows + cols, 6);
    const scale = 1 / Math.sqrt(32);
    const got = softmaxRowsCpu({ x, rows, cols, validCols: valid, scale });
    const want = reference(x, rows, cols, valid, scale);
    for (let r = 0; r < rows; r++) {
      let sum = 0;
      for (let j = 0; j < cols; j++) {
        const g = bf16BitsToFloat32(got[r * cols + j]!);
        const w = want[r * cols + j]!;
        if (j >= valid) expect(got[r * cols + j]).toBe(0);
        else expect(Math.abs(g - w), `row ${r} col ${j}`).toBeLessThanOrEqual(2 ** -8 * w);
        sum += g;
      }
      expect(sum).toBeCloseTo(1, 2);
    }
  });

  it('is stable for large scores (the max is subtracted first): no Infinity or NaN', () => {
    const x = Float32Array.of(1e4, 1e4 - 1, -1e4, 3e4, 3e4);
    const got = Array.from(softmaxRowsCpu({ x, rows: 1, cols: 5, validCols: 5, scale: 1 }), bf16BitsToFloat32);
    expect(got).toEqual([0, 0, 0, 0.5, 0.5]);
  });
});

describe('softmaxRows', () => {
  const backend = new CpuBackend();

  it('turns f32 scores into bf16 probabilities on the backend of x', () => {
    const xs = randomF32(4 * 16, 9, 4);
    const x = backend.fromArray(xs, [4, 16], 'f32', { name: 's' });
    const p = softmaxRows({ x, scale: 0.3, validCols: 13 });
    expect([p.shape, p.dtype, p.name]).toEqual([[4, 16], 'bf16', 's.softmax']);
    expect(Array.from(p.downloadSync())).toEqual(Array.from(softmaxRowsCpu({ x: xs, rows: 4, cols: 16, validCols: 13, scale: Math.fround(0.3) })));
    const into = backend.empty([4, 16], 'bf16');
    expect(softmaxRows({ x, scale: 1, out: into })).toBe(into);
  });

  it('refuses bad shapes, scales and valid column counts', () => {
    const x = backend.empty([2, 8], 'f32');
    expect(thrown(() => softmaxRows({ x: backend.empty([2, 8], 'bf16') as never, scale: 1 }))).toMatchObject({ tensor: 'x', expected: 'dtype f32' });
    expect(thrown(() => softmaxRows({ x: backend.empty([16], 'f32'), scale: 1 }))).toMatchObject({ tensor: 'x' });
    for (const scale of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e39, 1e-50]) expect(thrown(() => softmaxRows({ x, scale }))).toMatchObject({ argument: 'scale' });
    for (const validCols of [0, 9, 2.5]) expect(thrown(() => softmaxRows({ x, scale: 1, validCols }))).toMatchObject({ argument: 'validCols' });
    expect(thrown(() => softmaxRows({ x, scale: 1, out: backend.empty([8, 2], 'bf16') }))).toMatchObject({ tensor: 'out', expected: '[2, 8]' });
  });

  it('sends the declared params on CUDA (fake addon), the scale as float32', () => {
    const { backend: be, opCalls } = fakeVaeBackend();
    const x = be.empty([3, 8], 'f32');
    const out = softmaxRows({ x, scale: 0.1, validCols: 5 });
    expect(Object.keys(opCalls[0]!.params)).toEqual(Object.keys(SOFTMAX_ROWS.fields));
    expect(opCalls[0]!.params).toMatchObject({ x: { handle: handleOf(x), byteLength: 96 }, out: { handle: handleOf(out), byteLength: 48 }, rows: 3, cols: 8, validCols: 5, scale: Math.fround(0.1) });
  });
});
