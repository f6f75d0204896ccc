import type { WanVaeConfig } from './config';
import { validateWanVaeConfig } from './config';

/** A residual block of the decoder, `<prefix>.residual.*` (+ `<prefix>.shortcut.*` when the widths differ). */
export interface WanVaeResidualSpec {
  readonly kind: 'residual';
  readonly prefix: string;
  readonly inDim: number;
  readonly outDim: number;
}

/** The single-head attention block of the decoder's middle, `<prefix>.{norm,to_qkv,proj}.*`. */
export interface WanVaeAttentionSpec {
  readonly kind: 'attention';
  readonly prefix: string;
  readonly dim: number;
}

/** An upsampling (`Resample`): `dim` channels in, `dim / 2` out, H and W doubled; `upsample3d` also doubles T. */
export interface WanVaeResampleSpec {
  readonly kind: 'resample';
  readonly prefix: string;
  readonly dim: number;
  readonly mode: 'upsample2d' | 'upsample3d';
}

/** A stage of `decoder.upsamples`: `numResBlocks + 1` residual blocks, then an upsampling (not in the last stage). */
export interface WanVaeStageSpec {
  readonly residuals: readonly WanVaeResidualSpec[];
  readonly resample: WanVaeResampleSpec | null;
}

/** The module structure of `Decoder3d` (vae.py:369-472) for a config. */
export interface WanVaeDecoderLayout {
  readonly zDim: number;
  /** `dim * [dimMult.at(-1), ...dimMult.reversed]`: [384, 384, 384, 192, 96] for `wan-vae`. */
  readonly dims: readonly number[];
  /** `decoder.middle.{0,1,2}`: residual, attention, residual at `dims[0]`. */
  readonly middle: readonly [WanVaeResidualSpec, WanVaeAttentionSpec, WanVaeResidualSpec];
  readonly stages: readonly WanVaeStageSpec[];
  /** The head's width (`decoder.head.0.gamma`, `decoder.head.2.weight [3, headDim, 3, 3, 3]`). */
  readonly headDim: number;
  /** Output pixels per latent pixel along H and W: 2 per upsampling (8 for `wan-vae`). */
  readonly spatialScale: number;
  /** Output frames per latent frame after the first: 2 per `upsample3d` (4 for `wan-vae`). */
  readonly temporalScale: number;
}

/** The decoder's modules in the reference's order (the index `j` of `decoder.upsamples.j` counts every module). */
export function wanVaeDecoderLayout(config: WanVaeConfig): WanVaeDecoderLayout {
  validateWanVaeConfig({ config });
  const { dim, dimMult, numResBlocks } = config;
  const temporalUpsample = [...config.temperalDownsample].reverse();
  const dims = [dimMult[dimMult.length - 1] as number, ...[...dimMult].reverse()].map((m) => dim * m);
  const d0 = dims[0] as number;
  const middle = [
    { kind: 'residual', prefix: 'decoder.middle.0', inDim: d0, outDim: d0 },
    { kind: 'attention', prefix: 'decoder.middle.1', dim: d0 },
    { kind: 'residual', prefix: 'decoder.middle.2', inDim: d0, outDim: d0 },
  ] as const;
  const stages: WanVaeStageSpec[] = [];
  let index = 0;
  let spatialScale = 1;
  let temporalScale = 1;
  for (let i = 0; i < dims.length - 1; i++) {
    let inDim = dims[i] as number;
    const outDim = dims[i + 1] as number;
    if (i === 1 || i === 2 || i === 3) inDim = inDim / 2;
    const residuals: WanVaeResidualSpec[] = [];
    for (let r = 0; r < numResBlocks + 1; r++) {
      residuals.push({ kind: 'residual', prefix: `decoder.upsamples.${index++}`, inDim, outDim });
      inDim = outDim;
    }
    let resample: WanVaeResampleSpec | null = null;
    if (i !== dimMult.length - 1) {
      const mode = temporalUpsample[i] ? 'upsample3d' : 'upsample2d';
      resample = { kind: 'resample', prefix: `decoder.upsamples.${index++}`, dim: outDim, mode };
      spatialScale *= 2;
      if (mode === 'upsample3d') temporalScale *= 2;
    }
    stages.push({ residuals, resample });
  }
  return { zDim: config.zDim, dims, middle, stages, headDim: dims[dims.length - 1] as number, spatialScale, temporalScale };
}

/**
 * The decoded video's shape for latents `[zDim, F, H, W]`: `[3, 1 + temporalScale (F - 1), spatialScale H,
 * spatialScale W]`; 81 frames of 8H x 8W for Wan's 21 latent frames.
 */
export function wanVaeOutputShape(options: { config: WanVaeConfig; latentShape: readonly number[] }): [number, number, number, number] {
  const layout = wanVaeDecoderLayout(options.config);
  const [, f, h, w] = options.latentShape as [number, number, number, number];
  return [3, 1 + layout.temporalScale * (f - 1), layout.spatialScale * h, layout.spatialScale * w];
}
