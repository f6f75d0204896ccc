import { WanConfigError } from '../model/errors';

/**
 * The hyperparameters of a Wan-VAE (wan21-architecture.md 6.1, `_video_vae` of wan/modules/vae.py). Only the decoder
 * is implemented; the names follow the reference's constructor (`temperal` is its spelling).
 */
export interface WanVaeConfig {
  /** The base width; the decoder's widths are `dim * [dimMult.at(-1), ...dimMult.reversed]` (96: 384, 384, 384, 192, 96). */
  readonly dim: number;
  /** Latent channels: 16, the length of the latent statistics ({@link WAN_VAE_LATENT_MEAN}). */
  readonly zDim: number;
  /** Width multipliers of the encoder's stages (2 to 4 entries; the reference halves the input of decoder stages 1-3). */
  readonly dimMult: readonly number[];
  /** Residual blocks per encoder stage; each decoder stage has `numResBlocks + 1`. */
  readonly numResBlocks: number;
  /** Whether each encoder downsampling is also temporal; the decoder upsamples with the reverse (`temperal_upsample`). */
  readonly temperalDownsample: readonly boolean[];
}

/** The names of the presets. */
export type WanVaePresetName = 'wan-vae' | 'wan-vae-tiny';

const preset = (config: WanVaeConfig): WanVaeConfig =>
  Object.freeze({ ...config, dimMult: Object.freeze([...config.dimMult]), temperalDownsample: Object.freeze([...config.temperalDownsample]) });

/**
 * `wan-vae`: the released Wan2.1 VAE (`Wan2.1_VAE.pth`; decoder + `conv2` 108 tensors, 73,295,603 parameters).
 * `wan-vae-tiny`: the same structure at `dim` 8 (decoder widths 32, 32, 32, 16, 8), for tests and the CPU.
 */
export const WAN_VAE_CONFIG_PRESETS: Readonly<Record<WanVaePresetName, WanVaeConfig>> = Object.freeze({
  'wan-vae': preset({ dim: 96, zDim: 16, dimMult: [1, 2, 4, 4], numResBlocks: 2, temperalDownsample: [false, true, true] }),
  'wan-vae-tiny': preset({ dim: 8, zDim: 16, dimMult: [1, 2, 4, 4], numResBlocks: 2, temperalDownsample: [false, true, true] }),
});

/**
 * Per-channel statistics of the normalised latents (`WanVAE.__init__`, vae.py:621-662): the decoder's input is
 * `z / (1 / std) + mean` (the reference divides by the float32 reciprocal, `scale[1] = 1 / std`).
 */
export const WAN_VAE_LATENT_MEAN: readonly number[] = Object.freeze([
  -0.7571, -0.7089, -0.9113, 0.1075, -0.1745, 0.9653, -0.1517, 1.5508, 0.4134, -0.0715, 0.5517, -0.3632, -0.1922, -0.9497, 0.2503, -0.2921,
]);
export const WAN_VAE_LATENT_STD: readonly number[] = Object.freeze([
  2.8184, 1.4541, 2.3275, 2.6558, 1.2196, 1.7708, 2.6052, 2.0743, 3.2687, 2.1526, 2.8652, 1.5579, 1.6382, 1.1253, 2.8251, 1.916,
]);

/**
 * Checks every field (throws {@link WanConfigError}, e.g. `wan-vae config: zDim is 4: expected 16, the channels of the
 * latent statistics`) and returns `config`.
 */
export function validateWanVaeConfig(options: { config: WanVaeConfig; source?: string }): WanVaeConfig {
  const { config } = options;
  const source = options.source ?? 'wan-vae config';
  const bad = (field: string | null, value: unknown, rule: string): never => {
    throw new WanConfigError({ source, field, value, rule });
  };
  if (typeof config !== 'object' || config === null) return bad(null, config, 'expected a WanVaeConfig object');
  const positive = (v: unknown): boolean => typeof v === 'number' && Number.isSafeInteger(v) && v >= 1;
  if (!positive(config.dim)) bad('dim', config.dim, 'expected an integer >= 1');
  if (config.zDim !== WAN_VAE_LATENT_MEAN.length) {
    bad('zDim', config.zDim, `expected ${WAN_VAE_LATENT_MEAN.length}, the channels of the latent statistics`);
  }
  const mult = config.dimMult as unknown;
  if (!Array.isArray(mult) || mult.length < 2 || mult.length > 4 || !mult.every(positive)) {
    bad('dimMult', mult, 'expected 2 to 4 integers >= 1 (the decoder halves the input of its stages 1 to 3)');
  }
  if (typeof config.numResBlocks !== 'number' || !Number.isSafeInteger(config.numResBlocks) || config.numResBlocks < 0) {
    bad('numResBlocks', config.numResBlocks, 'expected an integer >= 0');
  }
  const temporal = config.temperalDownsample as unknown;
  if (!Array.isArray(temporal) || temporal.length !== config.dimMult.length - 1 || !temporal.every((t) => typeof t === 'boolean')) {
    const n = config.dimMult.length - 1;
    bad('temperalDownsample', temporal, `expected ${n} boolean${n === 1 ? '' : 's'} (one per downsampling, dimMult.length - 1)`);
  }
  // Each upsampling halves its width (Conv2d(dim, dim // 2)); the next stage expects exactly that.
  for (let i = 0; i < config.dimMult.length - 1; i++) {
    const width = config.dim * (config.dimMult[config.dimMult.length - 2 - i] as number);
    if (width % 2 !== 0) bad('dim', config.dim, `decoder stage ${i} upsamples ${width} channels to ${width / 2}: expected an even width`);
  }
  return config;
}
