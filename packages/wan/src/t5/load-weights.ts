/**
 * Loads Wan's umT5 text encoder from the files users have: the original `models_t5_umt5-xxl-enc-bf16.pth` (torch.save
 * of Wan's `T5Encoder`, bf16) or the diffusers `text_encoder/` folder (transformers' `UMT5EncoderModel`: safetensors +
 * config.json).
 */
import { WanConfigError, WanConfigMismatchError, type WanConfigFieldMismatch } from '../model/errors';
import { type LoadedWeightFile, loadWeightFile } from '../weights/weight-file';
import { UMT5_CONFIG_PRESETS, type Umt5Config, describeUmt5Config, validateUmt5Config } from './config';
import { umt5TensorSpecs } from './keys';

/** The naming schemes of the encoder's tensors: Wan's `T5Encoder` (`blocks.0.attn.q.weight`) and transformers' UMT5. */
export type Umt5Naming = 'original' | 'diffusers';

/** The file name of the text encoder in the original Wan2.1 folder. */
export const UMT5_PTH_FILE = 'models_t5_umt5-xxl-enc-bf16.pth';

/**
 * The transformers (`UMT5EncoderModel`, diffusers' `text_encoder/`) name of each tensor by Wan name, in state-dict
 * order (wan21-architecture.md 6.2): `token_embedding` -> `shared`, `blocks.i` -> `encoder.block.i`, `norm1` ->
 * `layer.0.layer_norm`, `attn.{q,k,v,o}` -> `layer.0.SelfAttention.{q,k,v,o}`, `pos_embedding.embedding` ->
 * `layer.0.SelfAttention.relative_attention_bias`, `norm2` -> `layer.1.layer_norm`, `ffn.gate.0` / `ffn.fc1` /
 * `ffn.fc2` -> `layer.1.DenseReluDense.wi_0` / `wi_1` / `wo`, `norm` -> `encoder.final_layer_norm`.
 */
export function umt5DiffusersNames(config: Umt5Config): Map<string, string> {
  const inBlock: Record<string, string> = {
    'norm1.weight': 'layer.0.layer_norm.weight',
    'attn.q.weight': 'layer.0.SelfAttention.q.weight',
    'attn.k.weight': 'layer.0.SelfAttention.k.weight',
    'attn.v.weight': 'layer.0.SelfAttention.v.weight',
    'attn.o.weight': 'layer.0.SelfAttention.o.weight',
    'pos_embedding.embedding.weight': 'layer.0.SelfAttention.relative_attention_bias.weight',
    'norm2.weight': 'layer.1.layer_norm.weight',
    'ffn.gate.0.weight': 'layer.1.DenseReluDense.wi_0.weight',
    'ffn.fc1.weight': 'layer.1.DenseReluDense.wi_1.weight',
    'ffn.fc2.weight': 'layer.1.DenseReluDense.wo.weight',
  };
  const names = new Map<string, string>();
  for (const { name } of umt5TensorSpecs(config)) {
    if (name === 'token_embedding.weight') names.set(name, 'shared.weight');
    else if (name === 'norm.weight') names.set(name, 'encoder.final_layer_norm.weight');
    else {
      const match = /^blocks\.(\d+)\.(.+)$/.exec(name);
      const mapped = match === null ? undefined : inBlock[match[2] as string];
      if (match === null || mapped === undefined) throw new Error(`umt5DiffusersNames: no transformers name for ${name}`); // unreachable: keys.ts
      names.set(name, `encoder.block.${match[1]}.${mapped}`);
    }
  }
  return names;
}

/** transformers' tied copy of `shared.weight` (`_tied_weights_keys`): read when `shared.weight` is absent, else skipped. */
const TIED_EMBEDDING = 'encoder.embed_tokens.weight';

/**
 * What {@link loadUmt5Weights} returns: `weights` (Wan names, what `umt5EncodeCpu` takes), the naming, the format,
 * the wrapper prefix, the stored name of each tensor, the tensors not read (a tied `encoder.embed_tokens.weight`) and
 * the config.json read.
 */
export type LoadedUmt5Weights = LoadedWeightFile<Umt5Config, Umt5Naming>;

/**
 * A transformers UMT5 config.json (`d_model`, `d_kv`, `d_ff`, `num_heads`, `num_layers`, `vocab_size`,
 * `relative_attention_num_buckets`, `relative_attention_max_distance`, `layer_norm_epsilon`) as a {@link Umt5Config};
 * `textLen` is not in the file and comes from `textLen` (default 512). A feed-forward other than `gated-gelu` is an error.
 */
export function umt5ConfigFromTransformers(options: { json: Record<string, unknown>; source: string; textLen?: number }): Umt5Config {
  const { json, source } = options;
  const bad = (field: string, rule: string): never => {
    throw new WanConfigError({ source, field, value: json[field], rule });
  };
  if (json.feed_forward_proj !== undefined && json.feed_forward_proj !== 'gated-gelu') bad('feed_forward_proj', 'expected "gated-gelu" (umT5)');
  for (const field of ['d_model', 'd_kv', 'd_ff', 'num_heads', 'num_layers', 'vocab_size'] as const) {
    if (json[field] === undefined) bad(field, 'expected an integer >= 1');
  }
  const num = (field: string, fallback: number): number => (json[field] ?? fallback) as number;
  const config: Umt5Config = {
    vocabSize: json.vocab_size as number,
    dim: json.d_model as number,
    dimAttn: (json.d_kv as number) * (json.num_heads as number),
    dimFfn: json.d_ff as number,
    numHeads: json.num_heads as number,
    numLayers: json.num_layers as number,
    numBuckets: num('relative_attention_num_buckets', 32),
    maxDistance: num('relative_attention_max_distance', 128),
    eps: num('layer_norm_epsilon', 1e-6),
    textLen: options.textLen ?? UMT5_CONFIG_PRESETS['umt5-xxl'].textLen,
  };
  return validateUmt5Config({ config, source });
}

function compareConfigs(expected: Umt5Config, actual: Umt5Config, source: string): void {
  const mismatches: WanConfigFieldMismatch[] = [];
  for (const field of Object.keys(expected) as (keyof Umt5Config)[]) {
    if (field !== 'textLen' && expected[field] !== actual[field]) mismatches.push({ field, expected: expected[field], actual: actual[field] });
  }
  if (mismatches.length > 0) throw new WanConfigMismatchError({ source, expectedName: 'the config passed in', mismatches });
}

/**
 * Loads the umT5 encoder's weights (float32, Wan's `T5Encoder` names) from
 * - the original `models_t5_umt5-xxl-enc-bf16.pth` (torch.save, BF16; a wrapper dict is detected from the names), or
 *   the Wan2.1 folder holding it;
 * - a diffusers `text_encoder/` folder (transformers `UMT5EncoderModel`: `model.safetensors` or shards + index +
 *   config.json), its pipeline folder (the parent of `text_encoder/`), or a safetensors file in either naming.
 * The config is `config` when given (a config.json must then agree on every field but `textLen`:
 * WanConfigMismatchError), else the config.json (`textLen` 512), else `umt5-xxl`. Before any data is read the naming
 * is detected (WanNamingError when neither or a mix) and every tensor's name, shape and dtype is checked
 * (WanTensorSetError, WanTensorShapeError, WanTensorDtypeError, each naming the file and tensor as stored); then each
 * tensor is read once and widened to float32 (exact for BF16). PthError and CheckpointError pass through.
 */
export async function loadUmt5Weights(options: { path: string; config?: Umt5Config }): Promise<LoadedUmt5Weights> {
  const given = options.config;
  if (given !== undefined) validateUmt5Config({ config: given });
  return loadWeightFile<Umt5Config, Umt5Naming>({
    path: options.path,
    ...(given === undefined ? {} : { config: given }),
    subfolder: 'text_encoder',
    pthNames: [UMT5_PTH_FILE],
    configFromJson: (json, file) => umt5ConfigFromTransformers({ json, source: file, ...(given === undefined ? {} : { textLen: given.textLen }) }),
    checkConfig: compareConfigs,
    fallback: UMT5_CONFIG_PRESETS['umt5-xxl'],
    specs: umt5TensorSpecs,
    schemes: (config, specs) => [
      { naming: 'original', names: new Map(specs.map((s) => [s.name, s.name])) },
      { naming: 'diffusers', names: umt5DiffusersNames(config), aliases: new Map([[TIED_EMBEDDING, 'shared.weight']]) },
    ],
    ignore: () => false,
    describe: describeUmt5Config,
  });
}
