import { shapeSize } from './_shape-size';
import { type WanConfig, validateWanConfig } from './config';
import { WanInputError } from './errors';
import { type SyntheticSeed, syntheticUniforms } from './synthetic-weights';

/** The synthetic inputs of one forward (synthetic-weights.ts's generator). */
export interface SyntheticWanInputs {
  /** `input.latents`, shape `latentShape` = [inDim, F, H, W]: v_i (uniform in [-1, 1), not normal). */
  readonly latents: Float32Array;
  /** `input.context`, shape [contextLength, textDim]: v_i. The forward zero-pads it to textLen rows (1.6). */
  readonly context: Float32Array;
}

/**
 * Latents and a text context from the synthetic generator with the tensor names `input.latents` and `input.context`
 * (value v_i, unscaled), so a numpy oracle can draw the same inputs.
 */
export function syntheticWanInputs(options: {
  config: WanConfig;
  seed: SyntheticSeed;
  latentShape: readonly number[];
  contextLength: number;
}): SyntheticWanInputs {
  const config = validateWanConfig({ config: options.config });
  const { latentShape, contextLength, seed } = options;
  if (!Array.isArray(latentShape) || latentShape.length !== 4 || !latentShape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    throw new WanInputError({ input: 'latentShape', value: latentShape, rule: 'expected four integers >= 1: [inDim, F, H, W]', caller: 'syntheticWanInputs' });
  }
  if (latentShape[0] !== config.inDim) {
    throw new WanInputError({ input: 'latentShape[0]', value: latentShape[0], rule: `expected inDim = ${config.inDim} latent channels`, caller: 'syntheticWanInputs' });
  }
  if (!Number.isSafeInteger(contextLength) || contextLength < 0 || contextLength > config.textLen) {
    throw new WanInputError({ input: 'contextLength', value: contextLength, rule: `expected an integer in [0, ${config.textLen}] (textLen)`, caller: 'syntheticWanInputs' });
  }
  const toFloat32 = (v: Float64Array): Float32Array => Float32Array.from(v);
  return {
    latents: toFloat32(syntheticUniforms({ name: 'input.latents', count: shapeSize(latentShape), seed })),
    context: toFloat32(syntheticUniforms({ name: 'input.context', count: contextLength * config.textDim, seed })),
  };
}
