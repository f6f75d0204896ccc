import { WanConfigError } from './errors';

/**
 * The hyperparameters of a Wan2.1 T2V DiT (wan21-architecture.md 2). Field names are camelCase; config.json spells
 * them as the original (`ffn_dim`, `num_heads`, ...) or the diffusers repository does (config-json.ts).
 */
export interface WanConfig {
  /** The model width; a multiple of `numHeads`. */
  readonly dim: number;
  /** The hidden width of each block's FFN. */
  readonly ffnDim: number;
  /** Attention heads; the head dimension `dim / numHeads` is 128 in every released model. */
  readonly numHeads: number;
  /** Transformer blocks. */
  readonly numLayers: number;
  /** Width of the timestep sinusoid (1.2): cos of `freqDim / 2` frequencies, then sin of them. */
  readonly freqDim: number;
  /** Latent channels in (16 for T2V). */
  readonly inDim: number;
  /** Velocity channels out (16). */
  readonly outDim: number;
  /** Width of the text encoder's output (4096 for umT5-XXL). */
  readonly textDim: number;
  /** Text tokens the context is zero-padded to before the text MLP (1.6). */
  readonly textLen: number;
  /** Patch size (t, h, w) of the patch embedding and the unpatchify. */
  readonly patchSize: readonly [number, number, number];
  /** Epsilon of every LayerNorm and RMSNorm of the DiT. */
  readonly eps: number;
}

/** The names of the presets. */
export type WanPresetName = 'wan-1.3b' | 'wan-14b' | 'wan-tiny';

const preset = (config: WanConfig): WanConfig => Object.freeze({ ...config, patchSize: Object.freeze([...config.patchSize]) as WanConfig['patchSize'] });
const RELEASED_SHARED = { freqDim: 256, inDim: 16, outDim: 16, textDim: 4096, textLen: 512, patchSize: [1, 2, 2], eps: 1e-6 } as const;

/**
 * The released models (2) and `wan-tiny`, a two-layer model with the real head dimension 128 (so the real RoPE split
 * 22/21/21 and the real attention shapes, 7) and a 32-wide, 16-token text input, for synthetic checkpoints.
 */
export const WAN_CONFIG_PRESETS: Readonly<Record<WanPresetName, WanConfig>> = Object.freeze({
  'wan-1.3b': preset({ dim: 1536, ffnDim: 8960, numHeads: 12, numLayers: 30, ...RELEASED_SHARED }),
  'wan-14b': preset({ dim: 5120, ffnDim: 13824, numHeads: 40, numLayers: 40, ...RELEASED_SHARED }),
  'wan-tiny': preset({
    dim: 256,
    ffnDim: 512,
    numHeads: 2,
    numLayers: 2,
    freqDim: 256,
    inDim: 16,
    outDim: 16,
    textDim: 32,
    textLen: 16,
    patchSize: [1, 2, 2],
    eps: 1e-6,
  }),
});

/** The names of the presets, in the order of {@link WAN_CONFIG_PRESETS}. */
export const WAN_PRESET_NAMES = Object.freeze(Object.keys(WAN_CONFIG_PRESETS) as WanPresetName[]);

/** `dim / numHeads`. */
export function wanHeadDim(config: WanConfig): number {
  return config.dim / config.numHeads;
}

const INTEGER_FIELDS = ['dim', 'ffnDim', 'numHeads', 'numLayers', 'freqDim', 'inDim', 'outDim', 'textDim', 'textLen'] as const;

/**
 * Checks what the forward relies on: positive integer sizes, `dim` a multiple of `numHeads` with an even head
 * dimension (RoPE rotates pairs, 1.3), an even `freqDim` (cos and sin halves, 1.2), three positive patch sizes and a
 * positive finite `eps`. Returns the config; throws a {@link WanConfigError} naming the field (`source` says whose).
 */
export function validateWanConfig(options: {
  config: WanConfig;
  /** Whose config (a config.json path, a preset name); default `config`. */
  source?: string;
  /** How the source spells each field (config.json: `num_heads`, ...); default the `WanConfig` names. */
  fieldNames?: Readonly<Partial<Record<keyof WanConfig, string>>>;
}): WanConfig {
  const { config } = options;
  const source = options.source ?? 'config';
  const nameOf = (field: keyof WanConfig): string => options.fieldNames?.[field] ?? field;
  const bad = (field: keyof WanConfig | 'config', value: unknown, rule: string): never => {
    throw new WanConfigError({ source, field: field === 'config' ? field : nameOf(field), value, rule });
  };
  if (typeof config !== 'object' || config === null) return bad('config', config, 'expected a WanConfig object');
  for (const field of INTEGER_FIELDS) {
    const value = config[field];
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1) bad(field, value, 'expected an integer >= 1');
  }
  if (config.dim % config.numHeads !== 0) bad('numHeads', config.numHeads, `${nameOf('dim')} ${config.dim} must be a multiple of ${nameOf('numHeads')}`);
  if (wanHeadDim(config) % 2 !== 0) bad('numHeads', config.numHeads, `the head dimension ${config.dim} / ${config.numHeads} = ${wanHeadDim(config)} must be even (RoPE rotates pairs)`);
  if (config.freqDim % 2 !== 0) bad('freqDim', config.freqDim, 'expected an even number (the sinusoid is cos of half the frequencies, then sin)');
  const patch = config.patchSize as unknown;
  if (!Array.isArray(patch) || patch.length !== 3 || !patch.every((p) => Number.isSafeInteger(p) && (p as number) >= 1)) {
    bad('patchSize', patch, 'expected three integers >= 1 (t, h, w)');
  }
  if (typeof config.eps !== 'number' || !Number.isFinite(config.eps) || config.eps <= 0) bad('eps', config.eps, 'expected a finite number > 0');
  return config;
}

/** The preset `config` equals (field by field), or null. */
export function wanPresetName(config: WanConfig): WanPresetName | null {
  for (const name of WAN_PRESET_NAMES) {
    const preset: WanConfig = WAN_CONFIG_PRESETS[name];
    const same = (Object.keys(preset) as (keyof WanConfig)[]).every((field) =>
      field === 'patchSize' ? preset.patchSize.join() === config.patchSize?.join() : preset[field] === config[field],
    );
    if (same) return name;
  }
  return null;
}

/** How messages name a config: its preset name, or `the config (dim 384, 3 layers)`. */
export function describeWanConfig(config: WanConfig): string {
  return wanPresetName(config) ?? `the config (dim ${config.dim}, ${config.numLayers} layers)`;
}
