/**
 * The three ways checkpoints name the DiT's tensors, and the renames between them:
 *   - `original`: `WanModel`'s state dict (wan21-architecture.md 3.2), as in `Wan-AI/Wan2.1-T2V-*`;
 *   - `diffusers`: `WanTransformer3DModel` (3.3), a 1:1 rename with the same shapes; note that the affine
 *     pre-cross-attention norm is `norm3` in the original and `norm2` in diffusers, and the non-affine pre-FFN norm
 *     the other way round;
 *   - `comfyui`: the original names behind the prefix `model.diffusion_model.` (3.1, `Comfy-Org/Wan_2.1_ComfyUI_repackaged`).
 * The I2V tensors (`img_emb.*`, `cross_attn.{k_img,v_img,norm_k_img}`) are renamed too, so that a message about an I2V
 * checkpoint names them the same way in every scheme; the T2V model does not use them.
 */
import { WanNamingError } from './errors';

export type WanNaming = 'original' | 'diffusers' | 'comfyui';

export const WAN_NAMINGS: readonly WanNaming[] = Object.freeze(['original', 'diffusers', 'comfyui']);

/** The prefix ComfyUI puts before the original names. */
export const COMFYUI_PREFIX = 'model.diffusion_model.';

/** [original, diffusers] module paths outside the blocks (3.3); their parameters (`weight`, `bias`) keep their names. */
const GLOBAL_MODULES: readonly (readonly [string, string])[] = [
  ['patch_embedding', 'patch_embedding'],
  ['text_embedding.0', 'condition_embedder.text_embedder.linear_1'],
  ['text_embedding.2', 'condition_embedder.text_embedder.linear_2'],
  ['time_embedding.0', 'condition_embedder.time_embedder.linear_1'],
  ['time_embedding.2', 'condition_embedder.time_embedder.linear_2'],
  ['time_projection.1', 'condition_embedder.time_proj'],
  ['head.head', 'proj_out'],
  ['img_emb.proj.0', 'condition_embedder.image_embedder.norm1'],
  ['img_emb.proj.1', 'condition_embedder.image_embedder.ff.net.0.proj'],
  ['img_emb.proj.3', 'condition_embedder.image_embedder.ff.net.2'],
  ['img_emb.proj.4', 'condition_embedder.image_embedder.norm2'],
];

/** [original, diffusers] parameters outside the blocks that are renamed whole. */
const GLOBAL_PARAMETERS: readonly (readonly [string, string])[] = [['head.modulation', 'scale_shift_table']];

const attentionModules = (original: string, diffusers: string): [string, string][] => [
  [`${original}.q`, `${diffusers}.to_q`],
  [`${original}.k`, `${diffusers}.to_k`],
  [`${original}.v`, `${diffusers}.to_v`],
  [`${original}.o`, `${diffusers}.to_out.0`],
  [`${original}.norm_q`, `${diffusers}.norm_q`],
  [`${original}.norm_k`, `${diffusers}.norm_k`],
];

/** [original, diffusers] module paths inside `blocks.{i}.`. */
const BLOCK_MODULES: readonly (readonly [string, string])[] = [
  ...attentionModules('self_attn', 'attn1'),
  ...attentionModules('cross_attn', 'attn2'),
  ['cross_attn.k_img', 'attn2.add_k_proj'],
  ['cross_attn.v_img', 'attn2.add_v_proj'],
  ['cross_attn.norm_k_img', 'attn2.norm_added_k'],
  ['norm3', 'norm2'], // the affine pre-cross-attention norm (3.3)
  ['norm2', 'norm3'], // the non-affine pre-FFN norm: no parameters in either scheme
  ['ffn.0', 'ffn.net.0.proj'],
  ['ffn.2', 'ffn.net.2'],
];

/** [original, diffusers] parameters of the block itself. */
const BLOCK_PARAMETERS: readonly (readonly [string, string])[] = [['modulation', 'scale_shift_table']];

interface RenameTables {
  readonly modules: ReadonlyMap<string, string>;
  readonly parameters: ReadonlyMap<string, string>;
}

function tables(pairs: readonly (readonly [string, string])[], params: readonly (readonly [string, string])[], toDiffusers: boolean): RenameTables {
  const flip = (p: readonly [string, string]): [string, string] => (toDiffusers ? [p[0], p[1]] : [p[1], p[0]]);
  return { modules: new Map(pairs.map(flip)), parameters: new Map(params.map(flip)) };
}

const TO_DIFFUSERS = { global: tables(GLOBAL_MODULES, GLOBAL_PARAMETERS, true), block: tables(BLOCK_MODULES, BLOCK_PARAMETERS, true) };
const FROM_DIFFUSERS = { global: tables(GLOBAL_MODULES, GLOBAL_PARAMETERS, false), block: tables(BLOCK_MODULES, BLOCK_PARAMETERS, false) };

const BLOCK_NAME = /^blocks\.(0|[1-9][0-9]*)\.(.+)$/;

/** Renames by the tables: a whole-parameter rename, or a module rename keeping the last component. Null when no rule applies. */
function rename(name: string, direction: typeof TO_DIFFUSERS): string | null {
  const block = BLOCK_NAME.exec(name);
  const prefix = block === null ? '' : `blocks.${block[1]}.`;
  const local = block === null ? name : (block[2] as string);
  const table = block === null ? direction.global : direction.block;
  const parameter = table.parameters.get(local);
  if (parameter !== undefined) return prefix + parameter;
  const dot = local.lastIndexOf('.');
  if (dot <= 0) return null;
  const module = table.modules.get(local.slice(0, dot));
  return module === undefined ? null : `${prefix}${module}${local.slice(dot)}`;
}

/**
 * The original name of a tensor named `name` under `naming`, or null when the name is none the scheme gives a DiT
 * tensor (a diffusers name without a rename rule, a ComfyUI name without the prefix). Original names come back as
 * they are, known or not.
 */
export function wanNameToOriginal(options: { name: string; naming: WanNaming }): string | null {
  const { name, naming } = options;
  if (naming === 'original') return name;
  if (naming === 'comfyui') return name.startsWith(COMFYUI_PREFIX) ? name.slice(COMFYUI_PREFIX.length) : null;
  return rename(name, FROM_DIFFUSERS);
}

/** The name `naming` gives the tensor with the original name `name`, or null when the diffusers tables have no rule for it. */
export function wanNameFromOriginal(options: { name: string; naming: WanNaming }): string | null {
  const { name, naming } = options;
  if (naming === 'original') return name;
  if (naming === 'comfyui') return COMFYUI_PREFIX + name;
  return rename(name, TO_DIFFUSERS);
}

/** What {@link detectWanNaming} found. */
export interface WanNamingReport {
  readonly naming: WanNaming;
  /** A tensor name only that scheme uses, e.g. `condition_embedder.time_proj.weight`. */
  readonly evidence: string;
  /** How many names only that scheme uses (names both schemes spell alike, such as `patch_embedding.*`, not counted). */
  readonly recognized: number;
}

/**
 * Recognised by the original tables and not by the diffusers ones. Names both recognise (`patch_embedding.*`, and
 * `blocks.{i}.norm2.*` / `norm3.*`, which each scheme uses for the other's norm) say nothing about the scheme.
 */
function isOriginalOnly(name: string): boolean {
  return rename(name, TO_DIFFUSERS) !== null && rename(name, FROM_DIFFUSERS) === null;
}

function isDiffusersOnly(name: string): boolean {
  return rename(name, FROM_DIFFUSERS) !== null && rename(name, TO_DIFFUSERS) === null;
}

/**
 * The naming scheme of a checkpoint, from its tensor names: `comfyui` when every name has the prefix
 * `model.diffusion_model.`; otherwise `diffusers` or `original` by the names only that scheme uses. A
 * {@link WanNamingError} naming `source` when the prefix is on some names only, when both schemes' names occur (one
 * example of each), or when neither does (the first names).
 */
export function detectWanNaming(options: { names: Iterable<string>; source: string }): WanNamingReport {
  const names = [...options.names];
  const { source } = options;
  const prefixed = names.filter((n) => n.startsWith(COMFYUI_PREFIX));
  if (prefixed.length > 0 && prefixed.length < names.length) {
    const bare = names.find((n) => !n.startsWith(COMFYUI_PREFIX)) as string;
    throw new WanNamingError({
      source,
      rule: `${prefixed.length} of ${names.length} tensor names have the ComfyUI prefix "${COMFYUI_PREFIX}" and the others not (e.g. ${JSON.stringify(bare)}): expected all or none`,
    });
  }
  const bare = prefixed.length > 0 ? prefixed.map((n) => n.slice(COMFYUI_PREFIX.length)) : names;
  const original = bare.filter(isOriginalOnly);
  const diffusers = bare.filter(isDiffusersOnly);
  const schemeOf = (scheme: 'original' | 'diffusers'): string => (prefixed.length > 0 ? `ComfyUI-prefixed ${scheme}` : scheme);
  if (original.length > 0 && diffusers.length > 0) {
    throw new WanNamingError({
      source,
      rule: `the tensor names mix ${schemeOf('original')} names (${original.length}, e.g. ${JSON.stringify(original[0])}) and ${schemeOf('diffusers')} names (${diffusers.length}, e.g. ${JSON.stringify(diffusers[0])}): expected one naming scheme`,
    });
  }
  if (original.length === 0 && diffusers.length === 0) {
    const first = names.slice(0, 3).map((n) => JSON.stringify(n)).join(', ');
    throw new WanNamingError({
      source,
      rule: `none of the ${names.length} tensor names${names.length > 0 ? ` (${first}${names.length > 3 ? ', ...' : ''})` : ''} is a Wan2.1 DiT tensor under the original, diffusers or ComfyUI naming`,
    });
  }
  if (prefixed.length > 0) {
    if (diffusers.length > 0) {
      throw new WanNamingError({ source, rule: `the ComfyUI prefix "${COMFYUI_PREFIX}" stands before diffusers names (e.g. ${JSON.stringify(COMFYUI_PREFIX + diffusers[0])}): ComfyUI uses the original names` });
    }
    return { naming: 'comfyui', evidence: COMFYUI_PREFIX + (original[0] as string), recognized: original.length };
  }
  return original.length > 0
    ? { naming: 'original', evidence: original[0] as string, recognized: original.length }
    : { naming: 'diffusers', evidence: diffusers[0] as string, recognized: diffusers.length };
}
