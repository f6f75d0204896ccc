/**
 * The float64 CPU twin of the attention kernel (docs/attention-contract.md): block-streaming online softmax
 * over key blocks in CSR order, with the kernel's fake quantization of P, on already decoded operands. Pure functions
 * on typed arrays: the CPU backend of `attentionForward` runs them, and the GPU suite compares the kernel with them.
 *
 * Per (batch b, head h, query block qb, valid query row i), key blocks kb visited in list order:
 *
 *   s_ij  = dot(q_i, k_j) * qScale[b,h,i] * kScale[b,h,j] * softmaxScale       (bf16: no q/k scales)
 *           with kBlockScale instead of kScale: kScale[b,h,j] = kBlockScale[b,h,kb] for every key j of block kb
 *           j < keyValidRows[kb]; padding keys do not exist for the row
 *   (keys have their own geometry with `keyValidRows` (cross-attention): keyBlocks blocks, keyNpad = keyBlocks *
 *   blockRows rows in k, v and kScale; dense = key blocks 0..keyBlocks-1. Without it keyValidRows = blockValidRows.)
 *   m_new = max(m_old, max_j s_ij) ignoring NaN (fmaxf);  alpha = exp(m_old - m_new)  (0 while m_old is -inf)
 *   p_ij  = exp(s_ij - m_new)                             (m_new read as 0 while it is -inf, as the kernel does)
 *   e4m3: pq_ij = decode(encode_e4m3_satfinite_rne(f32(p_ij * 448)));  acc = acc * alpha + sum_j pq_ij * v_jc
 *         l = l * alpha + sum_j p_ij  (the row sum uses the unquantized p, like FlashAttention-3)
 *         o_ic = acc_c / (448 * l) * vScale[b, h*D + c]
 *   bf16: pb_ij = bf16_rne(f32(p_ij));  acc = acc * alpha + sum_j pb_ij * v_jc;  o_ic = acc_c / l
 *   l = 0 (empty list, no valid key): o_i = 0; padding query rows: 0.
 *
 * Everything is float64 except the two fake quantizations of P, which go through float32 first because the kernel
 * holds P in float32 registers. `pRounding: 'none'` drops them (p used as is), which turns the twin into exact
 * streaming softmax attention: the tests compare that against a naive full-softmax attention.
 */
import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import { type BlockKernelsKind, createBlockKernels } from './block-kernels';
import { ATTENTION_TILE_POLICY } from './tile-policy';

/** Operand type of the attention kernel: BF16 values, or E4M3 codes with per-row (Q, K) and per-channel (V) scales. */
export type AttentionDType = 'bf16' | 'e4m3';

/** P's fixed tensor-wise FP8 scale: p in [0, 1] is mapped onto [0, 448], E4M3's largest finite value. */
export const ATTENTION_P_SCALE = 448;

type Values = Float64Array | Float32Array;

export interface AttentionReferenceOptions {
  dtype: AttentionDType;
  batch: number;
  heads: number;
  headDim: number;
  numBlocks: number;
  /** Rows per block; default `ATTENTION_TILE_POLICY.blockM`. */
  blockRows?: number;
  /** Separate key geometry (cross-attention): [keyBlocks] valid rows at the start of each key block. k, v and kScale
   * then have keyNpad = keyBlocks * blockRows rows, kBlockScale keyBlocks columns; dense lists are key blocks
   * 0..keyBlocks-1 and colIdx holds key blocks < keyBlocks. null/omitted: the keys have the queries' geometry. */
  keyValidRows?: Int32Array | null;
  /** With keyValidRows: its length (a cross-check; optional). */
  keyBlocks?: number;
  /** [batch, npad, heads * headDim]: BF16 values, or decoded E4M3 codes (scales not applied). */
  q: Values;
  /** [batch, keyNpad, heads * headDim] (keyNpad = npad without keyValidRows). */
  k: Values;
  /** [batch, keyNpad, heads * headDim] row-major (the op un-transposes V's K-major codes): values or decoded codes. */
  v: Values;
  /** e4m3: [batch, heads, npad] per-row dequantization scales of q. Ignored for bf16. */
  qScale?: Values | null;
  /** e4m3: [batch, heads, keyNpad] per-row dequantization scales of k. Ignored for bf16. */
  kScale?: Values | null;
  /** e4m3, instead of kScale: [batch, heads, keyBlocks] one dequantization scale per key block (every key of block kb
   * has kBlockScale[b, h, kb]). Exactly one of kScale and kBlockScale is given for e4m3; ignored for bf16. */
  kBlockScale?: Values | null;
  /** e4m3: [batch, heads * headDim] per-channel dequantization scales of v. Ignored for bf16. */
  vScale?: Values | null;
  /** [numBlocks] valid (real) rows at the start of each block; the rest of the block is padding. */
  blockValidRows: Int32Array;
  /**
   * CSR key-block lists, null for dense (every block, ascending). `rowPtr` is [listHeads, numBlocks + 1] with
   * listHeads 1 (shared by all heads) or `heads`; its entries index `colIdx` directly (absolute offsets).
   */
  rowPtr: Int32Array | null;
  colIdx: Int32Array | null;
  softmaxScale: number;
  /** 'kernel' (default): P is fake-quantized as the kernel does. 'none': p is used unrounded (exact softmax). */
  pRounding?: 'kernel' | 'none';
  /** Where to write the output (float64, [batch, npad, heads * headDim]); a new array when omitted. */
  out?: Float64Array;
  /** Which block kernels do the products, scaling, exponentials and P roundings (block-kernels.ts): 'auto' (default)
   * takes WebAssembly SIMD where the runtime has it; the tests compare both. Results differ only by summation order. */
  kernels?: 'auto' | BlockKernelsKind;
}

function expectLength(name: string, a: { length: number } | null | undefined, n: number, what: string): void {
  if (!a || a.length !== n) throw new ShapeMismatchError({ tensor: name, expected: `${n} elements (${what})`, actual: a ? `${a.length} elements` : 'nothing' });
}

function expectCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new InvalidArgumentError({ argument: name, value, message: `expected an integer >= ${min}` });
}

interface KeyGeometry {
  npad: number;
  listHeads: number;
  keyBlocks: number;
  keyNpad: number;
  keyValidRows: Int32Array;
}

/** Checks the shapes and the block lists of a twin call (the op validates tensors; this guards direct callers). */
function checkReference(o: AttentionReferenceOptions, blockRows: number): KeyGeometry {
  expectCount('batch', o.batch, 1);
  expectCount('heads', o.heads, 1);
  expectCount('headDim', o.headDim, 1);
  expectCount('numBlocks', o.numBlocks, 0);
  expectCount('blockRows', blockRows, 1);
  if (o.dtype !== 'bf16' && o.dtype !== 'e4m3') throw new InvalidArgumentError({ argument: 'dtype', value: o.dtype, message: "expected 'bf16' or 'e4m3'" });
  const npad = o.numBlocks * blockRows;
  const separate = o.keyValidRows !== null && o.keyValidRows !== undefined;
  const keyValidRows = separate ? (o.keyValidRows as Int32Array) : o.blockValidRows;
  const keyBlocks = separate ? keyValidRows.length : o.numBlocks;
  if (separate && (keyBlocks < 1 || (o.keyBlocks !== undefined && o.keyBlocks !== keyBlocks))) {
    throw new ShapeMismatchError({ tensor: 'keyValidRows', expected: `[keyBlocks] with keyBlocks >= 1${o.keyBlocks !== undefined ? ` (keyBlocks ${o.keyBlocks})` : ''}`, actual: `${keyBlocks} elements` });
  }
  if (!separate && o.keyBlocks !== undefined && o.keyBlocks !== o.numBlocks) {
    throw new InvalidArgumentError({ argument: 'keyBlocks', value: o.keyBlocks, message: `a separate key geometry needs keyValidRows [keyBlocks]; without it keys have the queries' ${o.numBlocks} blocks` });
  }
  const keyNpad = keyBlocks * blockRows;
  const hd = o.heads * o.headDim;
  const rowsWhat = `[${o.batch}, ${npad}, ${hd}]`;
  const keyRowsWhat = `[${o.batch}, ${keyNpad}, ${hd}]`;
  expectLength('q', o.q, o.batch * npad * hd, rowsWhat);
  expectLength('k', o.k, o.batch * keyNpad * hd, keyRowsWhat);
  expectLength('v', o.v, o.batch * keyNpad * hd, keyRowsWhat);
  if (o.dtype === 'e4m3') {
    expectLength('qScale', o.qScale, o.batch * o.heads * npad, `[${o.batch}, ${o.heads}, ${npad}]`);
    const perRow = o.kScale !== null && o.kScale !== undefined;
    const perBlock = o.kBlockScale !== null && o.kBlockScale !== undefined;
    if (perRow === perBlock) {
      throw new InvalidArgumentError({
        argument: 'kScale',
        value: perRow ? 'kScale and kBlockScale' : null,
        message: `e4m3 takes exactly one of kScale ([${o.batch}, ${o.heads}, ${keyNpad}], per key row) and kBlockScale ([${o.batch}, ${o.heads}, ${keyBlocks}], per key block); ${perRow ? 'both were given' : 'neither was given'}`,
      });
    }
    if (perRow) expectLength('kScale', o.kScale, o.batch * o.heads * keyNpad, `[${o.batch}, ${o.heads}, ${keyNpad}]`);
    else expectLength('kBlockScale', o.kBlockScale, o.batch * o.heads * keyBlocks, `[${o.batch}, ${o.heads}, ${keyBlocks}]`);
    expectLength('vScale', o.vScale, o.batch * hd, `[${o.batch}, ${hd}]`);
  }
  expectLength('blockValidRows', o.blockValidRows, o.numBlocks, '[numBlocks]');
  for (let b = 0; b < o.numBlocks; b++) {
    const n = o.blockValidRows[b] as number;
    if (n < 0 || n > blockRows) throw new InvalidArgumentError({ argument: `blockValidRows[${b}]`, value: n, message: `expected 0..${blockRows}` });
  }
  if (separate) {
    for (let b = 0; b < keyBlocks; b++) {
      const n = keyValidRows[b] as number;
      if (n < 0 || n > blockRows) throw new InvalidArgumentError({ argument: `keyValidRows[${b}]`, value: n, message: `expected 0..${blockRows}` });
    }
  }
  const geometry = { npad, keyBlocks, keyNpad, keyValidRows };
  if (o.out) expectLength('out', o.out, o.batch * npad * hd, rowsWhat);
  if ((o.rowPtr === null) !== (o.colIdx === null)) {
    throw new InvalidArgumentError({ argument: 'rowPtr', value: o.rowPtr === null ? null : 'Int32Array', message: 'rowPtr and colIdx are both null (dense) or both given' });
  }
  if (o.rowPtr === null || o.colIdx === null) return { ...geometry, listHeads: 1 };
  const stride = o.numBlocks + 1;
  const listHeads = o.rowPtr.length / stride;
  if (listHeads !== 1 && listHeads !== o.heads) {
    throw new ShapeMismatchError({ tensor: 'rowPtr', expected: `[1 or ${o.heads} heads, ${stride}] entries`, actual: `${o.rowPtr.length} entries` });
  }
  for (let h = 0; h < listHeads; h++) {
    for (let qb = 0; qb < o.numBlocks; qb++) {
      const start = o.rowPtr[h * stride + qb] as number;
      const end = o.rowPtr[h * stride + qb + 1] as number;
      if (start < 0 || end < start || end > o.colIdx.length) {
        throw new InvalidArgumentError({ argument: `rowPtr[${h}][${qb}]`, value: [start, end], message: `expected 0 <= start <= end <= ${o.colIdx.length}` });
      }
      for (let t = start; t < end; t++) {
        const kb = o.colIdx[t] as number;
        if (kb < 0 || kb >= keyBlocks || (t > start && kb <= (o.colIdx[t - 1] as number))) {
          throw new InvalidArgumentError({ argument: `colIdx[${t}]`, value: kb, message: `expected key blocks in 0..${keyBlocks - 1}${separate ? ' (keyBlocks)' : ''}, strictly ascending within a row` });
        }
      }
    }
  }
  return { ...geometry, listHeads };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

const roundUp = (n: number, m: number) => Math.ceil(n / m) * m;

/**
 * Where each buffer of one call lives on the block kernels' float64 heap (offsets in elements; block-kernels.ts says
 * why there is slack: its SIMD kernels read and write whole 2 x 4 tiles).
 * - Q, K: this head's rows, contiguous, stride `dk` (headDim rounded up to even: the odd column is zero).
 * - V^T: this head's V transposed block by block: block kb is `dc` rows (one per channel, headDim rounded up to 4)
 *   of `bv` keys (blockRows rounded up to even, so that an odd count of keys has a zero after it), contiguous, so
 *   that the P V product streams one compact block (one row per channel across all keys would put the rows of a
 *   4,096-key call 32 KiB apart, all in one L1 set). Only real rows are written: padding stays zero, and must (it
 *   meets P's zero padding column).
 * - S: one (query block, key block) of scores, then in place P, stride `bs` (blockRows rounded up to 4).
 * - acc: the running P V rows, stride `dc` (headDim rounded up to 4). shift, sums, alpha, max: one value per query
 *   row.
 * - rowScale, colScale: this head's per-row scales of Q (npad) and K (keyNpad) (e4m3; kBlockScale repeated over its block's rows,
 *   which is what it stands for), or ones (bf16).
 */
function heapLayout(npad: number, keyNpad: number, keyBlocks: number, R: number, D: number) {
  const dk = roundUp(D, 2);
  const bv = roundUp(R, 2);
  const bs = roundUp(R, 4);
  const dc = roundUp(D, 4);
  const vBlock = dc * bv;
  const sizes = {
    q: (npad + 2) * dk,
    k: (keyNpad + 4) * dk,
    vt: keyBlocks * vBlock,
    s: (bv + 2) * bs,
    acc: (bv + 2) * dc,
    shift: bv + 2,
    sums: bv + 2,
    alpha: bv + 2,
    max: bv + 2,
    rowScale: npad,
    colScale: keyNpad + 2,
  };
  let next = 0;
  const at = {} as Record<keyof typeof sizes, number>;
  for (const [name, size] of Object.entries(sizes) as [keyof typeof sizes, number][]) {
    at[name] = next;
    next += roundUp(size, 2); // 16-byte aligned SIMD loads
  }
  return { dk, bv, bs, dc, vBlock, at, elements: next };
}

/**
 * The attention twin: float64 output [batch, npad, heads * headDim] (round it with `float64ToBf16Bits` for the
 * kernel's BF16 output). Each (batch, head) is copied out head-contiguous (Q, K rows; V transposed) so that both block
 * products run on contiguous rows; a 4,096-token, 2-head, headDim-128 dense call is about 8.6 G multiply-adds, which
 * the block kernels (block-kernels.ts: WebAssembly SIMD, or JavaScript where there is none) do, with the softmax's
 * exponentials. The rest of the math is here, in JavaScript, element by element in the order of the header.
 */
export function attentionReference(o: AttentionReferenceOptions): Float64Array {
  const R = o.blockRows ?? ATTENTION_TILE_POLICY.blockM;
  const { npad, listHeads, keyBlocks, keyNpad, keyValidRows } = checkReference(o, R);
  const { batch, heads, headDim: D, numBlocks, blockValidRows, softmaxScale } = o;
  const fp8 = o.dtype === 'e4m3';
  const exactP = o.pRounding === 'none';
  const qScale = fp8 ? (o.qScale as Values) : null;
  const kBlockScale = fp8 ? (o.kBlockScale ?? null) : null;
  const kScale = fp8 && kBlockScale === null ? (o.kScale as Values) : null;
  const vScale = fp8 ? (o.vScale as Values) : null;
  const HD = heads * D;
  const out = o.out ?? new Float64Array(batch * npad * HD);
  out.fill(0);

  const layout = heapLayout(npad, keyNpad, keyBlocks, R, D);
  const { dk, bv, bs, dc, vBlock, at } = layout;
  const kernels = createBlockKernels(layout.elements, o.kernels);
  const heap = kernels.heap;
  const allBlocks = new Int32Array(keyBlocks);
  for (let i = 0; i < keyBlocks; i++) allBlocks[i] = i;
  const m = new Float64Array(R);
  const l = new Float64Array(R);

  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let r = 0; r < npad; r++) {
        const src = (b * npad + r) * HD + h * D;
        for (let c = 0; c < D; c++) heap[at.q + r * dk + c] = o.q[src + c] as number;
      }
      for (let r = 0; r < keyNpad; r++) {
        const src = (b * keyNpad + r) * HD + h * D;
        const blk = Math.floor(r / R);
        const inBlock = r - blk * R;
        const real = inBlock < (keyValidRows[blk] as number);
        const vAt = at.vt + blk * vBlock + inBlock;
        for (let c = 0; c < D; c++) {
          heap[at.k + r * dk + c] = o.k[src + c] as number;
          if (real) heap[vAt + c * bv] = o.v[src + c] as number;
        }
      }
      const scaleBase = (b * heads + h) * npad;
      for (let r = 0; r < npad; r++) heap[at.rowScale + r] = qScale ? (qScale[scaleBase + r] as number) : 1;
      const keyScaleBase = (b * heads + h) * keyNpad;
      for (let r = 0; r < keyNpad; r++) {
        const blk = Math.floor(r / R);
        heap[at.colScale + r] = kScale ? (kScale[keyScaleBase + r] as number) : kBlockScale ? (kBlockScale[(b * heads + h) * keyBlocks + blk] as number) : 1;
      }
      const listBase = (listHeads === 1 ? 0 : h) * (numBlocks + 1);
      for (let qb = 0; qb < numBlocks; qb++) {
        const rowsQ = blockValidRows[qb] as number;
        if (rowsQ === 0) continue;
        let keys: Int32Array = allBlocks;
        let start = 0;
        let end = keyBlocks;
        if (o.rowPtr !== null && o.colIdx !== null) {
          keys = o.colIdx;
          start = o.rowPtr[listBase + qb] as number;
          end = o.rowPtr[listBase + qb + 1] as number;
        }
        m.fill(Number.NEGATIVE_INFINITY, 0, rowsQ);
        l.fill(0, 0, rowsQ);
        heap.fill(0, at.acc, at.acc + rowsQ * dc);
        for (let t = start; t < end; t++) {
          const kb = keys[t] as number;
          const rowsK = keyValidRows[kb] as number;
          if (rowsK === 0) continue;
          kernels.dots(at.q + qb * R * dk, dk, at.k + kb * R * dk, dk, rowsQ, rowsK, dk, at.s, bs);
          // s = dot * qScale * kScale * softmaxScale and each row's max (NaN ignored, like fmaxf); the running max m.
          kernels.scaleRows(at.s, bs, rowsQ, rowsK, at.rowScale + qb * R, at.colScale + kb * R, softmaxScale, at.max);
          for (let i = 0; i < rowsQ; i++) {
            const blockMax = heap[at.max + i] as number;
            const mOld = m[i] as number;
            const mNew = blockMax > mOld ? blockMax : mOld;
            m[i] = mNew;
            heap[at.shift + i] = mNew === Number.NEGATIVE_INFINITY ? 0 : mNew;
            heap[at.alpha + i] = mOld === Number.NEGATIVE_INFINITY ? 0 : Math.exp(mOld - mNew);
          }
          // p = exp(s - m) in place, and each row's sum of the unrounded p.
          kernels.expRows(at.s, bs, rowsQ, rowsK, at.shift, at.sums);
          for (let i = 0; i < rowsQ; i++) l[i] = (l[i] as number) * (heap[at.alpha + i] as number) + (heap[at.sums + i] as number);
          // P as the P*V product sees it (pRounding 'none': p, times 448 for e4m3).
          if (!exactP && fp8) kernels.roundE4m3(at.s, bs, rowsQ, rowsK, ATTENTION_P_SCALE);
          else if (!exactP) kernels.roundBf16(at.s, bs, rowsQ, rowsK);
          else if (fp8) for (let i = 0; i < rowsQ; i++) for (let j = 0; j < rowsK; j++) heap[at.s + i * bs + j] = (heap[at.s + i * bs + j] as number) * ATTENTION_P_SCALE;
          // An odd count of keys is summed with one more, zero, term: P's column rowsK against V's zero padding row.
          const kEven = roundUp(rowsK, 2);
          if (kEven !== rowsK) for (let i = 0; i < rowsQ; i++) heap[at.s + i * bs + rowsK] = 0;
          kernels.dotsAccumulate(at.s, bs, at.vt + kb * vBlock, bv, rowsQ, D, kEven, at.acc, dc, at.alpha);
        }
        for (let i = 0; i < rowsQ; i++) {
          const li = l[i] as number;
          if (li === 0) continue; // empty list or no valid key: the row stays 0
          const oOff = (b * npad + qb * R + i) * HD + h * D;
          const a = at.acc + i * dc;
          if (fp8) {
            const denom = ATTENTION_P_SCALE * li;
            const vs = vScale as Values;
            for (let c = 0; c < D; c++) out[oOff + c] = ((heap[a + c] as number) / denom) * (vs[b * HD + h * D + c] as number);
          } else {
            for (let c = 0; c < D; c++) out[oOff + c] = (heap[a + c] as number) / li;
          }
        }
      }
    }
  }
  return out;
}

/** BF16 bits of float64 values, through float32 (the kernel's accumulator type), round to nearest even. */
export function float64ToBf16Bits(values: Float64Array, out: Uint16Array = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) {
    f32[0] = values[i] as number;
    const bits = u32[0] as number;
    out[i] = (bits & 0x7fffffff) > 0x7f800000 ? 0x7fff : ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}
