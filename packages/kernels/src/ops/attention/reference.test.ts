import { decodeFp8, encodeFp8, roundToBf16 } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../testing';
import { ATTENTION_P_SCALE, type AttentionReferenceOptions, attentionReference, float64ToBf16Bits } from './reference';

const R = 16; // small blocks keep the tests fast; the twin takes any block size
const BLOCK = R;

interface Case {
  batch: number;
  heads: number;
  headDim: number;
  numBlocks: number;
  valid: number[];
  rowPtr: Int32Array | null;
  colIdx: Int32Array | null;
}

/** Random operands: BF16-representable values, E4M3 codes decoded, positive scales. Padding rows are 0. */
function operands(c: Case, dtype: 'bf16' | 'e4m3', seed: number, R = BLOCK): AttentionReferenceOptions {
  const rnd = seededRandom(seed);
  const npad = c.numBlocks * R;
  const hd = c.heads * c.headDim;
  const value = () => (dtype === 'bf16' ? roundToBf16((rnd() * 2 - 1) * 3) : decodeFp8({ code: encodeFp8({ value: (rnd() * 2 - 1) * 448, format: 'e4m3' }), format: 'e4m3' }));
  const tensor = () => {
    const a = new Float64Array(c.batch * npad * hd);
    for (let b = 0; b < c.batch; b++)
      for (let blk = 0; blk < c.numBlocks; blk++)
        for (let i = 0; i < (c.valid[blk] as number); i++)
          for (let j = 0; j < hd; j++) a[(b * npad + blk * R + i) * hd + j] = value();
    return a;
  };
  const scales = (n: number, size: number) => Float64Array.from({ length: n }, () => Math.fround(size * (0.5 + rnd())));
  return {
    dtype,
    batch: c.batch,
    heads: c.heads,
    headDim: c.headDim,
    numBlocks: c.numBlocks,
    blockRows: R,
    q: tensor(),
    k: tensor(),
    v: tensor(),
    qScale: dtype === 'e4m3' ? scales(c.batch * c.heads * npad, 0.01) : null,
    kScale: dtype === 'e4m3' ? scales(c.batch * c.heads * npad, 0.01) : null,
    vScale: dtype === 'e4m3' ? scales(c.batch * hd, 0.01) : null,
    blockValidRows: Int32Array.from(c.valid),
    rowPtr: c.rowPtr,
    colIdx: c.colIdx,
    softmaxScale: 1 / Math.sqrt(c.headDim),
  };
}

/** Naive attention: for each row, a full softmax over every allowed key at once (no streaming, no rounding of P). */
function naiveAttention(o: AttentionReferenceOptions): Float64Array {
  const { batch, heads, headDim: D, numBlocks } = o;
  const npad = numBlocks * R;
  const hd = heads * D;
  const out = new Float64Array(batch * npad * hd);
  const listHeads = o.rowPtr ? o.rowPtr.length / (numBlocks + 1) : 1;
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let qb = 0; qb < numBlocks; qb++) {
        const blocks: number[] = [];
        if (o.rowPtr && o.colIdx) {
          const base = (listHeads === 1 ? 0 : h) * (numBlocks + 1);
          for (let t = o.rowPtr[base + qb]!; t < o.rowPtr[base + qb + 1]!; t++) blocks.push(o.colIdx[t]!);
        } else for (let kb = 0; kb < numBlocks; kb++) blocks.push(kb);
        const keys = blocks.flatMap((kb) => Array.from({ length: o.blockValidRows[kb]! }, (_, j) => kb * R + j));
        for (let i = 0; i < o.blockValidRows[qb]!; i++) {
          const qi = qb * R + i;
          const scores = keys.map((kj) => {
            let dot = 0;
            for (let c = 0; c < D; c++) dot += o.q[(b * npad + qi) * hd + h * D + c]! * o.k[(b * npad + kj) * hd + h * D + c]!;
            const qs = o.qScale ? o.qScale[(b * heads + h) * npad + qi]! : 1;
            const ks = o.kScale ? o.kScale[(b * heads + h) * npad + kj]! : 1;
            return dot * qs * ks * o.softmaxScale;
          });
          if (keys.length === 0) continue;
          const max = Math.max(...scores);
          const w = scores.map((s) => Math.exp(s - max));
          const sum = w.reduce((x, y) => x + y, 0);
          for (let c = 0; c < D; c++) {
            let acc = 0;
            keys.forEach((kj, n) => {
              const vs = o.vScale ? o.vScale[b * hd + h * D + c]! : 1;
              acc += w[n]! * o.v[(b * npad + kj) * hd + h * D + c]! * vs;
            });
            out[(b * npad + qi) * hd + h * D + c] = acc / sum;
          }
        }
      }
  return out;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Ragged: 5 blocks, partial and empty blocks, per-head lists including an empty list. */
const ragged: Case = {
  batch: 2,
  heads: 2,
  headDim: 16,
  numBlocks: 5,
  valid: [16, 16, 7, 0, 11],
  // head 0: [0,2] [1] [0,1,2,4] [] [4];  head 1: [0..4] [0..4] [2] [] []
  rowPtr: Int32Array.from([0, 2, 3, 7, 7, 8, 8, 13, 18, 19, 19, 19]),
  colIdx: Int32Array.from([0, 2, 1, 0, 1, 2, 4, 4, 0, 1, 2, 3, 4, 0, 1, 2, 3, 4, 2]),
};

describe('attentionReference', () => {
  it.each(['bf16', 'e4m3'] as const)('equals a naive full-softmax attention to 1e-12 without P rounding (%s, ragged, per-head lists)', (dtype) => {
    const o = operands(ragged, dtype, 1);
    const twin = attentionReference({ ...o, pRounding: 'none' });
    const naive = naiveAttention(o);
    expect(maxAbsDiff(twin, naive)).toBeLessThan(1e-12);
    expect(twin.some((x) => x !== 0)).toBe(true);
  });

  it('equals the naive attention for shared lists and for dense (null) lists', () => {
    const shared = { ...ragged, rowPtr: ragged.rowPtr!.slice(0, 6), colIdx: ragged.colIdx!.slice(0, 8) }; // head 0's lists for both heads
    const o = operands(shared, 'bf16', 2);
    expect(maxAbsDiff(attentionReference({ ...o, pRounding: 'none' }), naiveAttention(o))).toBeLessThan(1e-12);
    const dense = operands({ ...ragged, rowPtr: null, colIdx: null }, 'e4m3', 3);
    expect(maxAbsDiff(attentionReference({ ...dense, pRounding: 'none' }), naiveAttention(dense))).toBeLessThan(1e-12);
  });

  it.each(['bf16', 'e4m3'] as const)('gives the dense result bit for bit when the lists hold every block in order (%s)', (dtype) => {
    const dense = operands({ ...ragged, rowPtr: null, colIdx: null }, dtype, 4);
    const all = Int32Array.from({ length: 5 * 5 }, (_, t) => t % 5);
    const rowPtr = Int32Array.from({ length: 6 }, (_, i) => i * 5);
    expect(attentionReference({ ...dense, rowPtr, colIdx: all })).toEqual(attentionReference(dense));
  });

  it('is the kernel math: P rounding changes the result, and only within its precision', () => {
    for (const dtype of ['bf16', 'e4m3'] as const) {
      const o = operands(ragged, dtype, 5);
      const rounded = attentionReference(o);
      const exact = attentionReference({ ...o, pRounding: 'none' });
      const d = maxAbsDiff(rounded, exact);
      expect(d).toBeGreaterThan(0);
      let scale = 0;
      for (const x of exact) scale = Math.max(scale, Math.abs(x));
      expect(d / scale).toBeLessThan(dtype === 'e4m3' ? 0.1 : 0.01);
    }
  });

  it('rounds P*448 to E4M3 against the running max, and sums the unrounded p', () => {
    // One query, one key block of two keys with scores 0 and ln(0.3): p = [1, 0.3].
    const o: AttentionReferenceOptions = {
      dtype: 'e4m3',
      batch: 1,
      heads: 1,
      headDim: 1,
      numBlocks: 1,
      blockRows: 2,
      q: Float64Array.from([1, 0]),
      k: Float64Array.from([0, Math.log(0.3)]),
      v: Float64Array.from([1, 2]),
      qScale: Float64Array.from([1, 1]),
      kScale: Float64Array.from([1, 1]),
      vScale: Float64Array.from([0.5]),
      blockValidRows: Int32Array.from([1 + 1]),
      rowPtr: null,
      colIdx: null,
      softmaxScale: 1,
    };
    const pq = decodeFp8({ code: encodeFp8({ value: Math.fround(0.3 * ATTENTION_P_SCALE), format: 'e4m3' }), format: 'e4m3' });
    const expected = ((ATTENTION_P_SCALE * 1 + pq * 2) / (ATTENTION_P_SCALE * 1.3)) * 0.5;
    const out = attentionReference(o);
    expect(out[0]).toBeCloseTo(expected, 14);
    expect(pq).not.toBe(0.3 * ATTENTION_P_SCALE); // the case does exercise the rounding
  });

  it('writes zeros for empty lists, empty blocks and padding rows', () => {
    const o = operands(ragged, 'e4m3', 6);
    const out = attentionReference(o);
    const npad = 5 * R;
    const hd = 2 * 16;
    for (let b = 0; b < 2; b++)
      for (let r = 0; r < npad; r++)
        for (let h = 0; h < 2; h++) {
          const blk = Math.floor(r / R);
          const padding = r % R >= ragged.valid[blk]!;
          const emptyList = (h === 0 && blk === 3) || (h === 1 && (blk === 3 || blk === 4));
          const row = out.subarray((b * npad + r) * hd + h * 16, (b * npad + r) * hd + h * 16 + 16);
          if (padding || emptyList) expect(row.every((x) => x === 0)).toBe(true);
          else expect(row.some((x) => x !== 0)).toBe(true);
        }
  });

  it.each(['k', 'v'] as const)('spreads a NaN in one key of %s only to the rows whose lists hold its block', (tensor) => {
    const o = operands(ragged, 'bf16', 7);
    const npad = 5 * R;
    const hd = 2 * 16;
    const key = 2 * R + 3; // batch 0, block 2, row 3
    o[tensor][(0 * npad + key) * hd + 0 * 16 + 5] = Number.NaN; // head 0 only
    const out = attentionReference(o);
    const head0Lists = [[0, 2], [1], [0, 1, 2, 4], [], [4]];
    for (let b = 0; b < 2; b++)
      for (let qb = 0; qb < 5; qb++)
        for (let i = 0; i < ragged.valid[qb]!; i++)
          for (let h = 0; h < 2; h++) {
            const row = Array.from(out.subarray((b * npad + qb * R + i) * hd + h * 16, (b * npad + qb * R + i) * hd + h * 16 + 16));
            const reached = b === 0 && h === 0 && head0Lists[qb]!.includes(2);
            const label = `b${b} h${h} row ${qb * R + i}`;
            // A NaN score poisons the whole row (through the softmax); a NaN value only its channel (through P*V).
            const poisoned = tensor === 'k' ? row.map(() => reached) : row.map((_, c) => reached && c === 5);
            expect(row.map(Number.isNaN), label).toEqual(poisoned);
          }
  });

  it('keeps large finite scores finite (no overflow in exp)', () => {
    const o = operands({ ...ragged, rowPtr: null, colIdx: null }, 'bf16', 8);
    const big = attentionReference({ ...o, softmaxScale: 1e30 });
    for (let i = 0; i < big.length; i++) expect(Number.isFinite(big[i])).toBe(true);
  });

  it('rejects lists that are not ascending, out of range or of the wrong head count', () => {
    const o = operands(ragged, 'bf16', 9);
    expect(() => attentionReference({ ...o, colIdx: Int32Array.from([2, 0, ...ragged.colIdx!.slice(2)]) })).toThrow(/colIdx\[1\]/);
    expect(() => attentionReference({ ...o, colIdx: Int32Array.from([0, 5, ...ragged.colIdx!.slice(2)]) })).toThrow(/colIdx\[1\]/);
    expect(() => attentionReference({ ...o, rowPtr: ragged.rowPtr!.slice(0, 11) })).toThrow(/rowPtr/);
    expect(() => attentionReference({ ...o, rowPtr: null })).toThrow(/both null/);
    expect(() => attentionReference({ ...o, blockValidRows: Int32Array.from([16, 16, 17, 0, 0]) })).toThrow(/blockValidRows\[2\]/);
    expect(() => attentionReference({ ...o, q: new Float64Array(3) })).toThrow(/'q'/);
  });

  it('rounds its float64 output to BF16 like the fp8 package', () => {
    const values = Float64Array.from([0, 1, -1.00390625, 3.14159, 1e-40, Number.NaN, Number.POSITIVE_INFINITY, 65504.5]);
    const bits = float64ToBf16Bits(values);
    values.forEach((x, i) => {
      const expected = Number.isNaN(x) ? Number.NaN : roundToBf16(x);
      const actual = new Float32Array(new Uint32Array([bits[i]! << 16]).buffer)[0];
      expect(actual).toBe(expected);
    });
  });

  // A timing, not a check of the math (the tests above are): skipped under mutation testing, where it would run per mutant.
  it.skipIf(process.env.FPSATTN_MUTATION === '1')('runs a 4,096-token, 2-head, headDim-128 dense E4M3 call in seconds', () => {
    const numBlocks = 32;
    const blockRows = 128;
    const n = numBlocks * blockRows;
    const hd = 2 * 128;
    const rnd = seededRandom(10);
    const codes = () => Float64Array.from({ length: n * hd }, () => decodeFp8({ code: Math.floor(rnd() * 0x7e), format: 'e4m3' }) * (rnd() < 0.5 ? -1 : 1));
    const started = performance.now();
    const out = attentionReference({
      dtype: 'e4m3',
      batch: 1,
      heads: 2,
      headDim: 128,
      numBlocks,
      blockRows,
      q: codes(),
      k: codes(),
      v: codes(),
      qScale: new Float64Array(2 * n).fill(1e-3),
      kScale: new Float64Array(2 * n).fill(1e-3),
      vScale: new Float64Array(hd).fill(1e-2),
      blockValidRows: new Int32Array(numBlocks).fill(blockRows),
      rowPtr: null,
      colIdx: null,
      softmaxScale: 1 / Math.sqrt(128),
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(`attentionReference: 4096 tokens x 2 heads x 128, dense e4m3: ${seconds.toFixed(2)} s`);
    expect(out.every(Number.isFinite)).toBe(true);
  }, 60_000);
});

/**
 * The header's math as a straightforward loop, one (query row, key block) at a time and one key at a time: a plain
 * dot product per score, the online max and sum, P rounded value by value with the fp8 package's scalar conversions,
 * and each block's P V sum added as acc * alpha + sum. No blocking, no heap, no SIMD: what the fast twin must equal
 * up to the order of its sums.
 */
function straightforwardTwin(o: AttentionReferenceOptions, R: number): Float64Array {
  const { batch, heads, headDim: D, numBlocks } = o;
  const npad = numBlocks * R;
  const hd = heads * D;
  const out = new Float64Array(batch * npad * hd);
  const listHeads = o.rowPtr ? o.rowPtr.length / (numBlocks + 1) : 1;
  const fp8 = o.dtype === 'e4m3';
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let qb = 0; qb < numBlocks; qb++) {
        const blocks: number[] = [];
        if (o.rowPtr && o.colIdx) {
          const base = (listHeads === 1 ? 0 : h) * (numBlocks + 1);
          for (let t = o.rowPtr[base + qb]!; t < o.rowPtr[base + qb + 1]!; t++) blocks.push(o.colIdx[t]!);
        } else for (let kb = 0; kb < numBlocks; kb++) blocks.push(kb);
        for (let i = 0; i < o.blockValidRows[qb]!; i++) {
          const qi = qb * R + i;
          let m = Number.NEGATIVE_INFINITY;
          let l = 0;
          const acc = new Float64Array(D);
          for (const kb of blocks) {
            const keys = Array.from({ length: o.blockValidRows[kb]! }, (_, j) => kb * R + j);
            if (keys.length === 0) continue;
            const scores = keys.map((kj) => {
              let dot = 0;
              for (let c = 0; c < D; c++) dot += o.q[(b * npad + qi) * hd + h * D + c]! * o.k[(b * npad + kj) * hd + h * D + c]!;
              const qs = fp8 ? o.qScale![(b * heads + h) * npad + qi]! : 1;
              const ks = !fp8 ? 1 : o.kBlockScale ? o.kBlockScale[(b * heads + h) * numBlocks + kb]! : o.kScale![(b * heads + h) * npad + kj]!;
              return dot * qs * ks * o.softmaxScale;
            });
            const mNew = scores.reduce((x, y) => (y > x ? y : x), m);
            const alpha = m === Number.NEGATIVE_INFINITY ? 0 : Math.exp(m - mNew);
            m = mNew;
            const p = scores.map((sc) => Math.exp(sc - (mNew === Number.NEGATIVE_INFINITY ? 0 : mNew)));
            l = l * alpha + p.reduce((x, y) => x + y, 0);
            const pq = p.map((x) => {
              if (o.pRounding === 'none') return fp8 ? x * ATTENTION_P_SCALE : x;
              if (!fp8) return roundToBf16(x);
              return decodeFp8({ code: encodeFp8({ value: Math.fround(x * ATTENTION_P_SCALE), format: 'e4m3' }), format: 'e4m3' });
            });
            for (let c = 0; c < D; c++) {
              let sum = 0;
              keys.forEach((kj, n) => (sum += pq[n]! * o.v[(b * npad + kj) * hd + h * D + c]!));
              acc[c] = acc[c]! * alpha + sum;
            }
          }
          if (l === 0) continue;
          for (let c = 0; c < D; c++) {
            const at = (b * npad + qi) * hd + h * D + c;
            out[at] = fp8 ? (acc[c]! / (ATTENTION_P_SCALE * l)) * o.vScale![b * hd + h * D + c]! : acc[c]! / l;
          }
        }
      }
  return out;
}

/** Padding rows of q, k and v set to NaN: keys that do not exist must not reach any real output, even as 0 * NaN. */
function poisonPadding(o: AttentionReferenceOptions, c: Case, R: number): AttentionReferenceOptions {
  const hd = c.heads * c.headDim;
  const npad = c.numBlocks * R;
  const [q, k, v] = [o.q.slice(), o.k.slice(), o.v.slice()];
  for (let b = 0; b < c.batch; b++)
    for (let r = 0; r < npad; r++)
      if (r % R >= c.valid[Math.floor(r / R)]!) for (const t of [q, k, v]) t.fill(Number.NaN, (b * npad + r) * hd, (b * npad + r + 1) * hd);
  return { ...o, q, k, v };
}

/** max |a - b| over max |b|. */
function relativeDiff(a: Float64Array, b: Float64Array): number {
  let scale = 0;
  for (const x of b) scale = Math.max(scale, Math.abs(x));
  return maxAbsDiff(a, b) / scale;
}

describe('attentionReference against a straightforward per-pair loop', () => {
  // Odd block rows and headDim, partial and empty blocks, per-head lists that skip and revisit blocks: every tail of
  // the SIMD kernels, and a list order that a reordering bug would break (P is rounded against the running max).
  const odd: Case = { ...ragged, heads: 2, headDim: 13, valid: [15, 9, 7, 0, 11], numBlocks: 5 };
  it.each([
    ['e4m3', 'wasm-simd'],
    ['e4m3', 'js'],
    ['bf16', 'wasm-simd'],
    ['bf16', 'js'],
  ] as const)('equals it to 1e-12 relative (%s, %s kernels, 15-row blocks, headDim 13, ragged per-head lists)', (dtype, kernels) => {
    const R15 = 15;
    const o = poisonPadding(operands(odd, dtype, 30, R15), odd, R15);
    const expected = straightforwardTwin(o, R15);
    expect(expected.some((x) => x !== 0)).toBe(true);
    expect(expected.every(Number.isFinite)).toBe(true);
    expect(relativeDiff(attentionReference({ ...o, kernels }), expected)).toBeLessThan(1e-12);
    expect(relativeDiff(attentionReference({ ...o, kernels, pRounding: 'none' }), straightforwardTwin({ ...o, pRounding: 'none' }, R15))).toBeLessThan(1e-12);
    // A wrong visiting order of the key blocks is far outside that tolerance.
    const reversed = o.colIdx!.slice();
    for (let h = 0; h < 2; h++)
      for (let qb = 0; qb < 5; qb++) {
        const s = o.rowPtr![h * 6 + qb]!;
        const e = o.rowPtr![h * 6 + qb + 1]!;
        reversed.set(o.colIdx!.slice(s, e).reverse(), s);
      }
    expect(relativeDiff(straightforwardTwin({ ...o, colIdx: reversed }, R15), expected)).toBeGreaterThan(1e-6);
  });

  it('equals it with per-block K scales and 128-row blocks (the kernel\'s shape, SIMD kernels)', () => {
    const o = poisonPadding(operands(kernelBlocks, 'e4m3', 31, 128), kernelBlocks, 128);
    const { kBlockScale } = blockScales(kernelBlocks, 128, 32);
    const perBlock = { ...o, kScale: null, kBlockScale };
    expect(relativeDiff(attentionReference(perBlock), straightforwardTwin(perBlock, 128))).toBeLessThan(1e-12);
  });
});

/** The kernel's block (128 rows): blocks with 120 real rows, a full one, an empty one, a last partial one; per-head lists. */
const kernelBlocks: Case = {
  batch: 2,
  heads: 2,
  headDim: 16,
  numBlocks: 5,
  valid: [120, 128, 120, 0, 57],
  // head 0: [0,2] [1,4] [0,1,2,4] [] [4];  head 1: [0..4] [1] [2,3] [] [0,4]
  rowPtr: Int32Array.from([0, 2, 4, 8, 8, 9, 9, 14, 15, 17, 17, 19]),
  colIdx: Int32Array.from([0, 2, 1, 4, 0, 1, 2, 4, 4, 0, 1, 2, 3, 4, 1, 2, 3, 0, 4]),
};

/** Per-block scales [batch, heads, numBlocks] and the per-row scales they stand for (padding rows: NaN, never read). */
function blockScales(c: Case, blockRows: number, seed: number): { kBlockScale: Float64Array; kScale: Float64Array } {
  const rnd = seededRandom(seed);
  const npad = c.numBlocks * blockRows;
  const kBlockScale = Float64Array.from({ length: c.batch * c.heads * c.numBlocks }, () => Math.fround(0.01 * (0.5 + rnd())));
  const kScale = new Float64Array(c.batch * c.heads * npad);
  for (let bh = 0; bh < c.batch * c.heads; bh++)
    for (let r = 0; r < npad; r++) {
      const kb = Math.floor(r / blockRows);
      kScale[bh * npad + r] = r % blockRows < c.valid[kb]! ? kBlockScale[bh * c.numBlocks + kb]! : Number.NaN;
    }
  return { kBlockScale, kScale };
}

describe('attentionReference with per-block K scales (kBlockScale)', () => {
  const shared = { ...ragged, rowPtr: ragged.rowPtr!.slice(0, 6), colIdx: ragged.colIdx!.slice(0, 8) };
  it.each([
    ['128-row blocks: 120 real rows, an empty and a last partial block, per-head lists', kernelBlocks, 128],
    ['16-row blocks, ragged, per-head lists with an empty list', ragged, R],
    ['16-row blocks, shared lists', shared, R],
    ['16-row blocks, dense', { ...ragged, rowPtr: null, colIdx: null }, R],
  ] as const)('equals, bit for bit, the twin with the per-row kScale it expands to (%s)', (_, c, blockRows) => {
    const o = operands(c, 'e4m3', 20, blockRows);
    const { kBlockScale, kScale } = blockScales(c, blockRows, 21);
    const perBlock = attentionReference({ ...o, kScale: null, kBlockScale });
    expect(perBlock).toEqual(attentionReference({ ...o, kScale }));
    expect(attentionReference({ ...o, kScale: undefined, kBlockScale, pRounding: 'none' })).toEqual(attentionReference({ ...o, kScale, pRounding: 'none' }));
    expect(perBlock.every(Number.isFinite)).toBe(true); // no padding row's (NaN) scale was read
    expect(perBlock.some((x) => x !== 0)).toBe(true);
    // The block scales matter, each at its own (batch, head, block): a change of one moves only rows of that (b, h).
    const moved = kBlockScale.slice();
    const at = (1 * c.heads + 1) * c.numBlocks + 2; // b 1, h 1, block 2 (real rows in every case)
    moved[at] = moved[at]! * 3;
    const other = attentionReference({ ...o, kScale: null, kBlockScale: moved });
    const npad = c.numBlocks * blockRows;
    const hd = c.heads * c.headDim;
    for (let b = 0; b < c.batch; b++)
      for (let h = 0; h < c.heads; h++) {
        let same = true;
        for (let r = 0; r < npad && same; r++) for (let d = 0; d < c.headDim && same; d++) same = other[(b * npad + r) * hd + h * c.headDim + d] === perBlock[(b * npad + r) * hd + h * c.headDim + d];
        expect(same, `b${b} h${h}`).toBe(!(b === 1 && h === 1));
      }
  });

  it('rejects E4M3 calls with both K scales or neither, and a kBlockScale of the wrong size, with exact messages', () => {
    const o = operands(ragged, 'e4m3', 22);
    const { kBlockScale } = blockScales(ragged, R, 23);
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        return [(e as Error).name, (e as Error).message];
      }
      return null;
    };
    expect(message(() => attentionReference({ ...o, kBlockScale }))).toEqual([
      'InvalidArgumentError',
      "Invalid argument 'kScale': e4m3 takes exactly one of kScale ([2, 2, 80], per key row) and kBlockScale ([2, 2, 5], per key block); both were given",
    ]);
    expect(message(() => attentionReference({ ...o, kScale: null }))).toEqual([
      'InvalidArgumentError',
      "Invalid argument 'kScale': e4m3 takes exactly one of kScale ([2, 2, 80], per key row) and kBlockScale ([2, 2, 5], per key block); neither was given",
    ]);
    expect(message(() => attentionReference({ ...o, kScale: null, kBlockScale: kBlockScale.subarray(1) }))).toEqual([
      'ShapeMismatchError',
      "Shape mismatch for 'kBlockScale': expected 20 elements ([2, 2, 5]), got 19 elements",
    ]);
    expect(message(() => attentionReference({ ...o, kScale: null, kBlockScale: o.kScale }))).toEqual([
      'ShapeMismatchError',
      "Shape mismatch for 'kBlockScale': expected 20 elements ([2, 2, 5]), got 320 elements",
    ]);
    // BF16 reads no scales at all.
    const bf16 = operands(ragged, 'bf16', 24);
    expect(attentionReference({ ...bf16, kBlockScale })).toEqual(attentionReference(bf16));
  });
});
