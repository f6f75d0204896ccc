// attentionForward: the fused block-sparse attention kernel on prepared operands (tile-major, padded to the kernel's
// blocks, quantized, block lists on the device). Native op `attention` (AttentionParams, launchAttention,
// native/src/kernels/attention/attention.cu); CPU backend: the float64 twin of reference.ts. docs/attention-contract.md has the math.
import { InvalidArgumentError, ShapeMismatchError, fp8DecodeTable } from '@fpsattn/fp8';
import { defineOp } from '../../core/define-op';
import { defineNativeOp } from '../../core/native-op';
import { type Tensor, formatShape } from '../../core/tensor';
import { hostView } from '../../cpu/host-storage';
import { backendOf, expectDType, expectOut, expectShape, expectTensor, withOutputs } from '../_checks';
import { type AttentionDType, attentionReference, float64ToBf16Bits } from './reference';
import { ATTENTION_TILE_POLICY } from './tile-policy';

export const ATTENTION = defineNativeOp({
  name: 'attention',
  fields: {
    q: 'tensor',
    k: 'tensor',
    v: 'tensor',
    qScale: 'tensor?',
    kScale: 'tensor?',
    kBlockScale: 'tensor?',
    vScale: 'tensor?',
    blockValidRows: 'tensor',
    keyValidRows: 'tensor?',
    rowPtr: 'tensor?',
    colIdx: 'tensor?',
    out: 'tensor',
    batch: 'int',
    heads: 'int',
    headDim: 'int',
    numBlocks: 'int',
    listHeads: 'int',
    npad: 'int',
    keyBlocks: 'int',
    keyNpad: 'int',
    vTokenStride: 'int',
    softmaxScale: 'float',
    dtype: ['bf16', 'e4m3'],
  },
  result: null,
});

/** Head dimensions the op accepts (the CUDA kernel implements 128; 64 runs on the CPU backend only for now). */
export const ATTENTION_HEAD_DIMS = [64, 128] as const;

interface AttentionForwardOperands {
  /** [batch, npad, heads * headDim]: BF16 values, or E4M3 codes (quantizeRows' codes) with `qScale`. */
  q: Tensor<AttentionDType>;
  /** Same dtype as q; shape [batch, keyNpad, heads * headDim]: q's shape unless `keyBlockValidRows` gives the keys
   * their own block count (keyNpad = keyBlocks * blockN). */
  k: Tensor<AttentionDType>;
  /** BF16: [batch, keyNpad, heads * headDim]; E4M3: V^T codes [batch, heads * headDim, vTokenStride] (quantizeV's codesT
   * per batch item; vTokenStride >= keyNpad, a multiple of 16). keyNpad = npad without `keyBlockValidRows`. */
  v: Tensor<AttentionDType>;
  /** E4M3: float32 [batch, heads, npad] per-row dequantization scales of q (see expandRowScales). */
  qScale?: Tensor<'f32'> | null | undefined;
  /** E4M3: float32 [batch, heads * headDim] per-channel scales of v. */
  vScale?: Tensor<'f32'> | null | undefined;
  /** i32 [numBlocks]: real rows at the start of each block of `ATTENTION_TILE_POLICY.blockM` rows (npad = numBlocks
   * * blockM). Without `keyBlockValidRows` the keys have the same blocks. */
  blockValidRows: Tensor<'i32'>;
  /** Separate key geometry (cross-attention, e.g. Wan's 75,600 video queries against 512 text keys): i32 [keyBlocks],
   * real rows at the start of each key block of `ATTENTION_TILE_POLICY.blockN` rows. k, v (bf16) and kScale then have
   * keyNpad = keyBlocks * blockN rows, kBlockScale keyBlocks columns, FP8 V^T a vTokenStride >= keyNpad; dense means
   * key blocks 0..keyBlocks-1 and colIdx indexes key blocks < keyBlocks. Q, qScale, out and rowPtr keep the query
   * geometry. null/omitted: the keys have the queries' geometry (self-attention). */
  keyBlockValidRows?: Tensor<'i32'> | null | undefined;
  /** i32 [listHeads, numBlocks + 1] absolute offsets into colIdx (listHeads 1 or heads); null/omitted: dense. */
  rowPtr?: Tensor<'i32'> | null | undefined;
  /** i32 [nnz] key block ids (< keyBlocks), ascending within each list. */
  colIdx?: Tensor<'i32'> | null | undefined;
  headDim: number;
  /** Default 1 / sqrt(headDim). */
  softmaxScale?: number;
  /** BF16 [batch, npad, heads * headDim]: padding rows and rows without a valid key are written as 0. */
  out?: Tensor<'bf16'> | undefined;
  name?: string;
}

/** K's scales per key row (and BF16 calls, which take neither). */
export interface AttentionKRowScale {
  /** E4M3: float32 [batch, heads, keyNpad] per-row dequantization scales of k (see expandRowScales); keyNpad = npad
   * without `keyBlockValidRows`. */
  kScale?: Tensor<'f32'> | null | undefined;
  kBlockScale?: null | undefined;
}

/** K's scales per key block: one scale for every key of a block of `ATTENTION_TILE_POLICY.blockN` rows. */
export interface AttentionKBlockScale {
  kScale?: null | undefined;
  /** E4M3: float32 [batch, heads, keyBlocks] (keyBlocks = numBlocks without `keyBlockValidRows`); key row r of batch
   * item b, head h has the scale [b, h, floor(r / blockN)]. For K quantized per tensor, or per tile with each block's real rows in one tile (expandRowScales over a
   * map of one group per block); the kernel runs about 15% faster than with the per-row `kScale`. */
  kBlockScale: Tensor<'f32'>;
}

/** The operands and their scales. E4M3 takes exactly one of `kScale` (per key row) and `kBlockScale` (per key block);
 * BF16 takes neither (nor qScale, vScale). */
export type AttentionForwardOptions = AttentionForwardOperands & (AttentionKRowScale | AttentionKBlockScale);

// ------------------------------------------------------------------------------------------------- CPU side
/** Decoded values of a BF16 or E4M3 tensor's host array, as float64. */
function decodeOperand(t: Tensor<AttentionDType>): Float64Array {
  const out = new Float64Array(t.numel);
  if (t.dtype === 'bf16') {
    const bits = hostView(t as Tensor<'bf16'>);
    const f32 = new Float32Array(1);
    const u32 = new Uint32Array(f32.buffer);
    for (let i = 0; i < bits.length; i++) {
      u32[0] = (bits[i] as number) << 16;
      out[i] = f32[0] as number;
    }
  } else {
    const codes = hostView(t as Tensor<'e4m3'>);
    const table = fp8DecodeTable('e4m3');
    for (let i = 0; i < codes.length; i++) out[i] = table[codes[i] as number] as number;
  }
  return out;
}

/** V^T codes [batch, cols, stride] decoded into rows [batch, npad, cols] (npad: the key rows). */
function untransposeV(vt: Tensor<'e4m3'>, batch: number, cols: number, stride: number, npad: number): Float64Array {
  const codes = hostView(vt);
  const table = fp8DecodeTable('e4m3');
  const out = new Float64Array(batch * npad * cols);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < cols; c++) {
      const src = (b * cols + c) * stride;
      for (let r = 0; r < npad; r++) out[(b * npad + r) * cols + c] = table[codes[src + r] as number] as number;
    }
  return out;
}

// ------------------------------------------------------------------------------------------------- the op
function expectRank3(t: Tensor, name: string): [number, number, number] {
  if (t.shape.length !== 3) {
    throw new ShapeMismatchError({ tensor: name, expected: 'a 3-D [batch, rows, cols] tensor', actual: formatShape(t.shape), hint: `'${t.name}'` });
  }
  return t.shape as unknown as [number, number, number];
}

/**
 * out = softmax(Q K^T * scales) V per (batch, head, query block) over the key blocks of the block's list (every block
 * when dense), with the kernel's exact quantization of P (E4M3: scale 448; BF16: rounded). See docs/attention-contract.md
 * "Attention contract". The CUDA kernel accumulates in float32 in its own order, so it agrees with the float64 CPU twin
 * within a tolerance, not bit for bit.
 */
export const attentionForward = defineOp(
  {
    name: 'attentionForward',
    exactness: {
      tolerance: {
        referenceErrorFactor: 2,
        note:
          "against float64: BF16 modes' error at most 2x a straightforward BF16 implementation's (FlashAttention's rule). E4M3 modes " +
          "differ from the float64 twin of the same fake-quantized math by the FP8 WGMMA accumulator of S = Q K^T (each k32 step aligned " +
          "and truncated toward zero to 13 fraction bits: per score about 2^-13 * sum|q.k| * qScale * kScale * softmaxScale; " +
          "bench/attention/fp22-accumulator-emulation.mjs reproduces the H200 gaps within 4%), negligible for O(1) scores " +
          "(about 5e-3 relative L2) and large only where a row's softmax is one-hot with near-tied top scores",
      },
    },
    native: ATTENTION,
  },
  function attentionForward(o: AttentionForwardOptions): Tensor<'bf16'> {
    const op = 'attentionForward';
    const be = backendOf(o.q, 'q', op);
    const { q, k, v, headDim } = o;
    expectDType(q, 'q', ['bf16', 'e4m3']);
    const dtype = q.dtype as AttentionDType;
    const fp8 = dtype === 'e4m3';
    const [batch, npad, cols] = expectRank3(q, 'q');
    if (!(ATTENTION_HEAD_DIMS as readonly unknown[]).includes(headDim)) {
      throw new InvalidArgumentError({ argument: 'headDim', value: headDim, message: `expected one of ${ATTENTION_HEAD_DIMS.join(', ')} (the CUDA kernel implements 128)` });
    }
    if (batch < 1 || cols < headDim || cols % headDim !== 0) {
      throw new ShapeMismatchError({ tensor: 'q', expected: `[batch >= 1, npad, heads * ${headDim}] with heads >= 1`, actual: formatShape(q.shape), hint: `'${q.name}'` });
    }
    const heads = cols / headDim;
    expectTensor(o.blockValidRows, 'blockValidRows', be, op);
    expectDType(o.blockValidRows, 'blockValidRows', ['i32']);
    const blockM = ATTENTION_TILE_POLICY.blockM;
    const numBlocks = o.blockValidRows.shape.length === 1 ? (o.blockValidRows.shape[0] as number) : -1;
    if (numBlocks < 1 || npad !== numBlocks * blockM) {
      throw new ShapeMismatchError({
        tensor: 'blockValidRows',
        expected: `[numBlocks] with numBlocks * ${blockM} = ${npad} (q's rows, whole blocks of ATTENTION_TILE_POLICY.blockM)`,
        actual: formatShape(o.blockValidRows.shape),
      });
    }
    // The key geometry: the queries' own, or keyBlockValidRows' blocks (cross-attention).
    const keyValidRows = o.keyBlockValidRows ?? null;
    let keyBlocks = numBlocks;
    if (keyValidRows !== null) {
      expectTensor(keyValidRows, 'keyBlockValidRows', be, op);
      expectDType(keyValidRows, 'keyBlockValidRows', ['i32']);
      keyBlocks = keyValidRows.shape.length === 1 ? (keyValidRows.shape[0] as number) : -1;
      if (keyBlocks < 1) {
        throw new ShapeMismatchError({
          tensor: 'keyBlockValidRows',
          expected: '[keyBlocks] with keyBlocks >= 1 (real rows of each key block of ATTENTION_TILE_POLICY.blockN rows)',
          actual: formatShape(keyValidRows.shape),
          hint: `'${keyValidRows.name}'`,
        });
      }
    }
    const keyNpad = keyValidRows === null ? npad : keyBlocks * ATTENTION_TILE_POLICY.blockN;
    const keyRowsWhat = keyValidRows === null ? '' : ` (keyNpad = ${keyBlocks} key blocks * ${ATTENTION_TILE_POLICY.blockN})`;
    const keyShape = [batch, keyNpad, cols];
    expectTensor(k, 'k', be, op);
    expectDType(k, 'k', [dtype]);
    if (k.shape.length !== 3 || k.shape.some((d, i) => d !== keyShape[i])) {
      throw new ShapeMismatchError({
        tensor: 'k',
        expected:
          keyValidRows === null
            ? `${formatShape(keyShape)} (q's shape; keys of another length need keyBlockValidRows)`
            : `${formatShape(keyShape)}${keyRowsWhat}`,
        actual: formatShape(k.shape),
        hint: `'${k.name}'`,
      });
    }
    expectTensor(v, 'v', be, op);
    expectDType(v, 'v', [dtype]);
    let vTokenStride = keyNpad;
    if (fp8) {
      const [vb, vc, stride] = expectRank3(v, 'v');
      if (vb !== batch || vc !== cols || stride < keyNpad || stride % 16 !== 0) {
        throw new ShapeMismatchError({
          tensor: 'v',
          expected: `V^T codes [${batch}, ${cols}, vTokenStride] with vTokenStride >= ${keyNpad}${keyRowsWhat} and a multiple of 16`,
          actual: formatShape(v.shape),
          hint: `'${v.name}'`,
        });
      }
      vTokenStride = stride;
      const scale = (t: Tensor<'f32'> | null | undefined, name: string, shape: number[]) => {
        if (t === null || t === undefined) throw new InvalidArgumentError({ argument: name, value: t, message: `e4m3 attention needs ${name} (float32 ${formatShape(shape)})` });
        expectTensor(t, name, be, op);
        expectDType(t, name, ['f32']);
        expectShape(t, name, shape);
      };
      scale(o.qScale, 'qScale', [batch, heads, npad]);
      const given = (t: Tensor | null | undefined) => t !== null && t !== undefined;
      if (given(o.kScale) && given(o.kBlockScale)) {
        throw new InvalidArgumentError({
          argument: 'kBlockScale',
          value: o.kBlockScale?.name,
          message: `e4m3 attention takes exactly one of kScale (per key row) and kBlockScale (per key block), not both ('${o.kScale?.name}' and '${o.kBlockScale?.name}')`,
        });
      }
      if (given(o.kBlockScale)) scale(o.kBlockScale, 'kBlockScale', [batch, heads, keyBlocks]);
      else if (given(o.kScale)) scale(o.kScale, 'kScale', [batch, heads, keyNpad]);
      else {
        throw new InvalidArgumentError({
          argument: 'kScale',
          value: o.kScale,
          message: `e4m3 attention needs kScale (float32 ${formatShape([batch, heads, keyNpad])}, per key row) or kBlockScale (float32 ${formatShape([batch, heads, keyBlocks])}, per key block of ${ATTENTION_TILE_POLICY.blockN} rows)`,
        });
      }
      scale(o.vScale, 'vScale', [batch, cols]);
    } else {
      expectShape(v, 'v', keyShape);
      for (const name of ['qScale', 'kScale', 'kBlockScale', 'vScale'] as const) {
        if (o[name] !== null && o[name] !== undefined) {
          throw new InvalidArgumentError({ argument: name, value: o[name]?.name, message: 'bf16 attention takes no scales (pass null or leave it out)' });
        }
      }
    }
    const rowPtr = o.rowPtr ?? null;
    const colIdx = o.colIdx ?? null;
    let listHeads = 1;
    if ((rowPtr === null) !== (colIdx === null)) {
      throw new InvalidArgumentError({ argument: rowPtr === null ? 'rowPtr' : 'colIdx', value: null, message: 'rowPtr and colIdx come together (sparse) or not at all (dense)' });
    }
    if (rowPtr !== null && colIdx !== null) {
      expectTensor(rowPtr, 'rowPtr', be, op);
      expectDType(rowPtr, 'rowPtr', ['i32']);
      listHeads = rowPtr.shape[0] ?? 0;
      if (rowPtr.shape.length !== 2 || (listHeads !== 1 && listHeads !== heads) || rowPtr.shape[1] !== numBlocks + 1) {
        throw new ShapeMismatchError({ tensor: 'rowPtr', expected: `[1 or ${heads} (heads), ${numBlocks + 1} (numBlocks + 1)]`, actual: formatShape(rowPtr.shape), hint: `'${rowPtr.name}'` });
      }
      expectTensor(colIdx, 'colIdx', be, op);
      expectDType(colIdx, 'colIdx', ['i32']);
      if (colIdx.shape.length !== 1) throw new ShapeMismatchError({ tensor: 'colIdx', expected: 'a 1-D [nnz] tensor', actual: formatShape(colIdx.shape), hint: `'${colIdx.name}'` });
    }
    const softmaxScale = o.softmaxScale ?? 1 / Math.sqrt(headDim);
    if (typeof softmaxScale !== 'number' || !Number.isFinite(softmaxScale)) {
      throw new InvalidArgumentError({ argument: 'softmaxScale', value: softmaxScale, message: 'expected a finite number (default 1 / sqrt(headDim))' });
    }
    const inputs: Tensor[] = [q, k, v, o.blockValidRows];
    for (const t of [o.qScale, o.kScale, o.kBlockScale, o.vScale, keyValidRows, rowPtr, colIdx]) if (t) inputs.push(t);
    const kBlockScale = fp8 ? (o.kBlockScale ?? null) : null;
    const kScale = fp8 && kBlockScale === null ? (o.kScale as Tensor<'f32'>) : null;
    if (o.out !== undefined) expectOut(o.out, 'out', 'bf16', [batch, npad, cols], be, op, inputs);

    return withOutputs(be, (outputs) => {
      const out = o.out ?? outputs.empty([batch, npad, cols], 'bf16', o.name ?? `${q.name}.attention`);
      be.dispatch(op, {
        cpu: () => {
          const result = attentionReference({
            dtype,
            batch,
            heads,
            headDim,
            numBlocks,
            ...(keyValidRows === null ? {} : { keyBlocks, keyValidRows: hostView(keyValidRows) }),
            blockRows: blockM,
            q: decodeOperand(q),
            k: decodeOperand(k),
            v: fp8 ? untransposeV(v as Tensor<'e4m3'>, batch, cols, vTokenStride, keyNpad) : decodeOperand(v),
            qScale: fp8 ? hostView(o.qScale as Tensor<'f32'>) : null,
            kScale: kScale === null ? null : hostView(kScale),
            kBlockScale: kBlockScale === null ? null : hostView(kBlockScale),
            vScale: fp8 ? hostView(o.vScale as Tensor<'f32'>) : null,
            blockValidRows: hostView(o.blockValidRows),
            rowPtr: rowPtr ? hostView(rowPtr) : null,
            colIdx: colIdx ? hostView(colIdx) : null,
            softmaxScale,
          });
          float64ToBf16Bits(result, hostView(out));
        },
        cuda: (device) =>
          device.call(ATTENTION, {
            q: device.ref(q),
            k: device.ref(k),
            v: device.ref(v),
            qScale: device.optionalRef(fp8 ? o.qScale : null),
            kScale: device.optionalRef(kScale),
            kBlockScale: device.optionalRef(kBlockScale),
            vScale: device.optionalRef(fp8 ? o.vScale : null),
            blockValidRows: device.ref(o.blockValidRows),
            keyValidRows: device.optionalRef(keyValidRows),
            rowPtr: device.optionalRef(rowPtr),
            colIdx: device.optionalRef(colIdx),
            out: device.ref(out),
            batch,
            heads,
            headDim,
            numBlocks,
            listHeads,
            npad,
            keyBlocks: keyValidRows === null ? 0 : keyBlocks,
            keyNpad: keyValidRows === null ? 0 : keyNpad,
            vTokenStride,
            softmaxScale,
            dtype,
          }),
      });
      return out;
    });
  },
);
