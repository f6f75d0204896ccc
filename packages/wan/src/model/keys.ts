/**
 * The tensors of a Wan2.1 T2V DiT under the original names (wan21-architecture.md 3.2), with their shapes: 15 global
 * tensors and 27 per block, in the order of the official state dict (a module's own parameters before its children's).
 * `norm1`, `norm2` and `head.norm` have no parameters (non-affine LayerNorms), and the RoPE table `freqs` is not a
 * buffer, so none of them is a tensor of the checkpoint.
 */
import type { WanConfig } from './config';

export interface WanTensorSpec {
  /** The original name, e.g. `blocks.3.self_attn.norm_q.weight`. */
  readonly name: string;
  readonly shape: readonly number[];
  /** The shape in config terms, for messages: `[dim, textDim]`. */
  readonly symbolicShape: string;
}

/** The per-block tensors, by name suffix after `blocks.{i}.`; `modulation` first (a parameter of the block itself). */
function blockSpecs(config: WanConfig): [string, number[], string][] {
  const { dim, ffnDim } = config;
  const attention = (module: string): [string, number[], string][] => [
    ...['q', 'k', 'v', 'o'].flatMap((p): [string, number[], string][] => [
      [`${module}.${p}.weight`, [dim, dim], '[dim, dim]'],
      [`${module}.${p}.bias`, [dim], '[dim]'],
    ]),
    [`${module}.norm_q.weight`, [dim], '[dim]'],
    [`${module}.norm_k.weight`, [dim], '[dim]'],
  ];
  return [
    ['modulation', [1, 6, dim], '[1, 6, dim]'],
    ...attention('self_attn'),
    ['norm3.weight', [dim], '[dim]'],
    ['norm3.bias', [dim], '[dim]'],
    ...attention('cross_attn'),
    ['ffn.0.weight', [ffnDim, dim], '[ffnDim, dim]'],
    ['ffn.0.bias', [ffnDim], '[ffnDim]'],
    ['ffn.2.weight', [dim, ffnDim], '[dim, ffnDim]'],
    ['ffn.2.bias', [dim], '[dim]'],
  ];
}

/** Every tensor of `config` under its original name, in state-dict order (3.2). */
export function wanTensorSpecs(config: WanConfig): WanTensorSpec[] {
  const { dim, freqDim, inDim, outDim, textDim, patchSize } = config;
  const [pt, ph, pw] = patchSize;
  const spec = (name: string, shape: number[], symbolicShape: string): WanTensorSpec => ({ name, shape, symbolicShape });
  const specs: WanTensorSpec[] = [
    spec('patch_embedding.weight', [dim, inDim, pt, ph, pw], '[dim, inDim, ...patchSize]'),
    spec('patch_embedding.bias', [dim], '[dim]'),
    spec('text_embedding.0.weight', [dim, textDim], '[dim, textDim]'),
    spec('text_embedding.0.bias', [dim], '[dim]'),
    spec('text_embedding.2.weight', [dim, dim], '[dim, dim]'),
    spec('text_embedding.2.bias', [dim], '[dim]'),
    spec('time_embedding.0.weight', [dim, freqDim], '[dim, freqDim]'),
    spec('time_embedding.0.bias', [dim], '[dim]'),
    spec('time_embedding.2.weight', [dim, dim], '[dim, dim]'),
    spec('time_embedding.2.bias', [dim], '[dim]'),
    spec('time_projection.1.weight', [6 * dim, dim], '[6 * dim, dim]'),
    spec('time_projection.1.bias', [6 * dim], '[6 * dim]'),
  ];
  const block = blockSpecs(config);
  for (let i = 0; i < config.numLayers; i++) {
    for (const [suffix, shape, symbolic] of block) specs.push(spec(`blocks.${i}.${suffix}`, shape, symbolic));
  }
  specs.push(
    spec('head.modulation', [1, 2, dim], '[1, 2, dim]'),
    spec('head.head.weight', [outDim * pt * ph * pw, dim], '[outDim * prod(patchSize), dim]'),
    spec('head.head.bias', [outDim * pt * ph * pw], '[outDim * prod(patchSize)]'),
  );
  return specs;
}
