import { InvalidArgumentError, bf16BitsToFloat32, float32ToBf16Bits } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeDitBackend, handleOf } from '../_test/fake-dit-ops';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { randomBf16, randomF32 } from '../testing';
import { RMS_NORM_ROPE, rmsNormRope, rmsNormRopeCpu } from './rms-norm-rope';

/** cos/sin [tokens, headDim / 2] of angles t * 10000^(-2j / headDim), as float32 (any table works; this one is Wan-like). */
function table(tokens: number, headDim: number): { cos: Float32Array; sin: Float32Array } {
  const half = headDim / 2;
  const cos = new Float32Array(tokens * half);
  const sin = new Float32Array(tokens * half);
  for (let t = 0; t < tokens; t++) {
    for (let j = 0; j < half; j++) {
      const angle = t * 10000 ** ((-2 * j) / headDim);
      cos[t * half + j] = Math.cos(angle);
      sin[t * half + j] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

/** Float64 RMSNorm over the row, then each head's pairs (x[2j], x[2j+1]) rotated by the angle of (token, j). */
function reference(x: Float64Array, rows: number, dim: number, w: Float32Array, eps: number, rope?: { cos: Float32Array; sin: Float32Array; headDim: number; tokens: number }): Float64Array {
  const out = new Float64Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    let ms = 0;
    for (let i = 0; i < dim; i++) ms += x[r * dim + i]! ** 2;
    const inv = 1 / Math.sqrt(ms / dim + eps);
    const y = Array.from({ length: dim }, (_, i) => x[r * dim + i]! * inv * w[i]!);
    if (rope) {
      const token = r % rope.tokens;
      for (let h = 0; h < dim / rope.headDim; h++) {
        for (let j = 0; j < rope.headDim / 2; j++) {
          const c = rope.cos[token * (rope.headDim / 2) + j]!;
          const s = rope.sin[token * (rope.headDim / 2) + j]!;
          const a = y[h * rope.headDim + 2 * j]!;
          const b = y[h * rope.headDim + 2 * j + 1]!;
          y[h * rope.headDim + 2 * j] = a * c - b * s;
          y[h * rope.headDim + 2 * j + 1] = a * s + b * c;
        }
      }
    }
    out.set(y, r * dim);
  }
  return out;
}

function expectWithinTolerance(bits: Uint16Array, ref: Float64Array, magnitude: Float64Array): void {
  const { atol, rtol } = (rmsNormRope.info.exactness as { tolerance: { atol: number; rtol: number } }).tolerance;
  for (let i = 0; i < ref.length; i++) {
    const got = bf16BitsToFloat32(bits[i]!);
    const bound = atol * magnitude[i]! + rtol * Math.abs(ref[i]!);
    if (!(Math.abs(got - ref[i]!) <= bound)) expect.fail(`element ${i}: ${got} vs reference ${ref[i]} (bound ${bound})`);
  }
}

describe('rmsNormRopeCpu', () => {
  it.each([
    { dim: 256, headDim: 128, tokens: 3, items: 2, label: 'two heads of 128, 2 items' },
    { dim: 36, headDim: 6, tokens: 2, items: 3, label: 'ragged: head dim 6' },
    { dim: 10, headDim: 10, tokens: 1, items: 4, label: 'one token per item' },
  ])('matches a float64 RMSNorm + interleaved-pair RoPE within the declared tolerance ($label)', ({ dim, headDim, tokens, items }) => {
    const rows = tokens * items;
    const x = randomF32(rows * dim, 11, 4, 0.3);
    const w = randomF32(dim, 12, 0.5, 1);
    const rope = { ...table(tokens + 5, headDim), headDim, tokens: tokens + 5 };
    const ropeRows = { ...rope, cos: rope.cos.subarray(0, (tokens * headDim) / 2), sin: rope.sin.subarray(0, (tokens * headDim) / 2), tokens };
    const magnitude = new Float64Array(rows * dim);
    const bits = rmsNormRopeCpu({ x, rows, dim, weight: w, eps: 1e-6, rope: ropeRows, magnitude });
    expectWithinTolerance(bits, reference(Float64Array.from(x), rows, dim, w, 1e-6, ropeRows), magnitude);
    const plainMag = new Float64Array(rows * dim);
    const plain = rmsNormRopeCpu({ x, rows, dim, weight: w, eps: 1e-6, magnitude: plainMag });
    expectWithinTolerance(plain, reference(Float64Array.from(x), rows, dim, w, 1e-6), plainMag);
  });

  it('takes BF16 bits as the same values as float32 input', () => {
    const dim = 64;
    const xb = randomBf16(3 * dim, 13);
    const xf = Float32Array.from(xb, bf16BitsToFloat32);
    const w = randomF32(dim, 14, 1, 1);
    const rope = { ...table(3, 16), headDim: 16, tokens: 3 };
    expect(Array.from(rmsNormRopeCpu({ x: xb, rows: 3, dim, weight: w, eps: 1e-6, rope }))).toEqual(Array.from(rmsNormRopeCpu({ x: xf, rows: 3, dim, weight: w, eps: 1e-6, rope })));
  });

  it('rotates adjacent pairs (2j, 2j+1) of each head, not the two halves, with the row of token r % tokens', () => {
    // x = [1, 0, 0, 0 | 1, 0, 0, 0] (2 heads of 4), weight 2/sqrt(... ) chosen so y = x * 1 exactly: a 90-degree turn of
    // pair 0 of token 1 moves 1 from element 0 to element 1 of each head.
    const dim = 8;
    const x = Float32Array.of(2, 0, 0, 0, 2, 0, 0, 0);
    const w = new Float32Array(dim).fill(1);
    const cos = Float32Array.of(1, 1, 0, 1); // token 0: identity; token 1: pair 0 turned by 90 degrees
    const sin = Float32Array.of(0, 0, 1, 0);
    const rows = [x, x].flatMap((v) => Array.from(v));
    const out = rmsNormRopeCpu({ x: Float32Array.from(rows), rows: 2, dim, weight: w, eps: 0, rope: { cos, sin, headDim: 4, tokens: 2 } });
    const v = Array.from(out, bf16BitsToFloat32);
    expect(v.slice(0, 8)).toEqual([2, 0, 0, 0, 2, 0, 0, 0]); // rms of the row is 1: y = x
    expect(v.slice(8)).toEqual([0, 2, 0, 0, 0, 2, 0, 0]);
  });

  it('rounds x * inv to float32 before the weight, each rotation product on its own, and the result once to BF16', () => {
    const f = Math.fround;
    const x = Float32Array.of(3, 4);
    const inv = f(1 / Math.sqrt(12.5 + 1e-6));
    const c = f(Math.cos(0.3));
    const s = f(Math.sin(0.3));
    const w = Float32Array.of(0.7, 1.3);
    const a = f(f(3 * inv) * f(0.7));
    const b = f(f(4 * inv) * f(1.3));
    const out = rmsNormRopeCpu({ x, rows: 1, dim: 2, weight: w, eps: 1e-6, rope: { cos: Float32Array.of(c), sin: Float32Array.of(s), headDim: 2, tokens: 1 } });
    expect(Array.from(out)).toEqual([float32ToBf16Bits(f(a * c) - f(b * s)), float32ToBf16Bits(f(a * s) + f(b * c))]);
  });
});

describe('rmsNormRope', () => {
  const backend = new CpuBackend();
  const rows = 6;
  const dim = 32;
  const x = backend.fromArray(randomBf16(rows * dim, 15), [rows, dim], 'bf16', { name: 'q' });
  const weight = backend.fromArray(randomF32(dim, 16, 1, 1), [dim], 'f32');
  const t = table(3, 16);
  const cos = backend.fromArray(t.cos, [3, 8], 'f32');
  const sin = backend.fromArray(t.sin, [3, 8], 'f32');

  it('runs the twin on the backend of x into a new bf16 [rows, dim] tensor', () => {
    const out = rmsNormRope({ x, weight, eps: 1e-6, rope: { cos, sin, headDim: 16 } });
    expect(out.dtype).toBe('bf16');
    expect(out.shape).toEqual([rows, dim]);
    expect(out.name).toBe('q.rms');
    const want = rmsNormRopeCpu({ x: x.downloadSync(), rows, dim, weight: weight.downloadSync(), eps: 1e-6, rope: { cos: t.cos, sin: t.sin, headDim: 16, tokens: 3 } });
    expect(Array.from(out.downloadSync())).toEqual(Array.from(want));
    const noRope = rmsNormRope({ x, weight, eps: 1e-6, rope: null, name: 'k' });
    expect(noRope.name).toBe('k');
    expect(Array.from(noRope.downloadSync())).toEqual(Array.from(rmsNormRopeCpu({ x: x.downloadSync(), rows, dim, weight: weight.downloadSync(), eps: 1e-6 })));
  });

  it('refuses bad inputs, naming the tensor and the rule', () => {
    expect(thrown(() => rmsNormRope({ x: backend.empty([rows, dim], 'f16') as never, weight, eps: 1e-6 }))).toMatchObject({ tensor: 'x', expected: 'dtype bf16 or f32' });
    expect(thrown(() => rmsNormRope({ x, weight: backend.empty([dim * 2], 'f32'), eps: 1e-6 }))).toMatchObject({ tensor: 'weight' });
    expect(thrown(() => rmsNormRope({ x, weight, eps: -1e-6 }))).toMatchObject({ argument: 'eps' });
    expect(thrown(() => rmsNormRope({ x, weight, eps: 1e-6, rope: { cos, sin, headDim: 15 } }))).toMatchObject({ argument: 'rope.headDim' });
    expect(thrown(() => rmsNormRope({ x, weight, eps: 1e-6, rope: { cos, sin, headDim: 12 } }))).toMatchObject({ tensor: 'x', expected: 'dim a multiple of rope.headDim 12 (whole heads)' });
    expect(thrown(() => rmsNormRope({ x, weight, eps: 1e-6, rope: { cos, sin, headDim: 8 } }))).toMatchObject({ tensor: 'rope.cos', expected: '[tokens >= 1, 4] (headDim / 2 pairs per token)' });
    expect(thrown(() => rmsNormRope({ x, weight, eps: 1e-6, rope: { cos, sin: backend.empty([2, 8], 'f32'), headDim: 16 } }))).toMatchObject({ tensor: 'rope.sin', expected: '[3, 8]' });
    const cos4 = backend.empty([4, 8], 'f32');
    expect(thrown(() => rmsNormRope({ x, weight, eps: 1e-6, rope: { cos: cos4, sin: backend.empty([4, 8], 'f32'), headDim: 16 } }))).toMatchObject({ tensor: 'x', expected: 'a multiple of 4 rows (rope.cos rows = tokens per batch item)' });
    expect(thrown(() => rmsNormRope({ x, weight, eps: 1e-6, rope: 'yes' as never }))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => rmsNormRope({ x, weight, eps: 1e-6, out: backend.empty([rows, dim + 8], 'bf16') }))).toMatchObject({ tensor: 'out' });
    expect(thrown(() => rmsNormRope({ x, weight, eps: 1e-6, out: x as never }))).toMatchObject({ argument: 'out' });
  });

  it('sends the declared params on CUDA (fake addon)', () => {
    const { backend: be, opCalls } = fakeDitBackend();
    const xd = be.empty([4, 32], 'f32');
    const w = be.empty([32], 'f32');
    const c = be.empty([2, 8], 'f32');
    const s = be.empty([2, 8], 'f32');
    const out = rmsNormRope({ x: xd, weight: w, eps: 1e-6, rope: { cos: c, sin: s, headDim: 16 } });
    rmsNormRope({ x: be.empty([4, 32], 'bf16'), weight: w, eps: 1e-5 });
    expect(Object.keys(opCalls[0]!.params)).toEqual(Object.keys(RMS_NORM_ROPE.fields));
    expect(opCalls[0]!.params).toMatchObject({ x: { handle: handleOf(xd), byteLength: 4 * 32 * 4 }, weight: { handle: handleOf(w) }, cos: { handle: handleOf(c) }, sin: { handle: handleOf(s) }, out: { handle: handleOf(out), byteLength: 4 * 32 * 2 }, rows: 4, dim: 32, headDim: 16, tokens: 2, input: 'f32', eps: 1e-6 });
    expect(opCalls[1]!.params).toMatchObject({ cos: null, sin: null, headDim: 0, tokens: 0, input: 'bf16', eps: 1e-5 });
  });
});
