/**
 * Wan's umT5 text encoder on a kernels Backend (CUDA, or the CPU backend's float64 twins), one prompt at a time; the
 * CPU model is ../encoder.ts (`umt5EncodeCpu`), the reference `T5Encoder` of Wan's t5.py (wan21-architecture.md 6).
 * The real tokens are padded to lp = a multiple of 8 rows (cuBLASLt's N and K); padded keys are masked by the softmax
 * (`validCols`), padded query rows are computed and dropped. Per block, H heads of width d, F32 residual stream x:
 * ```
 * h    = T5LayerNorm(x)                           BF16 [lp, dim]          rmsNormRope (no rope): F32 statistics
 * q, k = h Wq^T, h Wk^T                           BF16 [lp, H d]          gemm, then gatherRows to heads-major [H lp, d]
 * vT   = Wv h^T                                   BF16 [H d, lp]          gemm with the operands swapped: V^T per head
 * S_h  = q_h k_h^T + bias_h                       F32 [H lp, lp]          gemm per head, or one batched over the heads
 *                                                                         (headGemms; no 1/sqrt(d): T5), then + the bias
 * P    = softmax(S) over the real keys            BF16 [H lp, lp]         softmaxRows (scale 1, validCols = length)
 * o_h  = P_h v_h                                  BF16 [H lp, d]          gemm per head (or batched), then gatherRows to
 *                                                                         [lp, H d]
 * x   += o Wo^T                                   F32                     gemm (F32 out), gatedResidual
 * h    = T5LayerNorm(x)                           BF16
 * x   += ((h W1^T) * gelu_tanh(h Wg^T)) W2^T      F32                     gemm (GELU epilogue, F32), gemm (BF16),
 *                                                                         gatedResidual as the product, castToBf16, gemm
 * out  = T5LayerNorm(x)[:length]                  BF16 -> F32 [length, dim]
 * ```
 * The relative position bias [H, lp, lp] comes from one GEMM per block: its BF16 table [H, buckets] times a one-hot
 * [lp lp, buckets] of bucket(j - i), made once per encode on the device by gathering rows of a BF16 identity
 * [buckets, buckets] by bucket (the host uploads lp^2 int32 bucket indices, not the lp^2 x buckets one-hot): each
 * output is exactly one table value.
 *
 * `profile` (optional) is called after the ops of each part are enqueued, with the part's name: a benchmark can wait
 * for the device there or record an event, and charge the time since its previous call to that part
 * (bench/umt5-encode.mjs --profile). Without it nothing is added.
 *
 * Where this rounds (the reference, bf16 throughout with fp32 softmax and norm statistics, rounds more): the weights,
 * every GEMM input (the norms' outputs, q, k, v^T, P, the attention output, the FFN hidden) and fc1's output to BF16;
 * the scores, the bias, the GELU, the gated product and the residual stream stay F32 (the reference rounds the
 * residual to bf16 after each add); the output is rounded to BF16 (the reference's output dtype).
 */
import { decodeBf16Array } from '@fpsattn/fp8';
import { type Backend, type RowMap, type Tensor, castToBf16, createRowMap, gatedResidual, gatherRows, gemm, rmsNormRope, softmaxRows } from '@fpsattn/kernels';
import { WanInputError } from '../../model/errors';
import { umt5HeadDim } from '../config';
import { relativePositionBuckets } from '../relative-position-bucket';
import type { Umt5DeviceBlock, WanUmt5DeviceWeights } from './weights';

/** Token rows are padded to this (cuBLASLt: N and K multiples of 8). */
export const WAN_UMT5_TOKEN_MULTIPLE = 8;

export interface WanUmt5DeviceEncodeOptions {
  /** Token ids; the first `length` are the prompt's (with its `</s>`), any after them (padding) are ignored. */
  ids: Int32Array;
  /** Real tokens, 1..min(textLen, ids.length): the tokenizer's attention-mask sum. */
  length: number;
  /**
   * Called after the ops of each part are enqueued (see {@link WanUmt5DevicePart}); the caller charges the time since
   * its previous call to `part` (after waiting for the device, or by recording an event). For benchmarks.
   */
  profile?: (part: WanUmt5DevicePart) => void;
  /**
   * How the per-head attention products run: `batched` (default: one strided-batched GEMM for q k^T and one for P v,
   * 2 per block instead of 2 x heads; on an H200 in session 7 the same errors as per-head at every tested length and
   * 4x less device time, 4.7 vs 19.8 ms for 4 umT5-XXL blocks at 512 tokens) or `per-head` (one GEMM per head; the
   * same bits on the CPU backend; kept as the reference path of the GPU suite).
   */
  headGemms?: WanUmt5HeadGemms;
}

/** See {@link WanUmt5DeviceEncodeOptions.headGemms}. */
export type WanUmt5HeadGemms = 'per-head' | 'batched';

/**
 * The parts `profile` names: `setup` (token, head and bucket maps uploaded, the embedding gather, the bucket one-hot
 * gathered), `norms` (the T5LayerNorms, the final one included), `qkv` (the q, k, v^T GEMMs), `head-gathers` (q and
 * k to heads-major, the attention output back to token-major), `bias` (the relative-bias GEMM and its add onto the
 * scores), `scores` (the batched q k^T GEMM), `softmax`, `pv` (the batched P v GEMM), `o` (the output projection),
 * `residuals` (the adds onto the F32 stream), `ffn-gemms` (gate with GELU, fc1, fc2), `ffn-gating` (the gated
 * product and its BF16 cast).
 */
export type WanUmt5DevicePart = 'setup' | 'norms' | 'qkv' | 'head-gathers' | 'bias' | 'scores' | 'softmax' | 'pv' | 'o' | 'residuals' | 'ffn-gemms' | 'ffn-gating';

const NO_PROFILE = (_part: WanUmt5DevicePart): void => {};

const CALLER = 'WanUmt5DeviceEncoder.encode';
const BF16_ONE = 0x3f80;

/** The encoder on the weights' backend; weights stay the caller's. */
export class WanUmt5DeviceEncoder {
  readonly weights: WanUmt5DeviceWeights;

  constructor(options: { weights: WanUmt5DeviceWeights }) {
    this.weights = options.weights;
  }

  get backend(): Backend {
    return this.weights.backend;
  }

  /** The encoder's output for the first `length` ids: F32 [length, dim], row-major (trimmed; `padContext` pads it). */
  async encode(options: WanUmt5DeviceEncodeOptions): Promise<Float32Array> {
    const out = this.encodeToDevice(options);
    try {
      return decodeBf16Array({ input: await out.download() });
    } finally {
      out.dispose();
    }
  }

  /** As {@link encode}, the result left on the device: BF16 [length, dim] (the caller disposes it). */
  encodeToDevice(options: WanUmt5DeviceEncodeOptions): Tensor<'bf16'> {
    const { weights, backend } = this;
    const config = weights.config;
    checkInputs(options, config.vocabSize, config.textLen);
    const { ids, length } = options;
    const profile = options.profile ?? NO_PROFILE;
    const headGemms = options.headGemms ?? 'batched';
    if (headGemms !== 'per-head' && headGemms !== 'batched') throw new WanInputError({ input: 'options.headGemms', value: headGemms, rule: "expected 'per-head' or 'batched'", caller: CALLER });
    const { dim, numHeads, numBuckets, eps } = config;
    const lp = Math.ceil(length / WAN_UMT5_TOKEN_MULTIPLE) * WAN_UMT5_TOKEN_MULTIPLE;
    const made: { dispose(): void }[] = [];
    const keep = <T extends { dispose(): void }>(t: T): T => (made.push(t), t);
    try {
      // The embedding rows of the ids, zero rows for the padding; x = 0 + e is the exact F32 value of the BF16 row.
      const tokenRows = new Int32Array(lp).fill(-1);
      tokenRows.set(ids.subarray(0, length));
      const tokens = keep(createRowMap({ backend, indices: tokenRows, targetRows: config.vocabSize, name: 'umt5.tokens' }));
      const x = keep(backend.empty([lp, dim], 'f32', { name: 'umt5.x' }).fillBytes(0));
      const embedded = keep(gatherRows({ src: weights.embedding, map: tokens, name: 'umt5.embedding' }));
      gatedResidual({ x, y: embedded, rowsPerItem: lp });

      const maps = keep(headMaps({ backend, lp, numHeads }));
      const oneHot = keep(deviceBucketOneHot({ backend, lp, numBuckets, maxDistance: config.maxDistance, keep }));
      profile('setup');
      for (const block of weights.blocks) {
        const blockMade: { dispose(): void }[] = [];
        try {
          blockDevice({ x, block, lp, length, headDim: umt5HeadDim(config), numHeads, eps, maps, oneHot, profile, headGemms, keep: (t) => (blockMade.push(t), t) });
        } finally {
          for (const t of blockMade) t.dispose();
        }
      }
      const out = rmsNormRope({ x: keep(x.sliceRows(0, length)), weight: weights.norm, eps, name: 'umt5.out' });
      profile('norms');
      return out;
    } finally {
      for (const t of made) t.dispose();
    }
  }
}

function checkInputs(options: WanUmt5DeviceEncodeOptions, vocabSize: number, textLen: number): void {
  const bad = (input: string, value: unknown, rule: string): never => {
    throw new WanInputError({ input, value, rule, caller: CALLER });
  };
  const { ids, length } = options;
  if (!(ids instanceof Int32Array)) bad('ids', ids, 'expected an Int32Array');
  if (!Number.isSafeInteger(length) || length < 1) bad('length', length, 'expected an integer >= 1 (a tokenized prompt has at least its </s>)');
  if (length > textLen) bad('length', length, `expected at most textLen = ${textLen} tokens (the tokenizer truncates to it)`);
  if (length > ids.length) bad('length', length, `expected at most ids.length = ${ids.length}`);
  for (let i = 0; i < length; i++) {
    const id = ids[i] as number;
    if (id < 0 || id >= vocabSize) bad(`ids[${i}]`, id, `expected a token id in [0, ${vocabSize}) (vocabSize)`);
  }
}

/** The one-hot of bucket(j - i) for every (query i, key j) of lp rows: BF16 bits [lp lp, numBuckets]. */
export function bucketOneHot(options: { lp: number; numBuckets: number; maxDistance: number }): Uint16Array {
  const { lp, numBuckets } = options;
  const buckets = relativePositionBuckets({ length: lp, numBuckets, maxDistance: options.maxDistance });
  const out = new Uint16Array(lp * lp * numBuckets);
  for (let p = 0; p < lp * lp; p++) out[p * numBuckets + (buckets[p] as number)] = BF16_ONE;
  return out;
}

/**
 * {@link bucketOneHot} made on the device, the same bits: row p of a BF16 identity [numBuckets, numBuckets] gathered
 * for every (query, key) pair by its bucket. The host uploads lp^2 int32 indices (1 MiB at 512 tokens) instead of the
 * lp^2 x numBuckets one-hot (16 MiB) and builds no array of that size. The bucket map and the identity go to `keep`.
 */
export function deviceBucketOneHot(options: { backend: Backend; lp: number; numBuckets: number; maxDistance: number; keep: <T extends { dispose(): void }>(t: T) => T }): Tensor<'bf16'> {
  const { backend, lp, numBuckets, keep } = options;
  const eye = new Uint16Array(numBuckets * numBuckets);
  for (let b = 0; b < numBuckets; b++) eye[b * numBuckets + b] = BF16_ONE;
  const identity = keep(backend.fromArray(eye, [numBuckets, numBuckets], 'bf16', { name: 'umt5.bucketIdentity' }));
  const buckets = relativePositionBuckets({ length: lp, numBuckets, maxDistance: options.maxDistance });
  const map: RowMap = keep(createRowMap({ backend, indices: buckets, targetRows: numBuckets, name: 'umt5.buckets' }));
  return gatherRows({ src: identity, map, name: 'umt5.bucketOneHot' });
}

interface HeadMaps {
  /** Token-major rows [lp H, d] (row i H + h) to heads-major [H lp, d] (row h lp + i). */
  toHeads: ReturnType<typeof createRowMap>;
  /** The inverse. */
  toTokens: ReturnType<typeof createRowMap>;
  dispose(): void;
}

function headMaps(options: { backend: Backend; lp: number; numHeads: number }): HeadMaps {
  const { backend, lp, numHeads } = options;
  const heads = new Int32Array(lp * numHeads);
  const tokensOrder = new Int32Array(lp * numHeads);
  for (let h = 0; h < numHeads; h++) {
    for (let i = 0; i < lp; i++) {
      heads[h * lp + i] = i * numHeads + h;
      tokensOrder[i * numHeads + h] = h * lp + i;
    }
  }
  const toHeads = createRowMap({ backend, indices: heads, targetRows: lp * numHeads, name: 'umt5.toHeads' });
  const toTokens = createRowMap({ backend, indices: tokensOrder, targetRows: lp * numHeads, name: 'umt5.toTokens' });
  return { toHeads, toTokens, dispose: () => (toHeads.dispose(), toTokens.dispose()) };
}

/** One encoder block on x (F32 [lp, dim], in place); every temporary goes to `keep` (the caller frees them). */
function blockDevice(o: {
  x: Tensor<'f32'>;
  block: Umt5DeviceBlock;
  lp: number;
  length: number;
  headDim: number;
  numHeads: number;
  eps: number;
  maps: HeadMaps;
  oneHot: Tensor<'bf16'>;
  profile: (part: WanUmt5DevicePart) => void;
  headGemms: WanUmt5HeadGemms;
  keep: <T extends { dispose(): void }>(t: T) => T;
}): void {
  const { x, block, lp, length, headDim: d, numHeads: heads, eps, maps, profile, keep } = o;
  const batched = o.headGemms === 'batched';
  const dimAttn = heads * d;
  // Self-attention.
  const h1 = keep(rmsNormRope({ x, weight: block.norm1, eps, name: 'umt5.norm1' }));
  profile('norms');
  const qTokens = keep(gemm({ x: h1, w: block.q, name: 'umt5.q' }) as Tensor<'bf16'>);
  const kTokens = keep(gemm({ x: h1, w: block.k, name: 'umt5.k' }) as Tensor<'bf16'>);
  const vT = keep(gemm({ x: block.v, w: h1, name: 'umt5.vT' }) as Tensor<'bf16'>);
  profile('qkv');
  const toHeads = (t: Tensor<'bf16'>, name: string): Tensor<'bf16'> => gatherRows({ src: keep(t.reshape([lp * heads, d])), map: maps.toHeads, name });
  const q = keep(toHeads(qTokens, 'umt5.qHeads'));
  const k = keep(toHeads(kTokens, 'umt5.kHeads'));
  profile('head-gathers');
  // The bias first (exact table values), then every head's q k^T in one batched GEMM, then S = q k^T + bias in F32.
  const bias = keep(gemm({ x: block.biasTable, w: o.oneHot, outDtype: 'f32', name: 'umt5.bias' }) as Tensor<'f32'>);
  profile('bias');
  let scores: Tensor<'f32'>;
  if (batched) {
    const scores3 = keep(gemm({ x: keep(q.reshape([heads, lp, d])), w: keep(k.reshape([heads, lp, d])), outDtype: 'f32', name: 'umt5.scores' }) as Tensor<'f32'>);
    scores = keep(scores3.reshape([heads * lp, lp]));
  } else {
    scores = keep(x.backend.empty([heads * lp, lp], 'f32', { name: 'umt5.scores' }));
    for (let h = 0; h < heads; h++) {
      gemm({ x: keep(q.sliceRows(h * lp, lp)), w: keep(k.sliceRows(h * lp, lp)), outDtype: 'f32', out: keep(scores.sliceRows(h * lp, lp)), name: 'umt5.qk' });
    }
  }
  profile('scores');
  gatedResidual({ x: scores, y: keep(bias.reshape([heads * lp, lp])), rowsPerItem: heads * lp });
  profile('bias');
  const p = keep(softmaxRows({ x: scores, scale: 1, validCols: length, name: 'umt5.p' }));
  profile('softmax');
  // o_h = P_h (v^T_h)^T: x = P [H, lp, lp], w = v^T [H, d, lp] -> [H, lp, d].
  let oHeads: Tensor<'bf16'>;
  if (batched) {
    oHeads = keep(gemm({ x: keep(p.reshape([heads, lp, lp])), w: keep(vT.reshape([heads, d, lp])), name: 'umt5.oHeads' }) as Tensor<'bf16'>);
  } else {
    oHeads = keep(x.backend.empty([heads * lp, d], 'bf16', { name: 'umt5.oHeads' }));
    for (let h = 0; h < heads; h++) {
      gemm({ x: keep(p.sliceRows(h * lp, lp)), w: keep(vT.sliceRows(h * d, d)), out: keep(oHeads.sliceRows(h * lp, lp)), name: 'umt5.pv' });
    }
  }
  profile('pv');
  const attended = keep(gatherRows({ src: keep(oHeads.reshape([heads * lp, d])), map: maps.toTokens, name: 'umt5.attended' }));
  profile('head-gathers');
  const attnOut = keep(gemm({ x: keep(attended.reshape([lp, dimAttn])), w: block.o, outDtype: 'f32', name: 'umt5.o' }) as Tensor<'f32'>);
  profile('o');
  gatedResidual({ x, y: attnOut, rowsPerItem: lp });
  profile('residuals');
  // Gated-GELU feed-forward: hidden = 0 + fc1(h) * gelu(gate(h)) through gatedResidual (one F32 product, exact add).
  const h2 = keep(rmsNormRope({ x, weight: block.norm2, eps, name: 'umt5.norm2' }));
  profile('norms');
  const gelu = keep(gemm({ x: h2, w: block.gate, activation: 'gelu', outDtype: 'f32', name: 'umt5.gate' }) as Tensor<'f32'>);
  const up = keep(gemm({ x: h2, w: block.fc1, name: 'umt5.fc1' }) as Tensor<'bf16'>);
  profile('ffn-gemms');
  const hidden = keep(x.backend.empty(gelu.shape, 'f32', { name: 'umt5.hidden' }).fillBytes(0));
  gatedResidual({ x: hidden, y: up, gate: gelu, rowsPerItem: 1 });
  const hiddenBf16 = keep(castToBf16({ src: hidden, name: 'umt5.hiddenBf16' }));
  profile('ffn-gating');
  const ffnOut = keep(gemm({ x: hiddenBf16, w: block.fc2, outDtype: 'f32', name: 'umt5.fc2' }) as Tensor<'f32'>);
  profile('ffn-gemms');
  gatedResidual({ x, y: ffnOut, rowsPerItem: lp });
  profile('residuals');
}
