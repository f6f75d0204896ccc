import { InvalidArgumentError, bf16BitsToFloat32 } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeDitBackend, handleOf } from '../_test/fake-dit-ops';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { bitsEqual, randomBf16, randomF32 } from '../testing';
import { GATED_RESIDUAL, gatedResidual, gatedResidualCpu } from './gated-residual';

/** x + f32(y * g) per element, each operation in float64 then rounded to float32 (written out plainly). */
function reference(x: Float32Array, y: ArrayLike<number>, gate: Float32Array | null, rows: number, dim: number, rowsPerItem: number): Float32Array {
  const out = new Float32Array(x.length);
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < dim; c++) {
      const g = gate === null ? 1 : gate[Math.floor(r / rowsPerItem) * dim + c]!;
      const product = gate === null ? y[r * dim + c]! : Math.fround(y[r * dim + c]! * g);
      out[r * dim + c] = Math.fround(x[r * dim + c]! + product);
    }
  }
  return out;
}

describe('gatedResidualCpu', () => {
  it.each([
    { rows: 6, dim: 40, rowsPerItem: 3, yDtype: 'bf16' },
    { rows: 5, dim: 13, rowsPerItem: 5, yDtype: 'f32' },
    { rows: 4, dim: 7, rowsPerItem: 1, yDtype: 'bf16' },
  ] as const)('adds y * gate[item] in float32, product and sum each rounded once ($rows x $dim, y $yDtype)', ({ rows, dim, rowsPerItem, yDtype }) => {
    const x = randomF32(rows * dim, 21, 8);
    const yBits = randomBf16(rows * dim, 22);
    const y = yDtype === 'bf16' ? yBits : randomF32(rows * dim, 23, 3);
    const yValues = yDtype === 'bf16' ? Float32Array.from(yBits, bf16BitsToFloat32) : (y as Float32Array);
    const gate = randomF32((rows / rowsPerItem) * dim, 24, 2);
    expect(bitsEqual(gatedResidualCpu({ x: x.slice(), y, gate, rows, dim, rowsPerItem }), reference(x, yValues, gate, rows, dim, rowsPerItem))).toBe(-1);
    expect(bitsEqual(gatedResidualCpu({ x: x.slice(), y, rows, dim, rowsPerItem }), reference(x, yValues, null, rows, dim, rowsPerItem))).toBe(-1);
  });

  it('rounds the product before the sum (no fused multiply-add)', () => {
    // (1 + 2^-12)^2 = 1 + 2^-11 + 2^-24 exactly, a tie that rounds to the even 1 + 2^-11 in float32; x = -1.
    const a = Math.fround(1 + 2 ** -12);
    const b = Math.fround(1 + 2 ** -12);
    const out = gatedResidualCpu({ x: Float32Array.of(-1), y: Float32Array.of(a), gate: Float32Array.of(b), rows: 1, dim: 1, rowsPerItem: 1 });
    expect(out[0]).toBe(Math.fround(a * b) - 1); // f32(a b) = 1 + 2^-11 (the 2^-24 term rounded away); fused: 2^-11 + 2^-24
    expect(out[0]).not.toBe(a * b - 1);
  });

  it('stores NaN results as 0x7fffffff (CUDA float32 arithmetic NaN)', () => {
    const out = gatedResidualCpu({ x: Float32Array.of(Number.POSITIVE_INFINITY, 1), y: Float32Array.of(Number.NEGATIVE_INFINITY, 2), rows: 1, dim: 2, rowsPerItem: 1 });
    expect(new Uint32Array(out.buffer)[0]).toBe(0x7fffffff);
    expect(out[1]).toBe(3);
  });
});

describe('gatedResidual', () => {
  const backend = new CpuBackend();
  const rows = 4;
  const dim = 16;

  it('updates x in place on its backend and returns nothing', () => {
    const xHost = randomF32(rows * dim, 25, 4);
    const x = backend.fromArray(xHost, [rows, dim], 'f32', { name: 'x' });
    const yHost = randomBf16(rows * dim, 26);
    const y = backend.fromArray(yHost, [rows, dim], 'bf16');
    const gHost = randomF32(2 * dim, 27);
    const gate = backend.fromArray(gHost, [2, dim], 'f32');
    expect(gatedResidual({ x, y, gate, rowsPerItem: 2 })).toBeUndefined();
    expect(bitsEqual(x.downloadSync(), gatedResidualCpu({ x: xHost.slice(), y: yHost, gate: gHost, rows, dim, rowsPerItem: 2 }))).toBe(-1);
  });

  it('refuses bad inputs, naming the tensor and the rule', () => {
    const x = backend.empty([rows, dim], 'f32', { name: 'x' });
    const y = backend.empty([rows, dim], 'bf16');
    expect(thrown(() => gatedResidual({ x: y as never, y, rowsPerItem: 1 }))).toMatchObject({ tensor: 'x', expected: 'dtype f32' });
    expect(thrown(() => gatedResidual({ x, y: backend.empty([rows, dim], 'f16') as never, rowsPerItem: 1 }))).toMatchObject({ tensor: 'y', expected: 'dtype bf16 or f32' });
    expect(thrown(() => gatedResidual({ x, y: backend.empty([rows, dim + 1], 'bf16'), rowsPerItem: 1 }))).toMatchObject({ tensor: 'y', expected: `[${rows}, ${dim}]` });
    expect(thrown(() => gatedResidual({ x, y, rowsPerItem: 3 }))).toMatchObject({ tensor: 'x', expected: 'a multiple of rowsPerItem 3 rows (whole batch items)' });
    expect(thrown(() => gatedResidual({ x, y, rowsPerItem: 1.5 }))).toMatchObject({ argument: 'rowsPerItem' });
    expect(thrown(() => gatedResidual({ x, y, rowsPerItem: 2, gate: backend.empty([rows, dim], 'f32') }))).toMatchObject({ tensor: 'gate', expected: `[2, ${dim}]` });
    expect(thrown(() => gatedResidual({ x, y: x.reshape([rows, dim]), rowsPerItem: 1 }))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => gatedResidual({ x, y, rowsPerItem: 4, gate: x.sliceRows(0, 1) }))).toMatchObject({ argument: 'gate' });
  });

  it('sends the declared params on CUDA (fake addon)', () => {
    const { backend: be, opCalls } = fakeDitBackend();
    const x = be.empty([rows, dim], 'f32');
    const y = be.empty([rows, dim], 'f32');
    const gate = be.empty([1, dim], 'f32');
    gatedResidual({ x, y, gate, rowsPerItem: rows });
    gatedResidual({ x, y: be.empty([rows, dim], 'bf16'), rowsPerItem: 2 });
    expect(Object.keys(opCalls[0]!.params)).toEqual(Object.keys(GATED_RESIDUAL.fields));
    expect(opCalls[0]!.params).toMatchObject({ x: { handle: handleOf(x), byteLength: rows * dim * 4 }, y: { handle: handleOf(y) }, gate: { handle: handleOf(gate) }, rows, dim, rowsPerItem: rows, input: 'f32' });
    expect(opCalls[1]!.params).toMatchObject({ gate: null, rowsPerItem: 2, input: 'bf16' });
  });
});
