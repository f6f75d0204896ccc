/**
 * Loads the Wan-VAE decoder's weights from the files users have: the original `Wan2.1_VAE.pth` (torch.save, fp32, a
 * whole `WanVAE_` state dict) or the diffusers `vae/` folder (`AutoencoderKLWan`: safetensors + config.json).
 */
import { WanConfigError, WanConfigMismatchError, type WanConfigFieldMismatch } from '../model/errors';
import { isWanVaeEncoderTensor } from './check-weights';
import { WAN_VAE_CONFIG_PRESETS, WAN_VAE_LATENT_MEAN, WAN_VAE_LATENT_STD, type WanVaeConfig, validateWanVaeConfig } from './config';
import { wanVaeTensorSpecs } from './keys';
import { wanVaeDecoderLayout } from './layout';
import { type LoadedWeightFile, loadWeightFile } from '../weights/weight-file';

/** The naming schemes of the VAE's tensors: the reference's (`decoder.upsamples.3.time_conv.weight`) and diffusers'. */
export type WanVaeNaming = 'original' | 'diffusers';

/** The file name of the VAE in the original Wan2.1 folder. */
export const WAN_VAE_PTH_FILE = 'Wan2.1_VAE.pth';

/**
 * The diffusers (`AutoencoderKLWan`) name of each decoder tensor by reference name, in state-dict order: the mapping
 * of diffusers' `scripts/convert_wan_to_diffusers.py` (`convert_vae`), generalised to any config through the layout:
 * `conv2` -> `post_quant_conv`, `decoder.conv1` -> `decoder.conv_in`, `decoder.middle.{0,2}` ->
 * `decoder.mid_block.resnets.{0,1}`, `decoder.middle.1` -> `decoder.mid_block.attentions.0`, the residual blocks of
 * stage s -> `decoder.up_blocks.s.resnets.r` (`residual.{0,2,3,6}` -> `norm1`, `conv1`, `norm2`, `conv2`; `shortcut`
 * -> `conv_shortcut`), its upsampling -> `decoder.up_blocks.s.upsamplers.0`, `decoder.head.{0,2}` ->
 * `decoder.{norm_out,conv_out}`.
 */
export function wanVaeDiffusersNames(config: WanVaeConfig): Map<string, string> {
  const layout = wanVaeDecoderLayout(config);
  const blocks = new Map<string, string>([
    ['decoder.middle.0', 'decoder.mid_block.resnets.0'],
    ['decoder.middle.1', 'decoder.mid_block.attentions.0'],
    ['decoder.middle.2', 'decoder.mid_block.resnets.1'],
  ]);
  layout.stages.forEach((stage, s) => {
    stage.residuals.forEach((block, r) => blocks.set(block.prefix, `decoder.up_blocks.${s}.resnets.${r}`));
    if (stage.resample !== null) blocks.set(stage.resample.prefix, `decoder.up_blocks.${s}.upsamplers.0`);
  });
  const residual: Record<string, string> = {
    'residual.0.gamma': 'norm1.gamma',
    'residual.2.weight': 'conv1.weight',
    'residual.2.bias': 'conv1.bias',
    'residual.3.gamma': 'norm2.gamma',
    'residual.6.weight': 'conv2.weight',
    'residual.6.bias': 'conv2.bias',
    'shortcut.weight': 'conv_shortcut.weight',
    'shortcut.bias': 'conv_shortcut.bias',
  };
  const whole: Record<string, string> = {
    'conv2.weight': 'post_quant_conv.weight',
    'conv2.bias': 'post_quant_conv.bias',
    'decoder.conv1.weight': 'decoder.conv_in.weight',
    'decoder.conv1.bias': 'decoder.conv_in.bias',
    'decoder.head.0.gamma': 'decoder.norm_out.gamma',
    'decoder.head.2.weight': 'decoder.conv_out.weight',
    'decoder.head.2.bias': 'decoder.conv_out.bias',
  };
  const names = new Map<string, string>();
  for (const { name } of wanVaeTensorSpecs(config)) {
    let mapped = whole[name];
    if (mapped === undefined) {
      const match = /^(decoder\.(?:middle|upsamples)\.\d+)\.(.+)$/.exec(name);
      const block = match === null ? undefined : blocks.get(match[1] as string);
      if (match === null || block === undefined) throw new Error(`wanVaeDiffusersNames: no diffusers name for ${name}`); // unreachable: keys.ts and layout.ts agree
      const rest = match[2] as string;
      mapped = `${block}.${residual[rest] ?? rest}`; // attention (norm, to_qkv, proj) and upsampling (resample.1, time_conv) keep their names
    }
    names.set(name, mapped);
  }
  return names;
}

/** Tensors of a VAE file that are not the decoder's and are skipped: the encoder (`encoder.*`, `conv1.*` / `quant_conv.*`). */
export function isWanVaeIgnoredTensor(name: string): boolean {
  return isWanVaeEncoderTensor(name) || name.startsWith('quant_conv.');
}

/**
 * What {@link loadWanVaeWeights} returns: `weights` (reference names `conv2.*`, `decoder.*`: what `wanVaeDecodeCpu`
 * takes), the naming, the format, the wrapper prefix, the stored name of each tensor, the tensors not read (the
 * encoder half) and the config.json read.
 */
export type LoadedWanVaeWeights = LoadedWeightFile<WanVaeConfig, WanVaeNaming>;

const FIELDS = ['dim', 'zDim', 'dimMult', 'numResBlocks', 'temperalDownsample'] as const;

/** A diffusers `AutoencoderKLWan` config.json as a {@link WanVaeConfig}; what the decoder does not implement is an error. */
export function wanVaeConfigFromDiffusers(options: { json: Record<string, unknown>; source: string }): WanVaeConfig {
  const { json, source } = options;
  const bad = (field: string, rule: string): never => {
    throw new WanConfigError({ source, field, value: json[field], rule });
  };
  if (json._class_name !== undefined && json._class_name !== 'AutoencoderKLWan') bad('_class_name', 'expected "AutoencoderKLWan" (the Wan2.1 VAE)');
  if (json.is_residual !== undefined && json.is_residual !== false) bad('is_residual', 'expected false: the residual Wan2.2 VAE is not implemented');
  if (json.attn_scales !== undefined && !(Array.isArray(json.attn_scales) && json.attn_scales.length === 0)) bad('attn_scales', 'expected [] (as Wan2.1)');
  for (const [field, want] of [['latents_mean', WAN_VAE_LATENT_MEAN], ['latents_std', WAN_VAE_LATENT_STD]] as const) {
    const value = json[field];
    if (value !== undefined && !(Array.isArray(value) && value.length === want.length && value.every((v, i) => v === want[i]))) {
      bad(field, 'expected the Wan2.1 latent statistics (WAN_VAE_LATENT_MEAN / WAN_VAE_LATENT_STD)');
    }
  }
  for (const field of ['in_channels', 'out_channels'] as const) if (json[field] !== undefined && json[field] !== 3) bad(field, 'expected 3 (RGB)');
  const dimField = json.decoder_base_dim !== undefined && json.decoder_base_dim !== null ? 'decoder_base_dim' : 'base_dim';
  const preset = WAN_VAE_CONFIG_PRESETS['wan-vae'];
  const config: WanVaeConfig = {
    dim: (json[dimField] ?? preset.dim) as number,
    zDim: (json.z_dim ?? preset.zDim) as number,
    dimMult: (json.dim_mult ?? preset.dimMult) as number[],
    numResBlocks: (json.num_res_blocks ?? preset.numResBlocks) as number,
    temperalDownsample: (json.temperal_downsample ?? preset.temperalDownsample) as boolean[],
  };
  return validateWanVaeConfig({ config, source });
}

function compareConfigs(expected: WanVaeConfig, actual: WanVaeConfig, source: string): void {
  const mismatches: WanConfigFieldMismatch[] = [];
  for (const field of FIELDS) {
    if (JSON.stringify(expected[field]) !== JSON.stringify(actual[field])) mismatches.push({ field, expected: expected[field], actual: actual[field] });
  }
  if (mismatches.length > 0) throw new WanConfigMismatchError({ source, expectedName: 'the config passed in', mismatches });
}

function describe(config: WanVaeConfig): string {
  for (const [name, preset] of Object.entries(WAN_VAE_CONFIG_PRESETS)) {
    if (FIELDS.every((f) => JSON.stringify(preset[f]) === JSON.stringify(config[f]))) return `the Wan-VAE decoder (${name})`;
  }
  return `the Wan-VAE decoder (dim ${config.dim})`;
}

/**
 * Loads the Wan-VAE decoder's weights (`conv2` + `decoder.*`, float32, reference names) from
 * - the original `Wan2.1_VAE.pth` (a torch.save state dict of the whole `WanVAE_`; a wrapper such as
 *   `{'state_dict': {...}}` is detected from the names), or the Wan2.1 folder holding it;
 * - a diffusers `vae/` folder (`AutoencoderKLWan`: `diffusion_pytorch_model.safetensors` or shards + config.json), its
 *   pipeline folder (the parent of `vae/`), or a safetensors file in either naming.
 * The config is `config` when given (a config.json next to diffusers weights must then agree:
 * WanConfigMismatchError), else the config.json, else `wan-vae`. The encoder's tensors (`encoder.*`, `conv1.*`,
 * `quant_conv.*`) are skipped. Before any data is read the naming is detected (WanNamingError when it is neither or a
 * mix) and every tensor's name, shape and dtype is checked (WanTensorSetError, WanTensorShapeError,
 * WanTensorDtypeError, each naming the file and the tensor as stored); then each tensor is read once and converted to
 * float32. PthError and CheckpointError from the readers pass through.
 */
export async function loadWanVaeWeights(options: { path: string; config?: WanVaeConfig }): Promise<LoadedWanVaeWeights> {
  if (options.config !== undefined) validateWanVaeConfig({ config: options.config });
  return loadWeightFile<WanVaeConfig, WanVaeNaming>({
    path: options.path,
    ...(options.config === undefined ? {} : { config: options.config }),
    subfolder: 'vae',
    pthNames: [WAN_VAE_PTH_FILE],
    configFromJson: (json, file) => wanVaeConfigFromDiffusers({ json, source: file }),
    checkConfig: compareConfigs,
    fallback: WAN_VAE_CONFIG_PRESETS['wan-vae'],
    specs: wanVaeTensorSpecs,
    schemes: (config, specs) => [
      { naming: 'original', names: new Map(specs.map((s) => [s.name, s.name])) },
      { naming: 'diffusers', names: wanVaeDiffusersNames(config) },
    ],
    ignore: isWanVaeIgnoredTensor,
    describe,
  });
}
