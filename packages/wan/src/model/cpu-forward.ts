/**
 * The whole Wan2.1 T2V DiT forward on the CPU, float32 data with float64 sums, for one sample
 * (wan21-architecture.md 1.4-1.6; classifier-free guidance runs it twice, cpu-forward-cfg.ts).
 *
 * Shapes (F, H, W: latent frames, height, width; pt, ph, pw: the patch size (1, 2, 2); L: contextLength):
 * ```
 * latents   [inDim, F, H, W]          -> patch embedding        tokens x [F/pt * H/ph * W/pw, dim]
 * timestep  integer t (0..999)        -> sinusoid [freqDim]     -> time_embedding   e  [dim]   (Linear, SiLU, Linear)
 *                                                               -> time_projection  e0 [6, dim] (SiLU, Linear)
 * context   [L, textDim]              -> zero-padded to [textLen, textDim] -> text_embedding ctx [textLen, dim]
 *                                                                          (Linear, GELU-tanh, Linear)
 * blocks    x = block_i(x, e0, ctx) for i < numLayers        (cpu-block.ts)
 * head      (shift, scale) = head.modulation + e   (the raw e: no SiLU, no projection, 1.5 and 9.2)
 *           out = head.head(LN(x) * (1 + scale) + shift)    [tokens, pt * ph * pw * outDim]
 * returns   unpatchify(out)           velocity [outDim, F, H, W]
 * ```
 * On one GPU the reference pads no tokens (seq_len = token count, 5), so nothing is masked.
 *
 * Precision (1.7): the reference runs the GEMMs in bf16 under autocast; this is the fp32 model it approximates.
 * The sinusoid and RoPE run in float64 and are rounded to float32 (1.2, 1.3); norms keep float64 statistics;
 * modulation adds and residual updates are rounded to float32 per operation in the reference's order.
 */
import { shapeSize } from './_shape-size';
import { geluTanh, silu } from './activations';
import { checkWanWeights } from './check-keys';
import { type WanConfig, validateWanConfig } from './config';
import { wanBlockCpu } from './cpu-block';
import { WanInputError } from './errors';
import { linear } from './linear';
import { modulate, modulationVectors } from './modulation';
import { layerNorm } from './norms';
import { patchEmbedding } from './patch-embedding';
import { latentGridOf } from './latent-grid';
import { ropeTable } from './rope';
import { timestepSinusoid } from './timestep-embedding';
import type { WanWeights } from './types';
import { unpatchify } from './unpatchify';

/** An intermediate result of the forward, for comparing with another implementation stage by stage. */
export interface WanForwardStage {
  /**
   * `patch_embedding` [tokens, dim], `sinusoid` [freqDim], `time_embedding` (e) [dim], `time_projection` (e0)
   * [6 * dim], `text_embedding` [textLen, dim], `blocks.{i}` (x after block i) [tokens, dim], `head` [tokens,
   * pt ph pw outDim], `output` [outDim, F, H, W].
   */
  readonly stage: string;
  readonly values: Float32Array;
}

export interface WanForwardCpuOptions {
  /** Every tensor of `config`, original names (load-weights.ts, synthetic-weights.ts). */
  weights: WanWeights;
  config: WanConfig;
  /** [inDim, F, H, W], row-major. */
  latents: Float32Array;
  /** [inDim, F, H, W]; F, H and W multiples of the patch size. */
  latentShape: readonly number[];
  /** The timestep the DiT embeds: the reference feeds the truncated integer trunc(sigma * 1000) (9.6). */
  timestep: number;
  /** The text encoder's output trimmed to its real tokens: [contextLength, textDim], row-major. */
  context: Float32Array;
  /** Real text tokens L, 0 <= L <= textLen; the forward zero-pads the context to textLen rows (1.6). */
  contextLength: number;
  /** Called with each intermediate result (fresh arrays, or views the forward no longer writes). */
  onStage?: (stage: WanForwardStage) => void;
}

type Grid = readonly [number, number, number];

function checkInputs(options: WanForwardCpuOptions, config: WanConfig): { latentShape: readonly [number, number, number, number]; grid: Grid } {
  const bad = (input: string, value: unknown, rule: string): never => {
    throw new WanInputError({ input, value, rule });
  };
  const { latents, timestep, context, contextLength } = options;
  const { latentShape: shape, grid } = latentGridOf({ config, latentShape: options.latentShape, caller: 'wanForwardCpu' });
  if (!(latents instanceof Float32Array) || latents.length !== shapeSize(shape)) {
    bad('latents', latents, `expected a Float32Array of ${shapeSize(shape)} values, the product of latentShape [${shape.join(', ')}]`);
  }
  if (typeof timestep !== 'number' || !Number.isFinite(timestep)) bad('timestep', timestep, 'expected a finite number (the integer timestep, 0..999)');
  if (!Number.isSafeInteger(contextLength) || contextLength < 0 || contextLength > config.textLen) {
    bad('contextLength', contextLength, `expected an integer in [0, ${config.textLen}] (textLen)`);
  }
  if (!(context instanceof Float32Array) || context.length !== contextLength * config.textDim) {
    bad('context', context, `expected a Float32Array of ${contextLength * config.textDim} values: [contextLength ${contextLength}, textDim ${config.textDim}]`);
  }
  return { latentShape: shape, grid };
}

/** Returns the velocity [outDim, F, H, W] for one sample (see the file's comment). */
export function wanForwardCpu(options: WanForwardCpuOptions): Float32Array {
  const config = validateWanConfig({ config: options.config });
  const { weights, latents, timestep, context, contextLength, onStage } = options;
  checkWanWeights({ config, weights });
  const { latentShape, grid } = checkInputs(options, config);
  const { dim, freqDim, textDim, textLen, numHeads, numLayers, outDim, patchSize, eps } = config;
  const weight = (name: string): Float32Array => weights.get(name) as Float32Array;
  const report = (stage: string, values: Float32Array): void => onStage?.({ stage, values });
  const tokens = grid[0] * grid[1] * grid[2];

  /** `module`'s Linear (`{module}.weight` [out, in], `{module}.bias`) on `rows` rows of `input`. */
  const dense = (o: { input: Float32Array; rows: number; module: string }): Float32Array => {
    const bias = weight(`${o.module}.bias`);
    return linear({ input: o.input, rows: o.rows, inFeatures: o.input.length / o.rows, outFeatures: bias.length, weight: weight(`${o.module}.weight`), bias });
  };

  const x = patchEmbedding({ latents, latentShape, patchSize, weight: weight('patch_embedding.weight'), bias: weight('patch_embedding.bias'), dim });
  report('patch_embedding', x.slice());

  // e = time_embedding(sinusoid(t)) = Linear(SiLU(Linear(.))); e0 = time_projection(e) = Linear(SiLU(e)); fp32 (1.6, 1.7)
  const sinusoid = timestepSinusoid({ timestep, freqDim });
  report('sinusoid', sinusoid);
  const hiddenTime = silu({ input: dense({ input: sinusoid, rows: 1, module: 'time_embedding.0' }) });
  const e = dense({ input: hiddenTime, rows: 1, module: 'time_embedding.2' });
  report('time_embedding', e);
  const e0 = dense({ input: silu({ input: e }), rows: 1, module: 'time_projection.1' });
  report('time_projection', e0);

  // The context zero-padded to textLen rows BEFORE the text MLP: padded rows come out W2 gelu(b1) + b2, and every
  // block attends to them (1.6).
  const padded = new Float32Array(textLen * textDim);
  padded.set(context);
  const hiddenText = geluTanh({ input: dense({ input: padded, rows: textLen, module: 'text_embedding.0' }) });
  const ctx = dense({ input: hiddenText, rows: textLen, module: 'text_embedding.2' });
  report('text_embedding', ctx);

  const rope = ropeTable({ headDim: dim / numHeads, grid });
  for (let index = 0; index < numLayers; index++) {
    wanBlockCpu({ x, tokens, config, weights, index, e0, context: ctx, rope });
    report(`blocks.${index}`, x.slice());
  }

  // Head: modulation from the raw time embedding e (1.5), shift first, then scale.
  const headModulation = modulationVectors({ modulation: weight('head.modulation'), embedding: new Float32Array([...e, ...e]) });
  const modulated = modulate({
    normed: layerNorm({ input: x, rows: tokens, width: dim, eps }),
    dim,
    shift: headModulation.subarray(0, dim),
    scale: headModulation.subarray(dim, 2 * dim),
  });
  const head = dense({ input: modulated, rows: tokens, module: 'head.head' });
  report('head', head);

  const output = unpatchify({ tokens: head, grid, patchSize, outDim });
  report('output', output);
  return output;
}
