/**
 * The tensors of Wan's umT5 encoder under the names of its state dict (wan21-architecture.md 6.2), with their shapes:
 * `token_embedding.weight`, 10 per block, `norm.weight`; in the module's registration order (242 for umT5-XXL).
 * Every Linear has no bias; each block has its own relative position embedding (umT5, `shared_pos=False`).
 */
import type { Umt5Config } from './config';

export interface Umt5TensorSpec {
  /** The state-dict name, e.g. `blocks.3.ffn.gate.0.weight`. */
  readonly name: string;
  readonly shape: readonly number[];
  /** The shape in config terms, for messages: `[dimFfn, dim]`. */
  readonly symbolicShape: string;
}

/** Every tensor of `config`, in state-dict order. */
export function umt5TensorSpecs(config: Umt5Config): Umt5TensorSpec[] {
  const { vocabSize, dim, dimAttn, dimFfn, numHeads, numBuckets } = config;
  const spec = (name: string, shape: number[], symbolicShape: string): Umt5TensorSpec => ({ name, shape, symbolicShape });
  const specs = [spec('token_embedding.weight', [vocabSize, dim], '[vocabSize, dim]')];
  for (let i = 0; i < config.numLayers; i++) {
    const p = `blocks.${i}.`;
    specs.push(
      spec(`${p}norm1.weight`, [dim], '[dim]'),
      spec(`${p}attn.q.weight`, [dimAttn, dim], '[dimAttn, dim]'),
      spec(`${p}attn.k.weight`, [dimAttn, dim], '[dimAttn, dim]'),
      spec(`${p}attn.v.weight`, [dimAttn, dim], '[dimAttn, dim]'),
      spec(`${p}attn.o.weight`, [dim, dimAttn], '[dim, dimAttn]'),
      spec(`${p}norm2.weight`, [dim], '[dim]'),
      spec(`${p}ffn.gate.0.weight`, [dimFfn, dim], '[dimFfn, dim]'),
      spec(`${p}ffn.fc1.weight`, [dimFfn, dim], '[dimFfn, dim]'),
      spec(`${p}ffn.fc2.weight`, [dim, dimFfn], '[dim, dimFfn]'),
      spec(`${p}pos_embedding.embedding.weight`, [numBuckets, numHeads], '[numBuckets, numHeads]'),
    );
  }
  specs.push(spec('norm.weight', [dim], '[dim]'));
  return specs;
}
