import { InvalidArgumentError, ShapeMismatchError, bf16BitsToFloat32, float32ToBf16Bits } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeDitBackend, handleOf } from '../_test/fake-dit-ops';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { randomF32 } from '../testing';
import { gatedResidual } from './gated-residual';
import { LAYER_NORM_MODULATE, layerNormModulate, layerNormModulateCpu } from './layer-norm-modulate';

/** Straightforward float64 LayerNorm + affine + modulation (the math, no float32 steps). */
function reference(x: Float32Array, rows: number, dim: number, rowsPerItem: number, eps: number, p: { w?: Float32Array; b?: Float32Array; shift?: Float32Array; scale?: Float32Array }): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const v = Array.from(x.subarray(r * dim, (r + 1) * dim));
    const mean = v.reduce((a, b) => a + b, 0) / dim;
    const variance = v.reduce((a, b) => a + (b - mean) ** 2, 0) / dim;
    const item = Math.floor(r / rowsPerItem);
    for (let i = 0; i < dim; i++) {
      let n = (v[i]! - mean) / Math.sqrt(variance + eps);
      if (p.w) n *= p.w[i]!;
      if (p.b) n += p.b[i]!;
      if (p.scale && p.shift) n = n * (1 + p.scale[item * dim + i]!) + p.shift[item * dim + i]!;
      out[r * dim + i] = n;
    }
  }
  return out;
}

/** Every output within the op's declared tolerance of the float64 reference (the twin is held to the kernel's bound). */
function expectWithinTolerance(bits: Uint16Array, ref: Float64Array, magnitude: Float64Array): void {
  const { atol, rtol } = (layerNormModulate.info.exactness as { tolerance: { atol: number; rtol: number } }).tolerance;
  for (let i = 0; i < ref.length; i++) {
    const got = bf16BitsToFloat32(bits[i]!);
    const bound = atol * magnitude[i]! + rtol * Math.abs(ref[i]!);
    if (!(Math.abs(got - ref[i]!) <= bound)) expect.fail(`element ${i}: ${got} vs reference ${ref[i]} (bound ${bound})`);
  }
}

describe('layerNormModulateCpu', () => {
  it.each([
    { dim: 1536, rows: 6, rowsPerItem: 3, label: 'Wan-1.3B width, 2 items' },
    { dim: 37, rows: 5, rowsPerItem: 5, label: 'ragged dim' },
    { dim: 8, rows: 4, rowsPerItem: 1, label: 'one item per row' },
  ])('matches a float64 LayerNorm + affine + modulation within the declared tolerance ($label)', ({ dim, rows, rowsPerItem }) => {
    const x = randomF32(rows * dim, 1, 3, 0.7);
    const p = { w: randomF32(dim, 2, 1, 1), b: randomF32(dim, 3, 0.5), shift: randomF32((rows / rowsPerItem) * dim, 4, 0.5), scale: randomF32((rows / rowsPerItem) * dim, 5, 0.5) };
    const magnitude = new Float64Array(rows * dim);
    const bits = layerNormModulateCpu({ x, rows, dim, rowsPerItem, eps: 1e-6, weight: p.w, bias: p.b, shift: p.shift, scale: p.scale, magnitude });
    expectWithinTolerance(bits, reference(x, rows, dim, rowsPerItem, 1e-6, p), magnitude);
    const plainMag = new Float64Array(rows * dim);
    const plain = layerNormModulateCpu({ x, rows, dim, rowsPerItem, eps: 1e-6, magnitude: plainMag });
    expectWithinTolerance(plain, reference(x, rows, dim, rowsPerItem, 1e-6, {}), plainMag);
  });

  it('rounds each float32 step on its own, in the documented order, and the result once to BF16', () => {
    // Row [0, 2]: mean 1, variance 1, inv = f32(1 / sqrt(1 + eps)); modulation with scale 0.5, shift 0.25.
    const eps = 1e-6;
    const inv = Math.fround(1 / Math.sqrt(1 + eps));
    const out = layerNormModulateCpu({ x: Float32Array.of(0, 2), rows: 1, dim: 2, rowsPerItem: 1, eps, shift: Float32Array.of(0.25, 0.25), scale: Float32Array.of(0.5, 0.5) });
    const f = Math.fround;
    const expected = [f(f(f(-1 * inv) * 1.5) + 0.25), f(f(f(1 * inv) * 1.5) + 0.25)];
    expect(Array.from(out)).toEqual(expected.map(float32ToBf16Bits));
    expect(Array.from(out, bf16BitsToFloat32)).toEqual([-1.25, 1.75]); // RNE of -1.24999... and 1.74999..., not truncation
  });

  it('uses the biased variance with eps inside the square root: a constant row normalizes to 0', () => {
    const out = layerNormModulateCpu({ x: new Float32Array(16).fill(3.5), rows: 1, dim: 16, rowsPerItem: 1, eps: 1e-6, bias: new Float32Array(16).fill(0.5) });
    expect(Array.from(out, bf16BitsToFloat32)).toEqual(new Array(16).fill(0.5));
  });
});

describe('layerNormModulate', () => {
  const backend = new CpuBackend();
  const rows = 6;
  const dim = 24;
  const x = backend.fromArray(randomF32(rows * dim, 7, 2), [rows, dim], 'f32', { name: 'x' });
  const vec = (seed: number) => backend.fromArray(randomF32(dim, seed), [dim], 'f32');
  const mod = (seed: number) => backend.fromArray(randomF32(2 * dim, seed), [2, dim], 'f32');

  it('runs the twin on the backend of x into a new bf16 [rows, dim] tensor', () => {
    const w = vec(8);
    const shift = mod(9);
    const scale = mod(10);
    const out = layerNormModulate({ x, rowsPerItem: 3, eps: 1e-6, weight: w, shift, scale });
    expect(out.dtype).toBe('bf16');
    expect(out.shape).toEqual([rows, dim]);
    expect(out.name).toBe('x.norm');
    const want = layerNormModulateCpu({ x: x.downloadSync(), rows, dim, rowsPerItem: 3, eps: 1e-6, weight: w.downloadSync(), shift: shift.downloadSync(), scale: scale.downloadSync() });
    expect(Array.from(out.downloadSync())).toEqual(Array.from(want));
    const into = backend.empty([rows, dim], 'bf16');
    expect(layerNormModulate({ x, rowsPerItem: 3, eps: 1e-6, weight: w, shift, scale, out: into })).toBe(into);
    expect(Array.from(into.downloadSync())).toEqual(Array.from(want));
  });

  it('fuses the previous gated residual: x and the output equal gatedResidual then layerNormModulate, bit for bit', () => {
    const shift = mod(21);
    const scale = mod(22);
    for (const [yDtype, gated] of [['bf16', true], ['f32', false], ['f32', true]] as const) {
      const yHost = randomF32(rows * dim, 23, 0.7);
      const y = yDtype === 'f32' ? backend.fromArray(yHost, [rows, dim], 'f32') : backend.fromArray(Uint16Array.from(yHost, (v) => float32ToBf16Bits(v)), [rows, dim], 'bf16');
      const gate = gated ? mod(24) : null;
      const xFused = backend.fromArray(x.downloadSync(), [rows, dim], 'f32');
      const xRef = backend.fromArray(x.downloadSync(), [rows, dim], 'f32');
      const fused = layerNormModulate({ x: xFused, rowsPerItem: 3, eps: 1e-6, shift, scale, residual: { y, gate } });
      gatedResidual({ x: xRef, y, gate, rowsPerItem: 3 });
      const ref = layerNormModulate({ x: xRef, rowsPerItem: 3, eps: 1e-6, shift, scale });
      expect(Array.from(new Uint32Array(xFused.downloadSync().buffer))).toEqual(Array.from(new Uint32Array(xRef.downloadSync().buffer)));
      expect(Array.from(fused.downloadSync())).toEqual(Array.from(ref.downloadSync()));
      // and the update happened: x moved by y * gate
      const moved = xFused.downloadSync()[5]! - x.downloadSync()[5]!;
      expect(Math.abs(moved - (yDtype === 'f32' ? yHost[5]! : bf16BitsToFloat32(float32ToBf16Bits(yHost[5]!))) * (gated ? gate!.downloadSync()[5]! : 1))).toBeLessThan(1e-5);
    }
  });

  it('refuses a fused residual that aliases x or has the wrong shape', () => {
    const xd = backend.fromArray(x.downloadSync(), [rows, dim], 'f32');
    expect(thrown(() => layerNormModulate({ x: xd, rowsPerItem: 3, eps: 1e-6, residual: { y: xd.reshape([rows, dim]) } }))).toMatchObject({ argument: 'residual.y' });
    expect(thrown(() => layerNormModulate({ x: xd, rowsPerItem: 3, eps: 1e-6, residual: { y: backend.empty([rows, dim + 1], 'bf16') } }))).toMatchObject({ tensor: 'residual.y' });
    expect(thrown(() => layerNormModulate({ x: xd, rowsPerItem: 3, eps: 1e-6, residual: { y: backend.empty([rows, dim], 'bf16'), gate: backend.empty([3, dim], 'f32') } }))).toMatchObject({ tensor: 'residual.gate', expected: `[2, ${dim}]` });
  });

  it('declares a tolerance (reduction order differs from the float64 twin)', () => {
    expect(layerNormModulate.info.exactness).toMatchObject({ tolerance: { atol: 2 ** -16, rtol: 2 ** -7 } });
  });

  it('refuses bad inputs, naming the tensor and the rule', () => {
    expect(thrown(() => layerNormModulate({ x: backend.empty([rows, dim], 'bf16') as never, rowsPerItem: 1, eps: 1e-6 }))).toMatchObject({ tensor: 'x', expected: 'dtype f32' });
    expect(thrown(() => layerNormModulate({ x: backend.empty([2, 3, 8], 'f32'), rowsPerItem: 1, eps: 1e-6 }))).toMatchObject({ tensor: 'x' });
    expect(thrown(() => layerNormModulate({ x: backend.empty([2, 16385], 'f32'), rowsPerItem: 1, eps: 1e-6 }))).toMatchObject({ tensor: 'x', actual: 'dim 16385' });
    expect(thrown(() => layerNormModulate({ x, rowsPerItem: 4, eps: 1e-6 }))).toMatchObject({ tensor: 'x', expected: 'a multiple of rowsPerItem 4 rows (whole batch items)' });
    expect(thrown(() => layerNormModulate({ x, rowsPerItem: 0, eps: 1e-6 }))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => layerNormModulate({ x, rowsPerItem: 3, eps: -1 }))).toMatchObject({ argument: 'eps' });
    expect(thrown(() => layerNormModulate({ x, rowsPerItem: 3, eps: Number.NaN }))).toMatchObject({ argument: 'eps' });
    expect(thrown(() => layerNormModulate({ x, rowsPerItem: 3, eps: 1e-6, weight: backend.empty([dim + 1], 'f32') }))).toMatchObject({ tensor: 'weight', expected: `[${dim}]` });
    expect(thrown(() => layerNormModulate({ x, rowsPerItem: 3, eps: 1e-6, bias: backend.empty([dim], 'bf16') as never }))).toMatchObject({ tensor: 'bias', expected: 'dtype f32' });
    expect(thrown(() => layerNormModulate({ x, rowsPerItem: 3, eps: 1e-6, shift: mod(1) }))).toMatchObject({ argument: 'scale' });
    expect(thrown(() => layerNormModulate({ x, rowsPerItem: 3, eps: 1e-6, scale: mod(1) }))).toMatchObject({ argument: 'shift' });
    expect(thrown(() => layerNormModulate({ x, rowsPerItem: 2, eps: 1e-6, shift: mod(1), scale: mod(2) }))).toMatchObject({ tensor: 'shift', expected: `[3, ${dim}]` });
    expect(thrown(() => layerNormModulate({ x, rowsPerItem: 3, eps: 1e-6, out: backend.empty([rows, dim], 'f32') as never }))).toMatchObject({ tensor: 'out', expected: 'dtype bf16' });
    expect(thrown(() => layerNormModulate({ x: new CpuBackend().empty([rows, dim], 'f32'), rowsPerItem: 3, eps: 1e-6, weight: vec(1) }))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => layerNormModulate({ x, rowsPerItem: 3, eps: 1e-6, out: x.reshape([rows, dim]) as never }))).toBeInstanceOf(ShapeMismatchError);
    expect(layerNormModulate({ x: backend.empty([0, dim], 'f32'), rowsPerItem: 5, eps: 1e-6 }).shape).toEqual([0, dim]);
  });

  it('sends the declared params on CUDA (fake addon)', () => {
    const { backend: be, opCalls } = fakeDitBackend();
    const xd = be.empty([4, 16], 'f32');
    const w = be.empty([16], 'f32');
    const shift = be.empty([2, 16], 'f32');
    const scale = be.empty([2, 16], 'f32');
    const out = layerNormModulate({ x: xd, rowsPerItem: 2, eps: 1e-6, weight: w, shift, scale });
    layerNormModulate({ x: xd, rowsPerItem: 4, eps: 0 });
    expect(opCalls.map((c) => c.name)).toEqual(['layerNormModulate', 'layerNormModulate']);
    expect(Object.keys(opCalls[0]!.params)).toEqual(Object.keys(LAYER_NORM_MODULATE.fields));
    expect(opCalls[0]!.params).toMatchObject({ x: { handle: handleOf(xd), byteLength: 4 * 16 * 4 }, weight: { handle: handleOf(w) }, bias: null, shift: { handle: handleOf(shift) }, scale: { handle: handleOf(scale) }, out: { handle: handleOf(out), byteLength: 4 * 16 * 2 }, rows: 4, dim: 16, rowsPerItem: 2, eps: 1e-6 });
    expect(opCalls[1]!.params).toMatchObject({ weight: null, bias: null, shift: null, scale: null, residual: null, residualGate: null, residualInput: 'bf16', rowsPerItem: 4, eps: 0 });
  });
});
