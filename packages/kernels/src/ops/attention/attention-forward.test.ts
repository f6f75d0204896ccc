import { decodeFp8Array, float32ToBf16Bits } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { fakeCudaBackend } from '../../_test/fake-addon';
import { CpuBackend } from '../../cpu/backend';
import { seededRandom } from '../../testing';
import { ATTENTION, attentionForward } from './attention-forward';
import { attentionReference, float64ToBf16Bits } from './reference';
import { ATTENTION_TILE_POLICY } from './tile-policy';

const backend = new CpuBackend();
const M = ATTENTION_TILE_POLICY.blockM;
const batch = 2;
const heads = 2;
const headDim = 64;
const cols = heads * headDim;
const numBlocks = 2;
const npad = numBlocks * M;
const valid = [M, 50];

function bf16Values(seed: number): Uint16Array {
  const rnd = seededRandom(seed);
  return Uint16Array.from({ length: batch * npad * cols }, (_, i) => {
    const row = Math.floor(i / cols) % npad;
    return row % M < valid[Math.floor(row / M)]! ? float32ToBf16Bits((rnd() * 2 - 1) * 2) : 0;
  });
}
const widen = (bits: Uint16Array) => Float64Array.from(bits, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]!);

function e4m3Codes(seed: number, length: number): Uint8Array {
  const rnd = seededRandom(seed);
  return Uint8Array.from({ length }, () => Math.floor(rnd() * 0x7e) | (rnd() < 0.5 ? 0x80 : 0));
}

const lists = { rowPtr: Int32Array.from([0, 1, 2, 2, 4, 5]), colIdx: Int32Array.from([0, 1, 0, 1, 1]) }; // [2, 3]: per head

describe('attentionForward (CPU backend)', () => {
  it('is the float64 twin rounded to BF16, for BF16 operands with per-head lists', () => {
    const [q, k, v] = [1, 2, 3].map((s) => bf16Values(s));
    const t = (bits: Uint16Array) => backend.fromArray(bits, [batch, npad, cols], 'bf16');
    const out = attentionForward({
      q: t(q!),
      k: t(k!),
      v: t(v!),
      blockValidRows: backend.fromArray(Int32Array.from(valid), [numBlocks], 'i32'),
      rowPtr: backend.fromArray(lists.rowPtr, [2, numBlocks + 1], 'i32'),
      colIdx: backend.fromArray(lists.colIdx, [5], 'i32'),
      headDim,
    });
    const expected = attentionReference({
      dtype: 'bf16',
      batch,
      heads,
      headDim,
      numBlocks,
      q: widen(q!),
      k: widen(k!),
      v: widen(v!),
      blockValidRows: Int32Array.from(valid),
      ...lists,
      softmaxScale: 1 / Math.sqrt(headDim),
    });
    expect(out.shape).toEqual([batch, npad, cols]);
    expect(out.downloadSync()).toEqual(float64ToBf16Bits(expected));
  }, 60_000);

  it('reads E4M3 V^T codes with a token stride past npad, and applies the scales and softmaxScale', () => {
    const stride = npad + 16;
    const q = e4m3Codes(4, batch * npad * cols);
    const k = e4m3Codes(5, batch * npad * cols);
    const vt = e4m3Codes(6, batch * cols * stride);
    const rnd = seededRandom(7);
    const scales = (n: number) => Float32Array.from({ length: n }, () => Math.fround(1e-3 * (1 + rnd())));
    const [qs, ks, vs] = [scales(batch * heads * npad), scales(batch * heads * npad), scales(batch * cols)];
    const out = attentionForward({
      q: backend.fromArray(q, [batch, npad, cols], 'e4m3'),
      k: backend.fromArray(k, [batch, npad, cols], 'e4m3'),
      v: backend.fromArray(vt, [batch, cols, stride], 'e4m3'),
      qScale: backend.fromArray(qs!, [batch, heads, npad], 'f32'),
      kScale: backend.fromArray(ks!, [batch, heads, npad], 'f32'),
      vScale: backend.fromArray(vs!, [batch, cols], 'f32'),
      blockValidRows: backend.fromArray(Int32Array.from(valid), [numBlocks], 'i32'),
      headDim,
      softmaxScale: 0.5,
    });
    const decode = (codes: Uint8Array) => Float64Array.from(decodeFp8Array({ codes, format: 'e4m3' }));
    const vDecoded = decode(vt);
    const vRows = new Float64Array(batch * npad * cols);
    for (let b = 0; b < batch; b++) for (let c = 0; c < cols; c++) for (let r = 0; r < npad; r++) vRows[(b * npad + r) * cols + c] = vDecoded[(b * cols + c) * stride + r]!;
    const expected = attentionReference({
      dtype: 'e4m3',
      batch,
      heads,
      headDim,
      numBlocks,
      q: decode(q),
      k: decode(k),
      v: vRows,
      qScale: qs,
      kScale: ks,
      vScale: vs,
      blockValidRows: Int32Array.from(valid),
      rowPtr: null,
      colIdx: null,
      softmaxScale: 0.5,
    });
    expect(out.downloadSync()).toEqual(float64ToBf16Bits(expected));
  }, 60_000);

  it('declares a tolerance, not bit-exactness', () => {
    expect(attentionForward.info.exactness).toMatchObject({ tolerance: { referenceErrorFactor: 2 } });
    expect(attentionForward.info.native).toBe(ATTENTION);
  });

  describe('rejects calls the kernel cannot run, naming the tensor', () => {
    const bf16 = (shape: number[]) => backend.empty(shape, 'bf16');
    const base = () => ({
      q: bf16([batch, npad, cols]),
      k: bf16([batch, npad, cols]),
      v: bf16([batch, npad, cols]),
      blockValidRows: backend.fromArray(Int32Array.from(valid), [numBlocks], 'i32'),
      headDim,
    });
    it.each([
      ['k of another dtype', { k: backend.empty([batch, npad, cols], 'e4m3') }, /'k'.*dtype bf16/],
      ['k of another shape', { k: bf16([batch, npad - M, cols]) }, /'k'/],
      ['q not whole blocks', { q: bf16([batch, npad - 1, cols]), k: bf16([batch, npad - 1, cols]), v: bf16([batch, npad - 1, cols]) }, /'blockValidRows'.*whole blocks/],
      ['an unsupported head dim', { headDim: 32 }, /headDim.*64, 128/],
      ['scales for bf16', { qScale: backend.empty([batch, heads, npad], 'f32') }, /bf16 attention takes no scales/],
      ['rowPtr without colIdx', { rowPtr: backend.empty([1, numBlocks + 1], 'i32') }, /rowPtr and colIdx come together/],
      ['rowPtr of a wrong head count', { rowPtr: backend.empty([3, numBlocks + 1], 'i32'), colIdx: backend.empty([4], 'i32') }, /'rowPtr'.*\[1 or 2 \(heads\), 3/],
      ['a non-finite softmaxScale', { softmaxScale: Number.NaN }, /softmaxScale/],
      ['an out of another shape', { out: bf16([batch, npad, cols + 64]) }, /'out'/],
    ])('%s', (_, change, message) => {
      expect(() => attentionForward({ ...base(), ...change } as never)).toThrow(message);
    });

    it('E4M3 without its scales, or with V not transposed to a 16-multiple token stride', () => {
      const e4m3 = (shape: number[]) => backend.empty(shape, 'e4m3');
      const f32 = (shape: number[]) => backend.empty(shape, 'f32');
      const fp8 = { q: e4m3([batch, npad, cols]), k: e4m3([batch, npad, cols]), blockValidRows: base().blockValidRows, headDim };
      const scales = { qScale: f32([batch, heads, npad]), kScale: f32([batch, heads, npad]), vScale: f32([batch, cols]) };
      expect(() => attentionForward({ ...fp8, v: e4m3([batch, cols, npad]), ...scales, kScale: null })).toThrow(/needs kScale/);
      expect(() => attentionForward({ ...fp8, v: e4m3([batch, cols, npad + 8]), ...scales })).toThrow(/'v'.*multiple of 16/);
      expect(() => attentionForward({ ...fp8, v: e4m3([batch, npad, cols]), ...scales })).toThrow(/'v'.*V\^T/);
      expect(() => attentionForward({ ...fp8, v: e4m3([batch, cols, npad]), ...scales, vScale: f32([cols]) })).toThrow(/'vScale'/);
    });
  });
});

describe('attentionForward (CUDA side, fake addon)', () => {
  it('says the native op is not built when the addon lacks it (no stub result)', () => {
    const { backend: cuda } = fakeCudaBackend();
    const t = () => cuda.empty([1, M, 128], 'bf16');
    const blockValidRows = cuda.fromArray(Int32Array.of(M), [1], 'i32');
    expect(() => attentionForward({ q: t(), k: t(), v: t(), blockValidRows, headDim: 128 })).toThrow(/the addon has no 'attention' export: rebuild native\//);
  });

  it('sends the params of its declaration, with the operand type as a string', () => {
    const { backend: cuda, addon, opCalls } = fakeCudaBackend();
    (addon as unknown as Record<string, unknown>).attention = (params: Record<string, unknown>) => void opCalls.push({ name: 'attention', params });
    const e4m3 = (shape: number[]) => cuda.empty(shape, 'e4m3');
    const f32 = (shape: number[]) => cuda.empty(shape, 'f32');
    const out = attentionForward({
      q: e4m3([1, 2 * M, 256]),
      k: e4m3([1, 2 * M, 256]),
      v: e4m3([1, 256, 2 * M + 32]),
      qScale: f32([1, 2, 2 * M]),
      kScale: f32([1, 2, 2 * M]),
      vScale: f32([1, 256]),
      blockValidRows: cuda.fromArray(Int32Array.of(M, 7), [2], 'i32'),
      rowPtr: cuda.fromArray(Int32Array.of(0, 1, 3), [1, 3], 'i32'),
      colIdx: cuda.fromArray(Int32Array.of(0, 0, 1), [3], 'i32'),
      headDim: 128,
    });
    expect(out.shape).toEqual([1, 2 * M, 256]);
    const { params } = opCalls[0]!;
    expect(Object.keys(params)).toEqual(Object.keys(ATTENTION.fields));
    expect(params).toMatchObject({ batch: 1, heads: 2, headDim: 128, numBlocks: 2, listHeads: 1, npad: 2 * M, vTokenStride: 2 * M + 32, dtype: 'e4m3' });
    expect(params.softmaxScale).toBeCloseTo(1 / Math.sqrt(128), 12);
  });
});
