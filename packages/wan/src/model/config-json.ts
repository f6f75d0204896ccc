/**
 * A checkpoint's config.json: parsed from either field naming (wan21-architecture.md 2), written back, and compared
 * with the config a caller expects.
 *
 * Original (`WanModel`): `dim, ffn_dim, num_heads, num_layers, freq_dim, in_dim, out_dim, text_len, eps, model_type`.
 * The original class takes `text_dim` and `patch_size` from its `__init__` defaults, never from the file (1.1,
 * `ignore_for_config`); we read them when present (a synthetic tiny checkpoint needs `text_dim` 32) and default to 4096
 * and [1, 2, 2] otherwise, which is what the released files imply.
 *
 * Diffusers (`WanTransformer3DModel`): `num_attention_heads, attention_head_dim` (dim = their product), `ffn_dim,
 * num_layers, freq_dim, in_channels, out_channels, text_dim, patch_size, eps`, plus the fixed `qk_norm
 * "rms_norm_across_heads", cross_attn_norm true, added_kv_proj_dim null, image_dim null, rope_max_seq_len 1024`. Its
 * config has no text length (the pipeline pads to 512); we read `text_len` when present.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type WanConfig, validateWanConfig } from './config';
import { WanConfigError, type WanConfigFieldMismatch, WanConfigMismatchError } from './errors';

/** How a config.json spells its fields. */
export type WanConfigNaming = 'original' | 'diffusers';

export interface ParsedWanConfig {
  readonly config: WanConfig;
  readonly naming: WanConfigNaming;
}

type Json = Record<string, unknown>;

const ORIGINAL_NAMES = {
  dim: 'dim',
  ffnDim: 'ffn_dim',
  numHeads: 'num_heads',
  numLayers: 'num_layers',
  freqDim: 'freq_dim',
  inDim: 'in_dim',
  outDim: 'out_dim',
  textDim: 'text_dim',
  textLen: 'text_len',
  patchSize: 'patch_size',
  eps: 'eps',
} as const satisfies Record<keyof WanConfig, string>;

const DIFFUSERS_NAMES = {
  dim: 'num_attention_heads * attention_head_dim',
  ffnDim: 'ffn_dim',
  numHeads: 'num_attention_heads',
  numLayers: 'num_layers',
  freqDim: 'freq_dim',
  inDim: 'in_channels',
  outDim: 'out_channels',
  textDim: 'text_dim',
  textLen: 'text_len',
  patchSize: 'patch_size',
  eps: 'eps',
} as const satisfies Record<keyof WanConfig, string>;

/** What the forward implements of the fields the DiT could vary: a file holding another value is refused. */
const ORIGINAL_FIXED: Readonly<Record<string, unknown>> = { model_type: 't2v', qk_norm: true, cross_attn_norm: true, window_size: [-1, -1] };
const DIFFUSERS_FIXED: Readonly<Record<string, unknown>> = {
  qk_norm: 'rms_norm_across_heads',
  cross_attn_norm: true,
  added_kv_proj_dim: null,
  image_dim: null,
  rope_max_seq_len: 1024,
};

/** The defaults of the fields a config.json may leave out (the `__init__` defaults, 1.1 and 2). */
const DEFAULTS = { freqDim: 256, inDim: 16, outDim: 16, textDim: 4096, textLen: 512, patchSize: [1, 2, 2], eps: 1e-6 } as const;

const CLASS_NAMES: Readonly<Record<string, WanConfigNaming>> = { WanModel: 'original', WanTransformer3DModel: 'diffusers' };

function detectNaming(json: Json, source: string): WanConfigNaming {
  const className = json._class_name;
  if (className !== undefined) {
    const naming = typeof className === 'string' ? CLASS_NAMES[className] : undefined;
    if (naming === undefined) {
      throw new WanConfigError({ source, field: '_class_name', value: className, rule: 'expected "WanModel" (original) or "WanTransformer3DModel" (diffusers): not a Wan2.1 DiT config' });
    }
    return naming;
  }
  const original = 'num_heads' in json || 'dim' in json;
  const diffusers = 'num_attention_heads' in json || 'attention_head_dim' in json;
  if (original && diffusers) {
    throw new WanConfigError({ source, rule: 'holds both original (dim, num_heads) and diffusers (num_attention_heads, attention_head_dim) fields: use one naming' });
  }
  if (!original && !diffusers) {
    throw new WanConfigError({ source, rule: 'holds neither num_heads (original naming) nor num_attention_heads (diffusers naming): not a Wan2.1 DiT config' });
  }
  return original ? 'original' : 'diffusers';
}

function readSize(json: Json, source: string, field: string, fallback?: number): number {
  const value = json[field];
  if (value === undefined && fallback !== undefined) return fallback;
  if (value === undefined) throw new WanConfigError({ source, field, value, rule: 'expected an integer >= 1 (the field is required)' });
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) throw new WanConfigError({ source, field, value, rule: 'expected an integer >= 1' });
  return value;
}

function readPatchSize(json: Json, source: string): readonly [number, number, number] {
  const value = json.patch_size;
  if (value === undefined) return DEFAULTS.patchSize;
  if (!Array.isArray(value) || value.length !== 3 || !value.every((p) => typeof p === 'number' && Number.isSafeInteger(p) && p >= 1)) {
    throw new WanConfigError({ source, field: 'patch_size', value, rule: 'expected three integers >= 1 (t, h, w)' });
  }
  return [value[0], value[1], value[2]];
}

function readEps(json: Json, source: string): number {
  const value = json.eps;
  if (value === undefined) return DEFAULTS.eps;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) throw new WanConfigError({ source, field: 'eps', value, rule: 'expected a finite number > 0' });
  return value;
}

function checkFixed(json: Json, source: string, fixed: Readonly<Record<string, unknown>>): void {
  for (const [field, expected] of Object.entries(fixed)) {
    const value = json[field];
    if (value !== undefined && JSON.stringify(value) !== JSON.stringify(expected)) {
      throw new WanConfigError({ source, field, value, rule: `expected ${JSON.stringify(expected)}: only the Wan2.1 T2V DiT with its fixed choices is implemented` });
    }
  }
}

/**
 * Parses the JSON object of a config.json in either naming (detected from `_class_name`, else from the fields) into a
 * validated {@link WanConfig}. Unknown fields (`_diffusers_version`, `_name_or_path`, ...) are ignored; a field of
 * the wrong type, a missing size (`dim`, `ffn_dim`, `num_heads`, `num_layers`, or their diffusers names), or a fixed
 * field with another value (`model_type` other than "t2v", `image_dim` not null, ...) is a {@link WanConfigError}
 * naming `source`, the field as the file spells it, its value and the rule.
 */
export function parseWanConfigJson(options: { json: unknown; source: string }): ParsedWanConfig {
  const { json, source } = options;
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new WanConfigError({ source, rule: `holds ${json === null ? 'null' : Array.isArray(json) ? 'an array' : typeof json}, expected a JSON object` });
  }
  const fields = json as Json;
  const naming = detectNaming(fields, source);
  const common = {
    ffnDim: readSize(fields, source, 'ffn_dim'),
    numLayers: readSize(fields, source, 'num_layers'),
    freqDim: readSize(fields, source, 'freq_dim', DEFAULTS.freqDim),
    textDim: readSize(fields, source, 'text_dim', DEFAULTS.textDim),
    textLen: readSize(fields, source, 'text_len', DEFAULTS.textLen),
    patchSize: readPatchSize(fields, source),
    eps: readEps(fields, source),
  };
  let config: WanConfig;
  if (naming === 'original') {
    checkFixed(fields, source, ORIGINAL_FIXED);
    config = {
      dim: readSize(fields, source, 'dim'),
      numHeads: readSize(fields, source, 'num_heads'),
      inDim: readSize(fields, source, 'in_dim', DEFAULTS.inDim),
      outDim: readSize(fields, source, 'out_dim', DEFAULTS.outDim),
      ...common,
    };
  } else {
    checkFixed(fields, source, DIFFUSERS_FIXED);
    const numHeads = readSize(fields, source, 'num_attention_heads');
    config = {
      dim: numHeads * readSize(fields, source, 'attention_head_dim'),
      numHeads,
      inDim: readSize(fields, source, 'in_channels', DEFAULTS.inDim),
      outDim: readSize(fields, source, 'out_channels', DEFAULTS.outDim),
      ...common,
    };
  }
  validateWanConfig({ config, source, fieldNames: naming === 'original' ? ORIGINAL_NAMES : DIFFUSERS_NAMES });
  return { config, naming };
}

/** Sorted keys, as the released config.json is written (2). */
function sortKeys(fields: Json): Json {
  return Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * The text of a config.json for `config`: sorted keys, two-space indent, a final newline. The original naming writes
 * the fields of the released file (2), plus `text_dim` and `patch_size` when they differ from 4096 and [1, 2, 2]; the
 * diffusers naming writes the fields of the conversion script (2), plus `text_len` when it differs from 512.
 */
export function wanConfigToJson(options: { config: WanConfig; naming?: WanConfigNaming }): string {
  const { config } = options;
  const naming = options.naming ?? 'original';
  const textLen = config.textLen === DEFAULTS.textLen ? {} : { text_len: config.textLen };
  const fields: Json =
    naming === 'original'
      ? {
          _class_name: 'WanModel',
          _diffusers_version: '0.30.0',
          dim: config.dim,
          eps: config.eps,
          ffn_dim: config.ffnDim,
          freq_dim: config.freqDim,
          in_dim: config.inDim,
          model_type: 't2v',
          num_heads: config.numHeads,
          num_layers: config.numLayers,
          out_dim: config.outDim,
          text_len: config.textLen,
          ...(config.textDim === DEFAULTS.textDim ? {} : { text_dim: config.textDim }),
          ...(config.patchSize.join() === DEFAULTS.patchSize.join() ? {} : { patch_size: [...config.patchSize] }),
        }
      : {
          _class_name: 'WanTransformer3DModel',
          ...DIFFUSERS_FIXED,
          attention_head_dim: config.dim / config.numHeads,
          eps: config.eps,
          ffn_dim: config.ffnDim,
          freq_dim: config.freqDim,
          in_channels: config.inDim,
          num_attention_heads: config.numHeads,
          num_layers: config.numLayers,
          out_channels: config.outDim,
          patch_size: [...config.patchSize],
          text_dim: config.textDim,
          ...textLen,
        };
  return `${JSON.stringify(sortKeys(fields), null, 2)}\n`;
}

/**
 * Every field on which `actual` differs from `expected`, as a {@link WanConfigMismatchError} naming `source` and
 * `expectedName` (a preset name, or "the config passed in"); returns `actual` when they agree.
 */
export function checkWanConfig(options: { expected: WanConfig; actual: WanConfig; source: string; expectedName: string }): WanConfig {
  const { expected, actual } = options;
  const mismatches: WanConfigFieldMismatch[] = [];
  for (const field of Object.keys(ORIGINAL_NAMES) as (keyof WanConfig)[]) {
    const want = expected[field];
    const got = actual[field];
    const same = Array.isArray(want) && Array.isArray(got) ? want.join() === got.join() : want === got;
    if (!same) mismatches.push({ field, expected: want, actual: got });
  }
  if (mismatches.length > 0) throw new WanConfigMismatchError({ source: options.source, expectedName: options.expectedName, mismatches });
  return actual;
}

/** The config.json a checkpoint path points at: the file itself, `<dir>/config.json`, or `<dir>/transformer/config.json`. */
async function findConfigFile(path: string): Promise<string> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (cause) {
    throw new WanConfigError({ source: path, rule: `cannot be read (${(cause as Error).message})`, cause });
  }
  if (!isDirectory) return path;
  for (const candidate of [join(path, 'config.json'), join(path, 'transformer', 'config.json')]) {
    const found = await stat(candidate).then((s) => s.isFile(), () => false);
    if (found) return candidate;
  }
  throw new WanConfigError({ source: path, rule: 'holds no config.json (nor transformer/config.json): pass the config, or add the file' });
}

/**
 * Reads and parses a config.json: `path` is the file, or a checkpoint directory holding `config.json` (or a diffusers
 * repository holding `transformer/config.json`). Errors are {@link WanConfigError}s naming the file.
 */
export async function readWanConfig(options: { path: string }): Promise<ParsedWanConfig & { file: string }> {
  const file = await findConfigFile(options.path);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new WanConfigError({ source: file, rule: `cannot be read (${(cause as Error).message})`, cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new WanConfigError({ source: file, rule: `is not valid JSON (${(cause as Error).message})`, cause });
  }
  return { ...parseWanConfigJson({ json, source: file }), file };
}
