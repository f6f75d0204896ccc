/**
 * Cross-attention of the video tokens to the text (wan21-architecture.md 1.4, part 2): dense BF16, every one of the
 * textLen context rows a key, no mask beyond the padding the kernel's blocks add.
 *
 * The kernel takes queries as [batch, npad, cols] (128-row blocks) and, with `keyBlockValidRows`, keys with their own
 * block count. The DiT keeps its activations [batch x tokens, cols] (raster, unpadded), so the queries are gathered
 * into the padded layout and the output scattered back with one row map (query row b npad + i <-> token row b L + i).
 * Keys and values are computed once per prompt (they depend only on the context) and stored already padded.
 */
import { ATTENTION_TILE_POLICY, type Backend, type RowMap, type Tensor, attentionForward, createRowMap, gatherRows, scatterRows } from '@fpsattn/kernels';

/** The padded query layout of `batch` items of `tokens` rows each. */
export class PaddedRows implements Disposable {
  readonly batch: number;
  readonly tokens: number;
  readonly blocks: number;
  readonly npad: number;
  /** i32 [blocks]: real rows of each 128-row block (the same for every batch item). */
  readonly validRows: Tensor<'i32'>;
  /** Padded row b npad + i <-> row b tokens + i (-1 for padding): a gather map and its scatter inverse. */
  readonly map: RowMap;

  constructor(options: { backend: Backend; batch: number; tokens: number; blockRows: number; name: string }) {
    const { backend, batch, tokens, blockRows, name } = options;
    this.batch = batch;
    this.tokens = tokens;
    this.blocks = Math.ceil(tokens / blockRows);
    this.npad = this.blocks * blockRows;
    const valid = new Int32Array(this.blocks);
    for (let i = 0; i < this.blocks; i++) valid[i] = Math.min(blockRows, tokens - i * blockRows);
    const indices = new Int32Array(batch * this.npad).fill(-1);
    for (let b = 0; b < batch; b++) for (let i = 0; i < tokens; i++) indices[b * this.npad + i] = b * tokens + i;
    this.validRows = backend.fromArray(valid, [this.blocks], 'i32', { name: `${name} valid rows` });
    try {
      this.map = createRowMap({ backend, indices, targetRows: batch * tokens, name: `${name} row map` });
    } catch (error) {
      this.validRows.dispose();
      throw error;
    }
  }

  /** [batch x tokens, cols] -> out [batch, npad, cols] (padding rows zero). */
  pad(src: Tensor<'bf16'>, out: Tensor<'bf16'>): void {
    const cols = src.shape[src.shape.length - 1] as number;
    withViews([src.reshape([this.batch * this.tokens, cols]), out.reshape([this.batch * this.npad, cols])], (s, d) => {
      gatherRows({ src: s, map: this.map, out: d });
    });
  }

  /** [batch, npad, cols] -> out [batch x tokens, cols] (padding rows dropped). */
  unpad(src: Tensor<'bf16'>, out: Tensor<'bf16'>): void {
    const cols = src.shape[src.shape.length - 1] as number;
    withViews([src.reshape([this.batch * this.npad, cols]), out.reshape([this.batch * this.tokens, cols])], (s, d) => {
      scatterRows({ src: s, map: this.map, out: d });
    });
  }

  dispose(): void {
    this.validRows.dispose();
    this.map.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

export interface CrossAttentionOptions {
  /** BF16 [batch x tokens, heads x headDim]: the normed queries. */
  q: Tensor<'bf16'>;
  /** The queries' padded layout (batch, tokens). */
  queries: PaddedRows;
  /** BF16 [batch, keyNpad, heads x headDim]: the text keys and values, padded (PaddedRows.pad). */
  k: Tensor<'bf16'>;
  v: Tensor<'bf16'>;
  keys: PaddedRows;
  headDim: number;
  /** BF16 [batch x tokens, heads x headDim]. */
  out: Tensor<'bf16'>;
  /** BF16 [batch, npad, cols] scratch tensors for the padded queries and output (allocated when absent). */
  scratch?: { q: Tensor<'bf16'>; out: Tensor<'bf16'> };
}

/** out = softmax(q k^T / sqrt(headDim)) v per head, every key row of `keys` attended. */
export function crossAttention(o: CrossAttentionOptions): Tensor<'bf16'> {
  const { queries, keys, headDim } = o;
  const cols = o.q.shape[o.q.shape.length - 1] as number;
  const backend = o.q.backend;
  const qPad = o.scratch?.q ?? backend.empty([queries.batch, queries.npad, cols], 'bf16', { name: 'cross q (padded)' });
  const outPad = o.scratch?.out ?? backend.empty([queries.batch, queries.npad, cols], 'bf16', { name: 'cross out (padded)' });
  try {
    queries.pad(o.q, qPad);
    attentionForward({ q: qPad, k: o.k, v: o.v, blockValidRows: queries.validRows, keyBlockValidRows: keys.validRows, headDim, out: outPad });
    queries.unpad(outPad, o.out);
  } finally {
    if (!o.scratch) {
      qPad.dispose();
      outPad.dispose();
    }
  }
  return o.out;
}

/** The kernel's block rows (queries and keys). */
export const CROSS_BLOCK_ROWS = ATTENTION_TILE_POLICY.blockM;

/** Runs `body` on tensor views and disposes them after (a view holds its storage until disposed). */
export function withViews<D extends 'bf16', R>(views: readonly [Tensor<D>, Tensor<D>], body: (a: Tensor<D>, b: Tensor<D>) => R): R {
  try {
    return body(views[0], views[1]);
  } finally {
    for (const v of views) v.dispose();
  }
}
