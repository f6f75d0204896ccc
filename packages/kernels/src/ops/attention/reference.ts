/**
 * The float64 CPU twin of the attention kernel (docs/attention-contract.md): block-streaming online softmax
 * over key blocks in CSR order, with the kernel's fake quantization of P, on already decoded operands. Pure functions
 * on typed arrays: the CPU backend of `attentionForward` runs them, and the GPU suite compares the kernel with them.
 *
 * Per (batch b, head h, query block qb, valid query row i), key blocks kb visited in list order:
 *
 *   s_ij  = dot(q_i, k_j) * qScale[b,h,i] * kScale[b,h,j] * softmaxScale       (bf16: no q/k scales)
 *           with kBlockScale instead of kScale: kScale[b,h,j] = kBlockScale[b,h,kb] for every key j of block kb
 *           j < blockValidRows[kb]; padding keys do not exist for the row
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
import { InvalidArgumentError, ShapeMismatchError, encodeFp8Array, fp8DecodeTable } from '@fpsattn/fp8';
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
  /** [batch, npad, heads * headDim]: BF16 values, or decoded E4M3 codes (scales not applied). */
  q: Values;
  k: Values;
  /** [batch, npad, heads * headDim] row-major (the op un-transposes V's K-major codes): values or decoded codes. */
  v: Values;
  /** e4m3: [batch, heads, npad] per-row dequantization scales of q / k. Ignored for bf16. */
  qScale?: Values | null;
  kScale?: Values | null;
  /** e4m3, instead of kScale: [batch, heads, numBlocks] one dequantization scale per key block (every key of block kb
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
}

function expectLength(name: string, a: { length: number } | null | undefined, n: number, what: string): void {
  if (!a || a.length !== n) throw new ShapeMismatchError({ tensor: name, expected: `${n} elements (${what})`, actual: a ? `${a.length} elements` : 'nothing' });
}

function expectCount(name: string, value: number, min: number): void {
  if (!Number.isSafeInteger(value) || value < min) throw new InvalidArgumentError({ argument: name, value, message: `expected an integer >= ${min}` });
}

/** Checks the shapes and the block lists of a twin call (the op validates tensors; this guards direct callers). */
function checkReference(o: AttentionReferenceOptions, blockRows: number): { npad: number; listHeads: number } {
  expectCount('batch', o.batch, 1);
  expectCount('heads', o.heads, 1);
  expectCount('headDim', o.headDim, 1);
  expectCount('numBlocks', o.numBlocks, 0);
  expectCount('blockRows', blockRows, 1);
  if (o.dtype !== 'bf16' && o.dtype !== 'e4m3') throw new InvalidArgumentError({ argument: 'dtype', value: o.dtype, message: "expected 'bf16' or 'e4m3'" });
  const npad = o.numBlocks * blockRows;
  const hd = o.heads * o.headDim;
  const rowsWhat = `[${o.batch}, ${npad}, ${hd}]`;
  expectLength('q', o.q, o.batch * npad * hd, rowsWhat);
  expectLength('k', o.k, o.batch * npad * hd, rowsWhat);
  expectLength('v', o.v, o.batch * npad * hd, rowsWhat);
  if (o.dtype === 'e4m3') {
    expectLength('qScale', o.qScale, o.batch * o.heads * npad, `[${o.batch}, ${o.heads}, ${npad}]`);
    const perRow = o.kScale !== null && o.kScale !== undefined;
    const perBlock = o.kBlockScale !== null && o.kBlockScale !== undefined;
    if (perRow === perBlock) {
      throw new InvalidArgumentError({
        argument: 'kScale',
        value: perRow ? 'kScale and kBlockScale' : null,
        message: `e4m3 takes exactly one of kScale ([${o.batch}, ${o.heads}, ${npad}], per key row) and kBlockScale ([${o.batch}, ${o.heads}, ${o.numBlocks}], per key block); ${perRow ? 'both were given' : 'neither was given'}`,
      });
    }
    if (perRow) expectLength('kScale', o.kScale, o.batch * o.heads * npad, `[${o.batch}, ${o.heads}, ${npad}]`);
    else expectLength('kBlockScale', o.kBlockScale, o.batch * o.heads * o.numBlocks, `[${o.batch}, ${o.heads}, ${o.numBlocks}]`);
    expectLength('vScale', o.vScale, o.batch * hd, `[${o.batch}, ${hd}]`);
  }
  expectLength('blockValidRows', o.blockValidRows, o.numBlocks, '[numBlocks]');
  for (let b = 0; b < o.numBlocks; b++) {
    const n = o.blockValidRows[b] as number;
    if (n < 0 || n > blockRows) throw new InvalidArgumentError({ argument: `blockValidRows[${b}]`, value: n, message: `expected 0..${blockRows}` });
  }
  if (o.out) expectLength('out', o.out, o.batch * npad * hd, rowsWhat);
  if ((o.rowPtr === null) !== (o.colIdx === null)) {
    throw new InvalidArgumentError({ argument: 'rowPtr', value: o.rowPtr === null ? null : 'Int32Array', message: 'rowPtr and colIdx are both null (dense) or both given' });
  }
  if (o.rowPtr === null || o.colIdx === null) return { npad, listHeads: 1 };
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
        if (kb < 0 || kb >= o.numBlocks || (t > start && kb <= (o.colIdx[t - 1] as number))) {
          throw new InvalidArgumentError({ argument: `colIdx[${t}]`, value: kb, message: `expected key blocks in 0..${o.numBlocks - 1}, strictly ascending within a row` });
        }
      }
    }
  }
  return { npad, listHeads };
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** f32 then BF16 round-to-nearest-even (NaN kept as NaN), as the kernel converts P for the BF16 P*V product. */
function bf16Round(p: number): number {
  f32[0] = p;
  const bits = u32[0] as number;
  if ((bits & 0x7fffffff) > 0x7f800000) return Number.NaN;
  u32[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) << 16;
  return f32[0] as number;
}

/**
 * C[i][j] = sum_t A[aOff + i*aStride + t] * B[bOff + j*bStride + t] for i < M, j < N, t < K: the two block products
 * (Q K^T with K's rows, P V with V transposed), four rows by four columns at a time so that each load feeds four
 * multiply-adds. Sums run over t in order.
 */
function gemmNT(
  A: Float64Array, aOff: number, aStride: number,
  B: Float64Array, bOff: number, bStride: number,
  M: number, N: number, K: number,
  C: Float64Array, cStride: number,
): void {
  const M4 = M - (M % 4);
  const N4 = N - (N % 4);
  for (let i = 0; i < M4; i += 4) {
    const a0 = aOff + i * aStride;
    const a1 = a0 + aStride;
    const a2 = a1 + aStride;
    const a3 = a2 + aStride;
    for (let j = 0; j < N4; j += 4) {
      const b0 = bOff + j * bStride;
      const b1 = b0 + bStride;
      const b2 = b1 + bStride;
      const b3 = b2 + bStride;
      let s00 = 0, s01 = 0, s02 = 0, s03 = 0, s10 = 0, s11 = 0, s12 = 0, s13 = 0; // prettier-ignore
      let s20 = 0, s21 = 0, s22 = 0, s23 = 0, s30 = 0, s31 = 0, s32 = 0, s33 = 0; // prettier-ignore
      for (let t = 0; t < K; t++) {
        const x0 = B[b0 + t] as number;
        const x1 = B[b1 + t] as number;
        const x2 = B[b2 + t] as number;
        const x3 = B[b3 + t] as number;
        let y = A[a0 + t] as number;
        s00 += y * x0; s01 += y * x1; s02 += y * x2; s03 += y * x3; // prettier-ignore
        y = A[a1 + t] as number;
        s10 += y * x0; s11 += y * x1; s12 += y * x2; s13 += y * x3; // prettier-ignore
        y = A[a2 + t] as number;
        s20 += y * x0; s21 += y * x1; s22 += y * x2; s23 += y * x3; // prettier-ignore
        y = A[a3 + t] as number;
        s30 += y * x0; s31 += y * x1; s32 += y * x2; s33 += y * x3; // prettier-ignore
      }
      let c = i * cStride + j;
      C[c] = s00; C[c + 1] = s01; C[c + 2] = s02; C[c + 3] = s03; // prettier-ignore
      c += cStride;
      C[c] = s10; C[c + 1] = s11; C[c + 2] = s12; C[c + 3] = s13; // prettier-ignore
      c += cStride;
      C[c] = s20; C[c + 1] = s21; C[c + 2] = s22; C[c + 3] = s23; // prettier-ignore
      c += cStride;
      C[c] = s30; C[c + 1] = s31; C[c + 2] = s32; C[c + 3] = s33; // prettier-ignore
    }
  }
  // The edges: rows past M4 (all columns), columns past N4 (rows before M4).
  for (let i = 0; i < M; i++) {
    for (let j = i < M4 ? N4 : 0; j < N; j++) {
      const a = aOff + i * aStride;
      const b = bOff + j * bStride;
      let sum = 0;
      for (let t = 0; t < K; t++) sum += (A[a + t] as number) * (B[b + t] as number);
      C[i * cStride + j] = sum;
    }
  }
}

/**
 * The attention twin: float64 output [batch, npad, heads * headDim] (round it with `float64ToBf16Bits` for the
 * kernel's BF16 output). Each (batch, head) is copied out head-contiguous (Q, K rows; V transposed) so that both block
 * products run on contiguous rows; a 4,096-token, 2-head, headDim-128 dense call is about 8.6 G multiply-adds.
 */
export function attentionReference(o: AttentionReferenceOptions): Float64Array {
  const R = o.blockRows ?? ATTENTION_TILE_POLICY.blockM;
  const { npad, listHeads } = checkReference(o, R);
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

  const allBlocks = new Int32Array(numBlocks);
  for (let i = 0; i < numBlocks; i++) allBlocks[i] = i;
  const decodeE4m3 = fp8DecodeTable('e4m3');
  const qh = new Float64Array(npad * D); // this head's Q rows, contiguous
  const kh = new Float64Array(npad * D);
  const vt = new Float64Array(D * npad); // this head's V, transposed: vt[c * npad + j]
  const S = new Float64Array(R * R); // scores of one (query block, key block)
  const P = new Float64Array(R * R); // P as the P*V product sees it
  const PV = new Float64Array(R * D);
  const pScaled = new Float32Array(R);
  const pCodes = new Uint8Array(R);
  const m = new Float64Array(R);
  const l = new Float64Array(R);
  const alpha = new Float64Array(R);
  const acc = new Float64Array(R * D);

  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      for (let r = 0; r < npad; r++) {
        const src = (b * npad + r) * HD + h * D;
        for (let c = 0; c < D; c++) {
          qh[r * D + c] = o.q[src + c] as number;
          kh[r * D + c] = o.k[src + c] as number;
          vt[c * npad + r] = o.v[src + c] as number;
        }
      }
      const listBase = (listHeads === 1 ? 0 : h) * (numBlocks + 1);
      const scaleBase = (b * heads + h) * npad;
      for (let qb = 0; qb < numBlocks; qb++) {
        const rowsQ = blockValidRows[qb] as number;
        if (rowsQ === 0) continue;
        let keys: Int32Array = allBlocks;
        let start = 0;
        let end = numBlocks;
        if (o.rowPtr !== null && o.colIdx !== null) {
          keys = o.colIdx;
          start = o.rowPtr[listBase + qb] as number;
          end = o.rowPtr[listBase + qb + 1] as number;
        }
        m.fill(Number.NEGATIVE_INFINITY, 0, rowsQ);
        l.fill(0, 0, rowsQ);
        acc.fill(0, 0, rowsQ * D);
        for (let t = start; t < end; t++) {
          const kb = keys[t] as number;
          const rowsK = blockValidRows[kb] as number;
          if (rowsK === 0) continue;
          gemmNT(qh, qb * R * D, D, kh, kb * R * D, D, rowsQ, rowsK, D, S, R);
          const blockScale = kBlockScale ? (kBlockScale[(b * heads + h) * numBlocks + kb] as number) : 1;
          for (let i = 0; i < rowsQ; i++) {
            const si = i * R;
            const rowScale = qScale ? (qScale[scaleBase + qb * R + i] as number) : 1;
            // Scores of this row against the block's valid keys, and their max (NaN ignored, like fmaxf).
            let blockMax = Number.NEGATIVE_INFINITY;
            for (let j = 0; j < rowsK; j++) {
              const colScale = kScale ? (kScale[scaleBase + kb * R + j] as number) : blockScale;
              const sj = (S[si + j] as number) * rowScale * colScale * softmaxScale;
              S[si + j] = sj;
              if (sj > blockMax) blockMax = sj;
            }
            const mOld = m[i] as number;
            const mNew = blockMax > mOld ? blockMax : mOld;
            m[i] = mNew;
            const mRef = mNew === Number.NEGATIVE_INFINITY ? 0 : mNew;
            alpha[i] = mOld === Number.NEGATIVE_INFINITY ? 0 : Math.exp(mOld - mNew);
            let rowSum = 0;
            for (let j = 0; j < rowsK; j++) {
              const pj = Math.exp((S[si + j] as number) - mRef);
              P[si + j] = pj;
              rowSum += pj;
            }
            l[i] = (l[i] as number) * (alpha[i] as number) + rowSum;
            if (!exactP && fp8) {
              for (let j = 0; j < rowsK; j++) pScaled[j] = (P[si + j] as number) * ATTENTION_P_SCALE;
              encodeFp8Array({ input: pScaled.subarray(0, rowsK), format: 'e4m3', saturate: true, out: pCodes.subarray(0, rowsK) });
              for (let j = 0; j < rowsK; j++) P[si + j] = decodeE4m3[pCodes[j] as number] as number;
            } else if (!exactP) {
              for (let j = 0; j < rowsK; j++) P[si + j] = bf16Round(P[si + j] as number);
            } else if (fp8) {
              for (let j = 0; j < rowsK; j++) P[si + j] = (P[si + j] as number) * ATTENTION_P_SCALE;
            }
          }
          gemmNT(P, 0, R, vt, kb * R, npad, rowsQ, D, rowsK, PV, D);
          for (let i = 0; i < rowsQ; i++) {
            const a = i * D;
            const ai = alpha[i] as number;
            for (let c = 0; c < D; c++) acc[a + c] = (acc[a + c] as number) * ai + (PV[a + c] as number);
          }
        }
        for (let i = 0; i < rowsQ; i++) {
          const li = l[i] as number;
          if (li === 0) continue; // empty list or no valid key: the row stays 0
          const oOff = (b * npad + qb * R + i) * HD + h * D;
          const a = i * D;
          if (fp8) {
            const denom = ATTENTION_P_SCALE * li;
            const vs = vScale as Values;
            for (let c = 0; c < D; c++) out[oOff + c] = ((acc[a + c] as number) / denom) * (vs[b * HD + h * D + c] as number);
          } else {
            for (let c = 0; c < D; c++) out[oOff + c] = (acc[a + c] as number) / li;
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
