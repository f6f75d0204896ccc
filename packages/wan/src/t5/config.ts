import { WanConfigError } from '../model/errors';

/**
 * The hyperparameters of Wan's umT5 text encoder (`T5Encoder` of `wan/modules/t5.py`, wan21-architecture.md 6.2).
 * Field names are camelCase versions of the reference's (`dim_attn` -> `dimAttn`, ...).
 */
export interface Umt5Config {
  /** Rows of `token_embedding.weight`. */
  readonly vocabSize: number;
  /** The model width: the embedding, the residual stream and the output (the DiT's `textDim`). */
  readonly dim: number;
  /** The width of q, k and v: `numHeads` heads of `dimAttn / numHeads`. */
  readonly dimAttn: number;
  /** The hidden width of each block's gated-GELU feed-forward. */
  readonly dimFfn: number;
  readonly numHeads: number;
  /** Encoder blocks, each with its own relative position bias (umT5: `shared_pos=False`). */
  readonly numLayers: number;
  /** Relative position buckets (half per direction): 32. */
  readonly numBuckets: number;
  /** The distance from which every relative position shares the last bucket of its direction: 128. */
  readonly maxDistance: number;
  /** Epsilon of every T5LayerNorm (RMSNorm): 1e-6. */
  readonly eps: number;
  /** Tokens the tokenizer pads to, the most the encoder takes and the rows the DiT pads its context to: 512. */
  readonly textLen: number;
}

/** The names of the presets. */
export type Umt5PresetName = 'umt5-xxl' | 'umt5-tiny';

/**
 * `umt5-xxl` (6.2: 5,680,910,336 parameters, 242 tensors) and `umt5-tiny`, whose `dim` and `textLen` are
 * `wan-tiny`'s `textDim` (32) and `textLen` (16), so its output is a valid `wan-tiny` context. Its `dimAttn` differs
 * from `dim` and its `dimFfn` is no multiple of either, so a transposed weight cannot pass the shape checks.
 */
export const UMT5_CONFIG_PRESETS: Readonly<Record<Umt5PresetName, Umt5Config>> = Object.freeze({
  'umt5-xxl': Object.freeze({
    vocabSize: 256384,
    dim: 4096,
    dimAttn: 4096,
    dimFfn: 10240,
    numHeads: 64,
    numLayers: 24,
    numBuckets: 32,
    maxDistance: 128,
    eps: 1e-6,
    textLen: 512,
  }),
  'umt5-tiny': Object.freeze({
    vocabSize: 512,
    dim: 32,
    dimAttn: 64,
    dimFfn: 80,
    numHeads: 4,
    numLayers: 2,
    numBuckets: 32,
    maxDistance: 128,
    eps: 1e-6,
    textLen: 16,
  }),
});

/** The names of the presets, in the order of {@link UMT5_CONFIG_PRESETS}. */
export const UMT5_PRESET_NAMES = Object.freeze(Object.keys(UMT5_CONFIG_PRESETS) as Umt5PresetName[]);

/** `dimAttn / numHeads` (64 for umT5-XXL). */
export function umt5HeadDim(config: Umt5Config): number {
  return config.dimAttn / config.numHeads;
}

const INTEGER_FIELDS = ['vocabSize', 'dim', 'dimAttn', 'dimFfn', 'numHeads', 'numLayers', 'numBuckets', 'maxDistance', 'textLen'] as const;

/**
 * Checks what the encoder relies on: positive integer sizes, `dimAttn` a multiple of `numHeads`, an even
 * `numBuckets` >= 4 (half per direction, a quarter exact) with `maxDistance` above the exact range, and a positive
 * finite `eps`. Returns the config; throws a {@link WanConfigError} naming the field.
 */
export function validateUmt5Config(options: { config: Umt5Config; source?: string }): Umt5Config {
  const { config } = options;
  const source = options.source ?? 'umT5 config';
  const bad = (field: keyof Umt5Config | 'config', value: unknown, rule: string): never => {
    throw new WanConfigError({ source, field, value, rule });
  };
  if (typeof config !== 'object' || config === null) return bad('config', config, 'expected a Umt5Config object');
  for (const field of INTEGER_FIELDS) {
    const value = config[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) bad(field, value, 'expected an integer >= 1');
  }
  if (config.dimAttn % config.numHeads !== 0) bad('numHeads', config.numHeads, `dimAttn ${config.dimAttn} must be a multiple of numHeads`);
  if (config.numBuckets % 2 !== 0 || config.numBuckets < 4) {
    bad('numBuckets', config.numBuckets, 'expected an even number >= 4 (half the buckets per direction, half of those exact)');
  }
  if (config.maxDistance <= config.numBuckets / 4) {
    bad('maxDistance', config.maxDistance, `expected more than numBuckets / 4 = ${config.numBuckets / 4} (the exact buckets)`);
  }
  if (typeof config.eps !== 'number' || !Number.isFinite(config.eps) || config.eps <= 0) bad('eps', config.eps, 'expected a finite number > 0');
  return config;
}

/** The preset `config` equals (field by field), or null. */
export function umt5PresetName(config: Umt5Config): Umt5PresetName | null {
  for (const name of UMT5_PRESET_NAMES) {
    const preset: Umt5Config = UMT5_CONFIG_PRESETS[name];
    if ((Object.keys(preset) as (keyof Umt5Config)[]).every((field) => preset[field] === config[field])) return name;
  }
  return null;
}

/** How messages name a config: its preset name, or `the umT5 config (dim 64, 3 layers)`. */
export function describeUmt5Config(config: Umt5Config): string {
  return umt5PresetName(config) ?? `the umT5 config (dim ${config.dim}, ${config.numLayers} layers)`;
}
