import { InvalidArgumentError, ShapeMismatchError, bf16BitsToFloat32, decodeFp8, float32ToBf16Bits } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { thrown } from '../_test/thrown';
import { CpuBackend } from '../cpu/backend';
import { bitsEqual, randomBf16, seededRandom } from '../testing';
import { gemm, gemmBiasDType, gemmCpu, geluTanh } from './gemm';

const BF16_ONE = 0x3f80;

/** Random E4M3 codes, never NaN (0x7f / 0xff) and never zero. */
function randomE4m3(length: number, seed: number): Uint8Array {
  const rnd = seededRandom(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    let c = Math.floor(rnd() * 256);
    if ((c & 0x7f) === 0x7f || (c & 0x7f) === 0) c = 0x38; // 1.0
    out[i] = c;
  }
  return out;
}

/**
 * The specification written out independently: every element decoded on its own through @fpsattn/fp8, the sum over k
 * kept per (i, j) in a k-outer loop (same ascending order per element), then scale, bias, tanh-GELU written from the
 * formula, and rounding to float32 (then BF16).
 */
function bruteForce(o: {
  x: Uint16Array | Uint8Array;
  w: Uint16Array | Uint8Array;
  m: number;
  n: number;
  k: number;
  input: 'bf16' | 'e4m3';
  output: 'bf16' | 'f32';
  bias?: Uint16Array | Float32Array;
  gelu?: boolean;
  xScale?: number;
  wScale?: number;
}): Float32Array | Uint16Array {
  const val = (a: Uint16Array | Uint8Array, i: number) => (o.input === 'bf16' ? bf16BitsToFloat32(a[i] as number) : decodeFp8({ code: a[i] as number, format: 'e4m3' }));
  const acc = new Float64Array(o.m * o.n);
  for (let t = 0; t < o.k; t++)
    for (let i = 0; i < o.m; i++)
      for (let j = 0; j < o.n; j++) acc[i * o.n + j] = (acc[i * o.n + j] as number) + val(o.x, i * o.k + t) * val(o.w, j * o.k + t);
  const scale = o.input === 'e4m3' ? (o.xScale ?? 1) * (o.wScale ?? 1) : 1;
  const out = o.output === 'f32' ? new Float32Array(o.m * o.n) : new Uint16Array(o.m * o.n);
  for (let i = 0; i < o.m; i++)
    for (let j = 0; j < o.n; j++) {
      const b = o.bias === undefined ? 0 : o.bias instanceof Float32Array ? (o.bias[j] as number) : bf16BitsToFloat32(o.bias[j] as number);
      let v = scale * (acc[i * o.n + j] as number) + b;
      if (o.gelu) v = 0.5 * v * (1 + Math.tanh(0.7978845608028654 * (v + 0.044715 * v ** 3)));
      out[i * o.n + j] = o.output === 'f32' ? Math.fround(v) : float32ToBf16Bits(v);
    }
  return out;
}

describe('geluTanh', () => {
  it('is the tanh approximation (PyTorch approximate="tanh" values)', () => {
    expect(geluTanh(0)).toBe(0);
    expect(geluTanh(1)).toBeCloseTo(0.8411919906082768, 15);
    expect(Math.fround(geluTanh(1))).toBe(Math.fround(0.8411920070648193));
    expect(geluTanh(-3)).toBeCloseTo(-0.0036373920817729943, 15);
    expect(geluTanh(20)).toBe(20);
  });
});

describe('gemmCpu', () => {
  it('computes y = x . w^T (w stored [N, K] like nn.Linear), not x . w', () => {
    const k = 8;
    const x = new Uint16Array(2 * k);
    x.set([0x3f80, 0x4000, 0x4040, 0x4080, 0, 0, 0, 0]); // row 0: 1 2 3 4
    x.set([0x40a0, 0, 0, 0, 0, 0, 0, 0x3f80], k); //         row 1: 5 ... 1
    const w = new Uint16Array(8 * k); // w[j] = one-hot at column j: y[i, j] = x[i, j]
    for (let j = 0; j < 8; j++) w[j * k + j] = BF16_ONE;
    const y = gemmCpu({ x, w, m: 2, n: 8, k, input: 'bf16', output: 'f32' });
    expect(Array.from(y)).toEqual([1, 2, 3, 4, 0, 0, 0, 0, 5, 0, 0, 0, 0, 0, 0, 1]);
  });

  it('equals an independent float64 brute force bit for bit, BF16 inputs, every epilogue and both outputs', () => {
    const m = 13;
    const n = 24;
    const k = 40;
    const x = randomBf16(m * k, 1, { cols: k });
    const w = randomBf16(n * k, 2, { cols: k });
    const biasBf16 = randomBf16(n, 3);
    const biasF32 = Float32Array.from(randomBf16(n, 4), (b) => bf16BitsToFloat32(b) * 1.37);
    for (const output of ['bf16', 'f32'] as const) {
      const bias = output === 'f32' ? biasF32 : biasBf16;
      for (const gelu of [false, true]) {
        for (const withBias of [false, true]) {
          const got = gemmCpu({ x, w, m, n, k, input: 'bf16', output, bias: withBias ? bias : null, activation: gelu ? 'gelu' : 'none' });
          const want = bruteForce({ x, w, m, n, k, input: 'bf16', output, bias: withBias ? bias : undefined, gelu });
          expect(bitsEqual(got, want), `${output} gelu=${gelu} bias=${withBias}`).toBe(-1);
        }
      }
    }
  });

  it('decodes E4M3 codes and applies both float32 scales', () => {
    const m = 5;
    const n = 32;
    const k = 48;
    const x = randomE4m3(m * k, 5);
    const w = randomE4m3(n * k, 6);
    const bias = randomBf16(n, 7);
    const xScale = Math.fround(0.0123);
    const wScale = Math.fround(3.75);
    for (const output of ['bf16', 'f32'] as const) {
      const got = gemmCpu({ x, w, m, n, k, input: 'e4m3', output, bias, activation: 'gelu', xScale, wScale });
      const want = bruteForce({ x, w, m, n, k, input: 'e4m3', output, bias, gelu: true, xScale, wScale });
      expect(bitsEqual(got, want), output).toBe(-1);
    }
    // The scales multiply the product: doubling one doubles every (un-activated, unbiased) output.
    const once = gemmCpu({ x, w, m, n, k, input: 'e4m3', output: 'f32', xScale, wScale });
    const twice = gemmCpu({ x, w, m, n, k, input: 'e4m3', output: 'f32', xScale: 2 * xScale, wScale });
    expect(Array.from(twice)).toEqual(Array.from(once, (v) => 2 * v));
  });

  it('rounds to float32 first, then to BF16 (nearest even)', () => {
    const k = 8;
    // 1 + 2^-8 is halfway between the BF16 values 1 and 1 + 2^-7: ties to even gives 1. 1 + 3 * 2^-9 rounds up.
    const x = new Uint16Array(k).fill(0);
    x[0] = BF16_ONE;
    x[1] = 0x3b80; // 2^-8
    const w = new Uint16Array(8 * k).fill(0);
    w[0] = BF16_ONE;
    w[1] = BF16_ONE;
    w[k] = BF16_ONE;
    w[k + 1] = 0x3fc0; // 1.5
    const y = gemmCpu({ x, w, m: 1, n: 8, k, input: 'bf16', output: 'bf16' });
    expect(y[0]).toBe(BF16_ONE);
    expect(y[1]).toBe(0x3f81); // 1 + 1.5 * 2^-8 = 1 + 3 * 2^-9 -> 1 + 2^-7
  });

  it('reports each element\'s magnitude (sum of |products| times |scales|, plus |bias|) when asked', () => {
    const k = 8;
    const x = new Uint16Array(k).fill(BF16_ONE);
    x[1] = 0xbf80; // -1
    const w = new Uint16Array(8 * k).fill(0x4000); // 2
    const bias = new Float32Array(8).fill(-0.5);
    const magnitude = new Float64Array(8);
    const y = gemmCpu({ x, w, m: 1, n: 8, k, input: 'bf16', output: 'f32', bias, magnitude });
    expect(y[0]).toBe(2 * 6 - 0.5);
    expect(magnitude[0]).toBe(2 * 8 + 0.5);
  });

  it('writes into `out` when given, and computes nothing for m = 0', () => {
    const x = randomBf16(3 * 16, 8, { cols: 16 });
    const w = randomBf16(8 * 16, 9, { cols: 16 });
    const out = new Uint16Array(24);
    expect(gemmCpu({ x, w, m: 3, n: 8, k: 16, input: 'bf16', output: 'bf16', out })).toBe(out);
    expect(bitsEqual(out, bruteForce({ x, w, m: 3, n: 8, k: 16, input: 'bf16', output: 'bf16' }))).toBe(-1);
    expect(gemmCpu({ x, w, m: 0, n: 8, k: 16, input: 'bf16', output: 'f32' }).length).toBe(0);
  });
});

describe('gemm', () => {
  const backend = new CpuBackend();
  const bf16 = (shape: number[], seed: number, name?: string) => backend.fromArray(randomBf16(shape.reduce((a, b) => a * b, 1), seed, { cols: shape[shape.length - 1] }), shape, 'bf16', { name });

  it('declares a tolerance against its float64 twin, not bit-exactness', () => {
    expect(gemm.info.name).toBe('gemm');
    expect(gemm.info.native?.name).toBe('gemm');
    expect(gemm.info.exactness).toMatchObject({ tolerance: { atol: 2 ** -10, rtol: 2 ** -7 } });
  });

  it('runs the twin on the backend of x: [batch, tokens, K] -> [batch, tokens, N], rows flattened', () => {
    const x = bf16([2, 3, 16], 11, 'h');
    const w = bf16([24, 16], 12, 'ffn.up');
    const bias = bf16([24], 13);
    const y = gemm({ x, w, bias, activation: 'gelu' });
    expect(y.shape).toEqual([2, 3, 24]);
    expect(y.dtype).toBe('bf16');
    expect(y.name).toBe('h.gemm');
    const want = gemmCpu({ x: x.downloadSync(), w: w.downloadSync(), m: 6, n: 24, k: 16, input: 'bf16', output: 'bf16', bias: bias.downloadSync(), activation: 'gelu' });
    expect(bitsEqual(y.downloadSync(), want)).toBe(-1);
    const f = gemm({ x, w, bias: backend.fromArray(new Float32Array(24).fill(0.25), [24], 'f32'), outDtype: 'f32', name: 'o' });
    expect(f.dtype).toBe('f32');
    expect(f.name).toBe('o');
    const plain = gemmCpu({ x: x.downloadSync(), w: w.downloadSync(), m: 6, n: 24, k: 16, input: 'bf16', output: 'f32' });
    expect(Array.from(f.downloadSync())).toEqual(Array.from(plain, (v) => Math.fround(v + 0.25)));
  });

  it('takes E4M3 inputs with their scales, and writes into `out`', () => {
    const x = backend.fromArray(randomE4m3(4 * 32, 14), [4, 32], 'e4m3');
    const w = backend.fromArray(randomE4m3(16 * 32, 15), [16, 32], 'e4m3');
    const xScale = backend.fromArray(Float32Array.of(0.5), [1], 'f32');
    const wScale = backend.fromArray(Float32Array.of(0.125), [1], 'f32');
    const out = backend.empty([4, 16], 'f32');
    expect(gemm({ x, w, xScale, wScale, outDtype: 'f32', out })).toBe(out);
    const want = gemmCpu({ x: x.downloadSync(), w: w.downloadSync(), m: 4, n: 16, k: 32, input: 'e4m3', output: 'f32', xScale: 0.5, wScale: 0.125 });
    expect(bitsEqual(out.downloadSync(), want)).toBe(-1);
    expect(gemm({ x, w, xScale, wScale, fastAccum: true }).dtype).toBe('bf16'); // the twin ignores fast accumulation
  });

  it('batches: w [B, N, K] with x [B, M, K] gives y[b] = x[b] . w[b]^T, [B, M, N], each product the twin\'s bits', () => {
    const x = bf16([3, 5, 16], 31, 'q');
    const w = bf16([3, 8, 16], 32, 'k');
    const xs = x.downloadSync();
    const ws = w.downloadSync();
    for (const [outDtype, activation] of [['f32', 'none'], ['bf16', 'gelu']] as const) {
      const y = gemm({ x, w, outDtype, activation });
      expect(y.shape).toEqual([3, 5, 8]);
      expect(y.dtype).toBe(outDtype);
      const got = y.downloadSync();
      for (let b = 0; b < 3; b++) {
        const want = gemmCpu({ x: xs.subarray(b * 80, (b + 1) * 80), w: ws.subarray(b * 128, (b + 1) * 128), m: 5, n: 8, k: 16, input: 'bf16', output: outDtype, activation });
        expect(bitsEqual(got.subarray(b * 40, (b + 1) * 40), want)).toBe(-1);
      }
    }
    // Not the unbatched product of the flattened rows with w[0] (each item has its own w).
    const flat = gemmCpu({ x: xs, w: ws.subarray(0, 128), m: 15, n: 8, k: 16, input: 'bf16', output: 'f32' });
    expect(bitsEqual(gemm({ x, w, outDtype: 'f32' }).downloadSync(), flat)).not.toBe(-1);
    const out = backend.empty([3, 5, 8], 'f32');
    expect(gemm({ x, w, outDtype: 'f32', out })).toBe(out);
    expect(gemm({ x: backend.empty([2, 0, 16], 'bf16'), w: bf16([2, 8, 16], 33) }).shape).toEqual([2, 0, 8]);
  });

  it('batched: bf16 only, no bias, x [B, M, K] with w\'s B and K', () => {
    const x = bf16([2, 4, 16], 34);
    const w = bf16([2, 8, 16], 35);
    expect(thrown(() => gemm({ x, w, bias: backend.empty([8], 'bf16') }))).toMatchObject({ argument: 'bias', message: expect.stringMatching(/batched gemm .* takes no bias/) });
    expect(thrown(() => gemm({ x: bf16([3, 4, 16], 36), w }))).toMatchObject({ tensor: 'w', actual: '[2, 8, 16]' });
    expect(thrown(() => gemm({ x: bf16([8, 16], 37), w }))).toMatchObject({ tensor: 'w', actual: '[2, 8, 16]' });
    expect(thrown(() => gemm({ x: bf16([2, 4, 16], 38), w: bf16([2, 8, 24], 39) }))).toMatchObject({ tensor: 'w', actual: '[2, 8, 24]' });
    expect(thrown(() => gemm({ x, w: bf16([2, 12, 16], 40) }))).toMatchObject({ tensor: 'w', actual: 'N (the second dimension) = 12' });
    expect(thrown(() => gemm({ x, w, out: backend.empty([8, 8], 'bf16') }))).toMatchObject({ tensor: 'out', expected: '[2, 4, 8]' });
    const s = backend.fromArray(Float32Array.of(1), [1], 'f32');
    const e = thrown(() => gemm({ x: backend.empty([2, 4, 16], 'e4m3'), w: backend.empty([2, 16, 16], 'e4m3'), xScale: s, wScale: s }));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e).toMatchObject({ argument: 'w', message: expect.stringMatching(/bf16 inputs only/) });
  });

  it('returns an empty [0, N] result for no rows', () => {
    expect(gemm({ x: backend.empty([0, 16], 'bf16'), w: bf16([8, 16], 16) }).shape).toEqual([0, 8]);
  });

  it('bias dtype: the output dtype for bf16 inputs, bf16 for e4m3', () => {
    expect(gemmBiasDType('bf16', 'bf16')).toBe('bf16');
    expect(gemmBiasDType('bf16', 'f32')).toBe('f32');
    expect(gemmBiasDType('e4m3', 'bf16')).toBe('bf16');
  });

  describe('checks, naming the tensor, the dimension and the rule', () => {
    const x = bf16([4, 16], 20, 'x0');
    const w = bf16([8, 16], 21, 'w0');

    it('x: dtype bf16 or e4m3, at least 2-D, K a multiple of 8 (16 for e4m3)', () => {
      expect(thrown(() => gemm({ x: backend.empty([4, 16], 'f32') as never, w }))).toMatchObject({ tensor: 'x', expected: 'dtype bf16 or e4m3', actual: 'dtype f32' });
      expect(thrown(() => gemm({ x: backend.empty([16], 'bf16'), w }))).toMatchObject({ tensor: 'x', actual: '[16]' });
      expect(thrown(() => gemm({ x: backend.empty([4, 12], 'bf16'), w }))).toMatchObject({ tensor: 'x', actual: 'K (the last dimension) = 12' });
      expect(thrown(() => gemm({ x: backend.empty([4, 12], 'bf16'), w })).message).toMatch(/a positive multiple of 8 \(16-byte rows for bf16 inputs\)/);
      const e = thrown(() => gemm({ x: backend.empty([4, 8], 'e4m3'), w: backend.empty([16, 8], 'e4m3') }));
      expect(e).toBeInstanceOf(ShapeMismatchError);
      expect(e).toMatchObject({ tensor: 'x', actual: 'K (the last dimension) = 8' });
      expect(e.message).toMatch(/multiple of 16 .*FP8 on Hopper needs 16/);
    });

    it('w: x\'s dtype, [N, K], N a multiple of 8 (16 for e4m3)', () => {
      expect(thrown(() => gemm({ x, w: backend.empty([8, 16], 'e4m3') as never }))).toMatchObject({ tensor: 'w', expected: 'dtype bf16', actual: 'dtype e4m3' });
      expect(thrown(() => gemm({ x, w: backend.empty([8, 24], 'bf16') }))).toMatchObject({ tensor: 'w', expected: "[N, 16] (K = x's last dimension), or [B, N, 16] with x [B, M, 16]", actual: '[8, 24]' });
      expect(thrown(() => gemm({ x, w: backend.empty([1, 8, 16], 'bf16') }))).toMatchObject({ tensor: 'w', actual: '[1, 8, 16]' });
      expect(thrown(() => gemm({ x, w: backend.empty([12, 16], 'bf16') }))).toMatchObject({ tensor: 'w', actual: 'N (the first dimension) = 12' });
      expect(thrown(() => gemm({ x, w: backend.empty([0, 16], 'bf16') }))).toMatchObject({ tensor: 'w', actual: 'N (the first dimension) = 0' });
      const x8 = backend.empty([2, 32], 'e4m3');
      const s = backend.fromArray(Float32Array.of(1), [1], 'f32');
      expect(thrown(() => gemm({ x: x8, w: backend.empty([24, 32], 'e4m3'), xScale: s, wScale: s }))).toMatchObject({ tensor: 'w', actual: 'N (the first dimension) = 24' });
    });

    it('bias: [N] of gemmBiasDType; e4m3 takes one only with bf16 output', () => {
      expect(thrown(() => gemm({ x, w, bias: backend.empty([8], 'f32') as never }))).toMatchObject({ tensor: 'bias', expected: 'dtype bf16', actual: 'dtype f32' });
      expect(thrown(() => gemm({ x, w, bias: backend.empty([8], 'bf16'), outDtype: 'f32' }))).toMatchObject({ tensor: 'bias', expected: 'dtype f32', actual: 'dtype bf16' });
      expect(thrown(() => gemm({ x, w, bias: backend.empty([16], 'bf16') }))).toMatchObject({ tensor: 'bias', expected: '[8]', actual: '[16]' });
      const x8 = backend.empty([2, 16], 'e4m3');
      const w8 = backend.empty([16, 16], 'e4m3');
      const s = backend.fromArray(Float32Array.of(1), [1], 'f32');
      const e = thrown(() => gemm({ x: x8, w: w8, xScale: s, wScale: s, bias: backend.empty([16], 'bf16'), outDtype: 'f32' }));
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect(e).toMatchObject({ argument: 'bias' });
      expect(e.message).toMatch(/only with outDtype 'bf16'/);
      expect(gemm({ x: x8, w: w8, xScale: s, wScale: s, bias: backend.empty([16], 'bf16') }).shape).toEqual([2, 16]);
    });

    it('scales: both float32 [1] for e4m3, none for bf16', () => {
      const x8 = backend.empty([2, 16], 'e4m3');
      const w8 = backend.empty([16, 16], 'e4m3');
      const s = backend.fromArray(Float32Array.of(1), [1], 'f32');
      expect(thrown(() => gemm({ x: x8, w: w8, wScale: s }))).toMatchObject({ argument: 'xScale' });
      expect(thrown(() => gemm({ x: x8, w: w8, xScale: s }))).toMatchObject({ argument: 'wScale' });
      expect(thrown(() => gemm({ x: x8, w: w8, xScale: s, wScale: backend.empty([2], 'f32') }))).toMatchObject({ tensor: 'wScale', expected: '[1]', actual: '[2]' });
      expect(thrown(() => gemm({ x: x8, w: w8, xScale: backend.empty([1], 'bf16') as never, wScale: s }))).toMatchObject({ tensor: 'xScale', expected: 'dtype f32' });
      expect(thrown(() => gemm({ x, w, xScale: s }))).toMatchObject({ argument: 'xScale', message: expect.stringMatching(/bf16 gemm takes no scales/) });
      expect(thrown(() => gemm({ x, w, wScale: s }))).toMatchObject({ argument: 'wScale' });
    });

    it('options: outDtype, activation, fastAccum (e4m3 only)', () => {
      expect(thrown(() => gemm({ x, w, outDtype: 'f16' as never }))).toMatchObject({ argument: 'outDtype', value: 'f16' });
      expect(thrown(() => gemm({ x, w, activation: 'relu' as never }))).toMatchObject({ argument: 'activation', value: 'relu' });
      expect(thrown(() => gemm({ x, w, fastAccum: true }))).toMatchObject({ argument: 'fastAccum', message: expect.stringMatching(/e4m3 inputs only/) });
      expect(thrown(() => gemm({ x, w, fastAccum: 1 as never }))).toMatchObject({ argument: 'fastAccum' });
      expect(thrown(() => (gemm as unknown as (a: unknown) => unknown)(x))).toBeInstanceOf(Error);
    });

    it('out: the output dtype and [..., N], not an input\'s storage; tensors of one backend', () => {
      expect(thrown(() => gemm({ x, w, out: backend.empty([4, 8], 'f32') }))).toMatchObject({ tensor: 'out', expected: 'dtype bf16' });
      expect(thrown(() => gemm({ x, w, out: backend.empty([4, 16], 'bf16') }))).toMatchObject({ tensor: 'out', expected: '[4, 8]' });
      const big = bf16([8, 16], 22);
      expect(thrown(() => gemm({ x: big.sliceRows(0, 4), w: bf16([16, 16], 23), out: big.sliceRows(4, 4) }))).toMatchObject({ argument: 'out' });
      const other = new CpuBackend();
      expect(thrown(() => gemm({ x, w: other.empty([8, 16], 'bf16') }))).toMatchObject({ argument: 'w' });
    });
  });
});
