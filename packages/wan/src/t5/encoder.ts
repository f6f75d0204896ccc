/**
 * Wan's umT5 text encoder on the CPU (`T5Encoder` of `wan/modules/t5.py`, wan21-architecture.md 6.2), for one prompt:
 * ```
 * x = token_embedding[ids[0..length)]                                  [length, dim]
 * per block i:  x = x + o( attn_i( norm1(x) ) )                        q, k, v: [length, dimAttn], numHeads heads,
 *                                                                      logits q.k + bias_i[bucket(j - i)], no scaling
 *               x = x + fc2( fc1(norm2(x)) * gelu_tanh(gate.0(norm2(x))) )
 * return norm(x)                                                       [length, dim]
 * ```
 * The reference encodes the tokenizer's ids padded to textLen with a mask on the padded keys and keeps the first
 * `length` rows; the masked keys get exactly zero weight and the relative bias depends on offsets only, so encoding
 * the real tokens alone gives the same rows (the oracle checks it), at a fraction of the cost. `padContext` zero-pads
 * the result to textLen rows, the DiT's layout (1.6).
 *
 * Precision: the reference runs in bf16 with fp32 softmax and norm statistics (1.7); this computes the fp32 model
 * (`precision: 'float32'`, the default: float32 activations, float64 sums), the exact math (`'float64'`) or emulates
 * the reference (`'bfloat16'`: weights and each op's result rounded to bf16, sums and statistics wider).
 */
import { WanInputError } from '../model/errors';
import { roundToBfloat16 } from './_bfloat16';
import { allocFloats, roundingOf } from './_floats';
import { linearNoBias } from './_linear';
import { t5Attention } from './attention';
import { checkUmt5Weights } from './check-weights';
import { type Umt5Config, umt5HeadDim, validateUmt5Config } from './config';
import { t5FeedForward } from './feed-forward';
import { relativePositionBuckets } from './relative-position-bucket';
import { t5LayerNorm } from './t5-layer-norm';
import type { Umt5Floats, Umt5Precision, Umt5Weights } from './types';

/** An intermediate result of the encoder: `embedding`, `blocks.{i}` (x after block i), `output`; each [length, dim]. */
export interface Umt5Stage {
  readonly stage: string;
  readonly values: Umt5Floats;
}

export interface Umt5EncodeCpuOptions {
  /** Every tensor of `config` (keys.ts), state-dict names. */
  weights: Umt5Weights;
  config: Umt5Config;
  /** Token ids; the first `length` are the prompt's (with its `</s>`), any after them (padding) are ignored. */
  tokenIds: Int32Array;
  /** Real tokens, 1..min(textLen, tokenIds.length): the tokenizer's attention-mask sum. */
  length: number;
  /** Default `float32`. */
  precision?: Umt5Precision;
  /** Called with each intermediate result (copies). */
  onStage?: (stage: Umt5Stage) => void;
}

const CALLER = 'umt5EncodeCpu';
const PRECISIONS: readonly Umt5Precision[] = ['float32', 'float64', 'bfloat16'];

function checkInputs(options: Umt5EncodeCpuOptions, config: Umt5Config): void {
  const bad = (input: string, value: unknown, rule: string): never => {
    throw new WanInputError({ input, value, rule, caller: CALLER });
  };
  const { tokenIds, length } = options;
  if (!(tokenIds instanceof Int32Array)) bad('tokenIds', tokenIds, 'expected an Int32Array of token ids');
  if (!Number.isSafeInteger(length) || length < 1) bad('length', length, 'expected an integer >= 1 (a tokenized prompt has at least its </s>)');
  if (length > config.textLen) bad('length', length, `expected at most textLen = ${config.textLen} tokens (the tokenizer truncates to it)`);
  if (length > tokenIds.length) bad('length', length, `expected at most tokenIds.length = ${tokenIds.length}`);
  for (let i = 0; i < length; i++) {
    const id = tokenIds[i] as number;
    if (id < 0 || id >= config.vocabSize) bad(`tokenIds[${i}]`, id, `expected a token id in [0, ${config.vocabSize}) (vocabSize)`);
  }
  if (options.precision !== undefined && !PRECISIONS.includes(options.precision)) {
    bad('precision', options.precision, `expected one of ${PRECISIONS.map((p) => `'${p}'`).join(', ')}`);
  }
}

/** The encoder's output for the first `length` token ids: [length, dim], row-major (trimmed, not padded). */
export function umt5EncodeCpu(options: Umt5EncodeCpuOptions & { precision?: 'float32' | 'bfloat16' }): Float32Array;
export function umt5EncodeCpu(options: Umt5EncodeCpuOptions & { precision: 'float64' }): Float64Array;
export function umt5EncodeCpu(options: Umt5EncodeCpuOptions): Umt5Floats;
export function umt5EncodeCpu(options: Umt5EncodeCpuOptions): Umt5Floats {
  const config = validateUmt5Config({ config: options.config });
  checkUmt5Weights({ config, weights: options.weights });
  checkInputs(options, config);
  const { weights, tokenIds, length, onStage } = options;
  const precision = options.precision ?? 'float32';
  const { dim, dimAttn, dimFfn, numHeads, eps } = config;
  const round = roundingOf(precision);
  // bf16: the reference holds the weights in bf16 (the checkpoint's dtype); round float32 ones once.
  const rounded = new Map<string, Float32Array>();
  const weight = (name: string): Float32Array => {
    const data = weights.get(name) as Float32Array;
    if (precision !== 'bfloat16') return data;
    let copy = rounded.get(name);
    if (copy === undefined) {
      copy = data.map(roundToBfloat16);
      rounded.set(name, copy);
    }
    return copy;
  };

  const embedding = weight('token_embedding.weight');
  const x = allocFloats(precision, length * dim);
  for (let i = 0; i < length; i++) {
    const row = (tokenIds[i] as number) * dim;
    for (let c = 0; c < dim; c++) x[i * dim + c] = embedding[row + c] as number;
  }
  onStage?.({ stage: 'embedding', values: x.slice() });

  const buckets = relativePositionBuckets({ length, numBuckets: config.numBuckets, maxDistance: config.maxDistance });
  const project = (input: Umt5Floats, name: string, inFeatures: number, outFeatures: number): Umt5Floats =>
    linearNoBias({ input, rows: length, inFeatures, outFeatures, weight: weight(name), precision });
  const addInto = (target: Umt5Floats, update: Umt5Floats): void => {
    for (let i = 0; i < target.length; i++) target[i] = round((target[i] as number) + (update[i] as number));
  };

  for (let b = 0; b < config.numLayers; b++) {
    const p = `blocks.${b}.`;
    const h1 = t5LayerNorm({ input: x, rows: length, width: dim, eps, weight: weight(`${p}norm1.weight`), precision });
    const attended = t5Attention({
      q: project(h1, `${p}attn.q.weight`, dim, dimAttn),
      k: project(h1, `${p}attn.k.weight`, dim, dimAttn),
      v: project(h1, `${p}attn.v.weight`, dim, dimAttn),
      length,
      numHeads,
      headDim: umt5HeadDim(config),
      biasTable: weight(`${p}pos_embedding.embedding.weight`),
      buckets,
      precision,
    });
    addInto(x, project(attended, `${p}attn.o.weight`, dimAttn, dim));
    const h2 = t5LayerNorm({ input: x, rows: length, width: dim, eps, weight: weight(`${p}norm2.weight`), precision });
    addInto(
      x,
      t5FeedForward({
        input: h2,
        rows: length,
        dim,
        dimFfn,
        gate: weight(`${p}ffn.gate.0.weight`),
        fc1: weight(`${p}ffn.fc1.weight`),
        fc2: weight(`${p}ffn.fc2.weight`),
        precision,
      }),
    );
    onStage?.({ stage: `blocks.${b}`, values: x.slice() });
  }
  const out = t5LayerNorm({ input: x, rows: length, width: dim, eps, weight: weight('norm.weight'), precision });
  onStage?.({ stage: 'output', values: out });
  return out;
}
