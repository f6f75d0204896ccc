/**
 * The umT5 encoder's weights on a backend (CUDA or the CPU twin), laid out for the device encoder: the token embedding
 * and every projection as BF16 [rows, K] GEMM operands (nn.Linear's [out, in], as the checkpoint stores them: Wan's
 * umT5 file is bf16, so rounding float32 host weights to BF16 here is the reference's own rounding); the norms' weights
 * F32 [dim] (rmsNormRope multiplies in float32); each block's relative position bias table transposed to BF16
 * [numHeads, numBuckets], the `x` of the one-hot GEMM that spreads it over (query, key) pairs (bias.ts). Uploaded once;
 * `dispose` frees everything.
 */
import { encodeBf16Array } from '@fpsattn/fp8';
import type { Backend, Tensor } from '@fpsattn/kernels';
import { WanConfigError } from '../../model/errors';
import { checkUmt5Weights } from '../check-weights';
import { type Umt5Config, describeUmt5Config, umt5HeadDim, validateUmt5Config } from '../config';
import type { Umt5Weights } from '../types';

/** cuBLASLt needs N and K multiples of 8 (16-byte BF16 rows): dim, dimAttn, dimFfn, the head width, numBuckets. */
export const WAN_UMT5_DEVICE_WIDTH_MULTIPLE = 8;

export interface Umt5DeviceBlock {
  /** norm1.weight, norm2.weight: F32 [dim]. */
  readonly norm1: Tensor<'f32'>;
  readonly norm2: Tensor<'f32'>;
  /** attn.q/k/v.weight: BF16 [dimAttn, dim]; attn.o.weight: BF16 [dim, dimAttn]. */
  readonly q: Tensor<'bf16'>;
  readonly k: Tensor<'bf16'>;
  readonly v: Tensor<'bf16'>;
  readonly o: Tensor<'bf16'>;
  /** ffn.gate.0.weight, ffn.fc1.weight: BF16 [dimFfn, dim]; ffn.fc2.weight: BF16 [dim, dimFfn]. */
  readonly gate: Tensor<'bf16'>;
  readonly fc1: Tensor<'bf16'>;
  readonly fc2: Tensor<'bf16'>;
  /** pos_embedding.embedding.weight [numBuckets, numHeads] transposed: BF16 [numHeads, numBuckets]. */
  readonly biasTable: Tensor<'bf16'>;
}

const CALLER = 'WanUmt5DeviceWeights';

function checkWidths(config: Umt5Config): void {
  const widths = { dim: config.dim, dimAttn: config.dimAttn, dimFfn: config.dimFfn, numBuckets: config.numBuckets, headDim: umt5HeadDim(config) };
  for (const [field, value] of Object.entries(widths)) {
    if (value % WAN_UMT5_DEVICE_WIDTH_MULTIPLE !== 0) {
      throw new WanConfigError({
        source: `${CALLER} config`,
        field: field === 'headDim' ? 'numHeads' : field,
        value: field === 'headDim' ? config.numHeads : value,
        rule: `the device encoder needs ${field} (${value}) to be a multiple of ${WAN_UMT5_DEVICE_WIDTH_MULTIPLE} (cuBLASLt's 16-byte BF16 rows)`,
      });
    }
  }
}

/** The encoder's weights on `backend`; made by {@link WanUmt5DeviceWeights.upload}. */
export class WanUmt5DeviceWeights implements Disposable {
  readonly backend: Backend;
  readonly config: Umt5Config;
  /** token_embedding.weight: BF16 [vocabSize, dim] (gathered by token id). */
  readonly embedding: Tensor<'bf16'>;
  readonly blocks: readonly Umt5DeviceBlock[];
  /** norm.weight: F32 [dim]. */
  readonly norm: Tensor<'f32'>;
  readonly #tensors: Tensor[];

  private constructor(init: { backend: Backend; config: Umt5Config; embedding: Tensor<'bf16'>; blocks: Umt5DeviceBlock[]; norm: Tensor<'f32'>; tensors: Tensor[] }) {
    this.backend = init.backend;
    this.config = init.config;
    this.embedding = init.embedding;
    this.blocks = init.blocks;
    this.norm = init.norm;
    this.#tensors = init.tensors;
  }

  /** Device bytes the weights take. */
  get bytes(): number {
    return this.#tensors.reduce((sum, t) => sum + t.byteLength, 0);
  }

  /**
   * Checks `weights` against `config` (checkUmt5Weights: every tensor, reference names, F32) and that every width the
   * encoder multiplies by is a multiple of 8, then uploads them. On an error nothing stays on the device.
   */
  static upload(options: { backend: Backend; config: Umt5Config; weights: Umt5Weights; source?: string }): WanUmt5DeviceWeights {
    const { backend, weights } = options;
    const config = validateUmt5Config({ config: options.config, source: `${CALLER} config` });
    checkUmt5Weights({ config, weights, source: options.source ?? 'umT5 weights' });
    checkWidths(config);
    const { dim, dimAttn, dimFfn, numHeads, numBuckets } = config;
    const tensors: Tensor[] = [];
    const host = (name: string): Float32Array => weights.get(name) as Float32Array;
    const bf16 = (name: string, shape: number[], data: Float32Array = host(name)): Tensor<'bf16'> => {
      const t = backend.fromArray(encodeBf16Array({ input: data }), shape, 'bf16', { name }) as Tensor<'bf16'>;
      tensors.push(t);
      return t;
    };
    const f32 = (name: string): Tensor<'f32'> => {
      const t = backend.fromArray(host(name), [dim], 'f32', { name }) as Tensor<'f32'>;
      tensors.push(t);
      return t;
    };
    const transposedTable = (name: string): Float32Array => {
      const table = host(name);
      const out = new Float32Array(numHeads * numBuckets);
      for (let b = 0; b < numBuckets; b++) for (let h = 0; h < numHeads; h++) out[h * numBuckets + b] = table[b * numHeads + h] as number;
      return out;
    };
    try {
      const embedding = bf16('token_embedding.weight', [config.vocabSize, dim]);
      const blocks: Umt5DeviceBlock[] = [];
      for (let i = 0; i < config.numLayers; i++) {
        const p = `blocks.${i}.`;
        blocks.push({
          norm1: f32(`${p}norm1.weight`),
          q: bf16(`${p}attn.q.weight`, [dimAttn, dim]),
          k: bf16(`${p}attn.k.weight`, [dimAttn, dim]),
          v: bf16(`${p}attn.v.weight`, [dimAttn, dim]),
          o: bf16(`${p}attn.o.weight`, [dim, dimAttn]),
          norm2: f32(`${p}norm2.weight`),
          gate: bf16(`${p}ffn.gate.0.weight`, [dimFfn, dim]),
          fc1: bf16(`${p}ffn.fc1.weight`, [dimFfn, dim]),
          fc2: bf16(`${p}ffn.fc2.weight`, [dim, dimFfn]),
          biasTable: bf16(`${p}pos_embedding.embedding.weight`, [numHeads, numBuckets], transposedTable(`${p}pos_embedding.embedding.weight`)),
        });
      }
      return new WanUmt5DeviceWeights({ backend, config, embedding, blocks, norm: f32('norm.weight'), tensors });
    } catch (e) {
      for (const t of tensors) t.dispose();
      throw e;
    }
  }

  /** For messages: the preset name or the config's size. */
  describe(): string {
    return describeUmt5Config(this.config);
  }

  dispose(): void {
    for (const t of this.#tensors) t.dispose();
    this.#tensors.length = 0;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
