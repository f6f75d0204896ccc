import { InvalidArgumentError, ShapeMismatchError, decodeFp8Array, float32ToBf16Bits } from '@fpsattn/fp8';
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

  it('with kBlockScale equals, bit for bit, the call with the per-row kScale it stands for (ragged blocks, per-head lists)', () => {
    const q = e4m3Codes(8, batch * npad * cols);
    const k = e4m3Codes(9, batch * npad * cols);
    const vt = e4m3Codes(10, batch * cols * npad);
    const rnd = seededRandom(11);
    const scales = (n: number) => Float32Array.from({ length: n }, () => Math.fround(1e-3 * (1 + 3 * rnd())));
    const [qs, kbs, vs] = [scales(batch * heads * npad), scales(batch * heads * numBlocks), scales(batch * cols)];
    // The per-row form: key row r of (b, h) gets the scale of its block; padding rows (past valid[]) get junk.
    const ks = new Float32Array(batch * heads * npad);
    for (let bh = 0; bh < batch * heads; bh++)
      for (let r = 0; r < npad; r++) ks[bh * npad + r] = r % M < valid[Math.floor(r / M)]! ? kbs[bh * numBlocks + Math.floor(r / M)]! : 1e30;
    const call = (kScales: { kScale: Float32Array } | { kBlockScale: Float32Array }) =>
      attentionForward({
        q: backend.fromArray(q, [batch, npad, cols], 'e4m3'),
        k: backend.fromArray(k, [batch, npad, cols], 'e4m3'),
        v: backend.fromArray(vt, [batch, cols, npad], 'e4m3'),
        qScale: backend.fromArray(qs, [batch, heads, npad], 'f32'),
        ...('kScale' in kScales
          ? { kScale: backend.fromArray(kScales.kScale, [batch, heads, npad], 'f32') }
          : { kBlockScale: backend.fromArray(kScales.kBlockScale, [batch, heads, numBlocks], 'f32') }),
        vScale: backend.fromArray(vs, [batch, cols], 'f32'),
        blockValidRows: backend.fromArray(Int32Array.from(valid), [numBlocks], 'i32'),
        rowPtr: backend.fromArray(lists.rowPtr, [2, numBlocks + 1], 'i32'),
        colIdx: backend.fromArray(lists.colIdx, [5], 'i32'),
        headDim,
      }).downloadSync();
    const perBlock = call({ kBlockScale: kbs });
    expect(perBlock).toEqual(call({ kScale: ks }));
    const decode = (codes: Uint8Array) => Float64Array.from(decodeFp8Array({ codes, format: 'e4m3' }));
    const vDecoded = decode(vt);
    const vRows = new Float64Array(batch * npad * cols);
    for (let b = 0; b < batch; b++) for (let c = 0; c < cols; c++) for (let r = 0; r < npad; r++) vRows[(b * npad + r) * cols + c] = vDecoded[(b * cols + c) * npad + r]!;
    const twin = attentionReference({
      dtype: 'e4m3',
      batch,
      heads,
      headDim,
      numBlocks,
      q: decode(q),
      k: decode(k),
      v: vRows,
      qScale: qs,
      kBlockScale: kbs,
      vScale: vs,
      blockValidRows: Int32Array.from(valid),
      ...lists,
      softmaxScale: 1 / Math.sqrt(headDim),
    });
    expect(perBlock).toEqual(float64ToBf16Bits(twin));
    // Each (batch, head, block) scale is read where it belongs: swapping the two blocks' scales of one (b, h) changes
    // exactly that head of that batch item.
    const swapped = kbs.slice();
    [swapped[4], swapped[5]] = [kbs[5]!, kbs[4]!]; // [b, h, kb] = [1, 0, 0] and [1, 0, 1]
    const other = call({ kBlockScale: swapped });
    const differs = (b: number, h: number) => {
      for (let r = 0; r < npad; r++) for (let c = 0; c < headDim; c++) if (other[(b * npad + r) * cols + h * headDim + c] !== perBlock[(b * npad + r) * cols + h * headDim + c]) return true;
      return false;
    };
    expect([differs(0, 0), differs(0, 1), differs(1, 0), differs(1, 1)]).toEqual([false, false, true, false]);
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

    describe('K scales: exactly one of kScale and kBlockScale for E4M3, neither for BF16', () => {
      const named = (shape: number[], dtype: 'f32' | 'i32' | 'bf16', name: string, be = backend) => be.empty(shape, dtype, { name }) as never;
      const fp8 = () => ({
        q: backend.empty([batch, npad, cols], 'e4m3'),
        k: backend.empty([batch, npad, cols], 'e4m3'),
        v: backend.empty([batch, cols, npad], 'e4m3'),
        qScale: backend.empty([batch, heads, npad], 'f32'),
        vScale: backend.empty([batch, cols], 'f32'),
        blockValidRows: backend.fromArray(Int32Array.from(valid), [numBlocks], 'i32'),
        headDim,
      });
      it.each([
        [
          'E4M3 with both',
          () => ({ ...fp8(), kScale: named([batch, heads, npad], 'f32', 'ks'), kBlockScale: named([batch, heads, numBlocks], 'f32', 'kbs') }),
          InvalidArgumentError,
          { argument: 'kBlockScale', value: 'kbs' },
          "Invalid argument 'kBlockScale': e4m3 attention takes exactly one of kScale (per key row) and kBlockScale (per key block), not both ('ks' and 'kbs')",
        ],
        [
          'E4M3 with neither',
          () => ({ ...fp8(), kScale: null, kBlockScale: undefined }),
          InvalidArgumentError,
          { argument: 'kScale', value: null },
          "Invalid argument 'kScale': e4m3 attention needs kScale (float32 [2, 2, 256], per key row) or kBlockScale (float32 [2, 2, 2], per key block of 128 rows)",
        ],
        [
          'a kBlockScale of per-row shape',
          () => ({ ...fp8(), kBlockScale: named([batch, heads, npad], 'f32', 'kbs') }),
          ShapeMismatchError,
          { tensor: 'kBlockScale', expected: '[2, 2, 2]', actual: '[2, 2, 256]' },
          "Shape mismatch for 'kBlockScale': expected [2, 2, 2], got [2, 2, 256] ('kbs')",
        ],
        [
          'a kBlockScale without the batch',
          () => ({ ...fp8(), kBlockScale: named([heads, numBlocks], 'f32', 'kbs') }),
          ShapeMismatchError,
          { tensor: 'kBlockScale' },
          "Shape mismatch for 'kBlockScale': expected [2, 2, 2], got [2, 2] ('kbs')",
        ],
        [
          'a kBlockScale of another dtype',
          () => ({ ...fp8(), kBlockScale: named([batch, heads, numBlocks], 'i32', 'kbs') }),
          ShapeMismatchError,
          { tensor: 'kBlockScale' },
          "Shape mismatch for 'kBlockScale': expected dtype f32, got dtype i32 ('kbs')",
        ],
        [
          'a kBlockScale of another backend',
          () => ({ ...fp8(), kBlockScale: named([batch, heads, numBlocks], 'f32', 'kbs', new CpuBackend()) }),
          InvalidArgumentError,
          { argument: 'kBlockScale' },
          "Invalid argument 'kBlockScale': attentionForward runs on the cpu backend of its first tensor; 'kbs' was made by another cpu backend instance",
        ],
        [
          'a kScale of per-block shape',
          () => ({ ...fp8(), kScale: named([batch, heads, numBlocks], 'f32', 'ks') }),
          ShapeMismatchError,
          { tensor: 'kScale' },
          "Shape mismatch for 'kScale': expected [2, 2, 256], got [2, 2, 2] ('ks')",
        ],
        [
          'BF16 with kBlockScale',
          () => ({ ...base(), kBlockScale: named([batch, heads, numBlocks], 'f32', 'kbs') }),
          InvalidArgumentError,
          { argument: 'kBlockScale', value: 'kbs' },
          "Invalid argument 'kBlockScale': bf16 attention takes no scales (pass null or leave it out)",
        ],
      ] as const)('%s', (_, options, type, fields, message) => {
        let error: unknown;
        try {
          attentionForward(options() as never);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(type);
        expect(error).toMatchObject(fields);
        expect((error as Error).message).toBe(message);
      });

      it('E4M3 runs with either one, the other null or left out', () => {
        const o = fp8();
        const ones = (shape: number[]) => backend.fromArray(new Float32Array(shape.reduce((x, y) => x * y)).fill(1), shape, 'f32');
        expect(attentionForward({ ...o, kScale: ones([batch, heads, npad]), kBlockScale: null }).shape).toEqual([batch, npad, cols]);
        expect(attentionForward({ ...o, kScale: null, kBlockScale: ones([batch, heads, numBlocks]) }).shape).toEqual([batch, npad, cols]);
        expect(attentionForward({ ...base(), kScale: null, kBlockScale: null }).shape).toEqual([batch, npad, cols]);
      }, 60_000);

      it('types the two as exclusive', () => {
        const o = fp8();
        const f32 = (shape: number[]) => backend.empty(shape, 'f32');
        // @ts-expect-error kScale and kBlockScale together
        expect(() => attentionForward({ ...o, kScale: f32([batch, heads, npad]), kBlockScale: f32([batch, heads, numBlocks]) })).toThrow(/not both/);
      });
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
    expect(params.kBlockScale).toBeNull();
    expect(params.kScale).not.toBeNull();
  });

  it('sends kBlockScale (and a null kScale) for per-block K scales, and no scales for BF16', () => {
    const { backend: cuda, addon, opCalls } = fakeCudaBackend();
    (addon as unknown as Record<string, unknown>).attention = (params: Record<string, unknown>) => void opCalls.push({ name: 'attention', params });
    const e4m3 = (shape: number[]) => cuda.empty(shape, 'e4m3');
    const f32 = (shape: number[]) => cuda.empty(shape, 'f32');
    const kBlockScale = f32([1, 2, 2]);
    const blockValidRows = cuda.fromArray(Int32Array.of(M, 7), [2], 'i32');
    attentionForward({ q: e4m3([1, 2 * M, 256]), k: e4m3([1, 2 * M, 256]), v: e4m3([1, 256, 2 * M]), qScale: f32([1, 2, 2 * M]), kBlockScale, vScale: f32([1, 256]), blockValidRows, headDim: 128 });
    const bf16 = () => cuda.empty([1, 2 * M, 256], 'bf16');
    attentionForward({ q: bf16(), k: bf16(), v: bf16(), blockValidRows, headDim: 128 });
    const [fp8, plain] = opCalls.map((c) => c.params);
    expect(Object.keys(fp8!)).toEqual(Object.keys(ATTENTION.fields));
    const handle = (t: { storage: unknown }) => (t.storage as { handle: number }).handle;
    expect(fp8).toMatchObject({ kScale: null, kBlockScale: { handle: handle(kBlockScale), byteOffset: 0, byteLength: 2 * 2 * 4 }, numBlocks: 2, dtype: 'e4m3' });
    expect(plain).toMatchObject({ qScale: null, kScale: null, kBlockScale: null, vScale: null, dtype: 'bf16' });
  });
});
