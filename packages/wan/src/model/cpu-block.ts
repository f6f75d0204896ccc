/**
 * One `WanAttentionBlock` on the CPU, in the exact order of wan21-architecture.md 1.4 (reference `model.py:278-317`):
 * ```
 * shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = modulation + e0        # fp32, this order
 * h = LN1(x) * (1 + scale_msa) + shift_msa                                                # LN1 non-affine
 * q = RMS_q(Wq h + bq), k = RMS_k(Wk h + bk), v = Wv h + bv                               # RMS over all of dim
 * x = x + (Wo attn(RoPE(q), RoPE(k), v) + bo) * gate_msa
 * h = LN3(x)                                                                              # norm3: affine, no modulation
 * q = RMS_q(Wq h + bq), k = RMS_k(Wk ctx + bk), v = Wv ctx + bv                           # no RoPE
 * x = x + (Wo attn(q, k, v) + bo)                                                         # no gate
 * h = LN2(x) * (1 + scale_mlp) + shift_mlp                                                # norm2: non-affine
 * x = x + (W2 gelu_tanh(W1 h + b1) + b2) * gate_mlp
 * ```
 */
import { geluTanh } from './activations';
import { denseAttention } from './attention';
import type { WanConfig } from './config';
import { linear } from './linear';
import { gatedResidual, modulate, modulationVectors } from './modulation';
import { layerNorm, rmsNorm } from './norms';
import { type RopeTable, applyRope } from './rope';
import type { WanWeights } from './types';

export interface WanBlockCpuOptions {
  /** The residual stream [tokens, dim]; updated in place and returned. */
  x: Float32Array;
  tokens: number;
  config: WanConfig;
  weights: WanWeights;
  /** The block's index i (its tensors are `blocks.{i}.*`). */
  index: number;
  /** `time_projection(SiLU(e))`, [6 * dim], shared by all blocks. */
  e0: Float32Array;
  /** The text embedding of the padded context, [textLen, dim]. */
  context: Float32Array;
  /** The RoPE angles of the token grid. */
  rope: RopeTable;
}

export function wanBlockCpu(options: WanBlockCpuOptions): Float32Array {
  const { x, tokens, config, weights, index, e0, context, rope } = options;
  const { dim, ffnDim, numHeads, textLen, eps } = config;
  const headDim = dim / numHeads;
  const weight = (suffix: string): Float32Array => weights.get(`blocks.${index}.${suffix}`) as Float32Array;
  const project = (o: { input: Float32Array; rows: number; module: string; outFeatures?: number }): Float32Array =>
    linear({
      input: o.input,
      rows: o.rows,
      inFeatures: o.input.length / o.rows,
      outFeatures: o.outFeatures ?? dim,
      weight: weight(`${o.module}.weight`),
      bias: weight(`${o.module}.bias`),
    });
  /** `RMS_q(Wq h + bq)` (or k): the RMSNorm over all of dim, before the split into heads (1.1). */
  const projectNormed = (o: { input: Float32Array; rows: number; attention: string; which: 'q' | 'k' }): Float32Array =>
    rmsNorm({
      input: project({ input: o.input, rows: o.rows, module: `${o.attention}.${o.which}` }),
      rows: o.rows,
      width: dim,
      eps,
      weight: weight(`${o.attention}.norm_${o.which}.weight`),
    });

  const e = modulationVectors({ modulation: weight('modulation'), embedding: e0 });
  const [shiftMsa, scaleMsa, gateMsa, shiftMlp, scaleMlp, gateMlp] = [0, 1, 2, 3, 4, 5].map((k) => e.subarray(k * dim, (k + 1) * dim)) as [
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
    Float32Array,
  ];

  // 1) self-attention
  let h = modulate({ normed: layerNorm({ input: x, rows: tokens, width: dim, eps }), dim, shift: shiftMsa, scale: scaleMsa });
  const q = applyRope({ x: projectNormed({ input: h, rows: tokens, attention: 'self_attn', which: 'q' }), numHeads, table: rope });
  const k = applyRope({ x: projectNormed({ input: h, rows: tokens, attention: 'self_attn', which: 'k' }), numHeads, table: rope });
  const v = project({ input: h, rows: tokens, module: 'self_attn.v' });
  const selfAttention = denseAttention({ q, k, v, queries: tokens, keys: tokens, numHeads, headDim });
  gatedResidual({ x, y: project({ input: selfAttention, rows: tokens, module: 'self_attn.o' }), dim, gate: gateMsa });

  // 2) cross-attention: affine norm3, no modulation, no gate, every one of the textLen context rows a key (1.6)
  h = layerNorm({ input: x, rows: tokens, width: dim, eps, affine: { weight: weight('norm3.weight'), bias: weight('norm3.bias') } });
  const cq = projectNormed({ input: h, rows: tokens, attention: 'cross_attn', which: 'q' });
  const ck = projectNormed({ input: context, rows: textLen, attention: 'cross_attn', which: 'k' });
  const cv = project({ input: context, rows: textLen, module: 'cross_attn.v' });
  const crossAttention = denseAttention({ q: cq, k: ck, v: cv, queries: tokens, keys: textLen, numHeads, headDim });
  gatedResidual({ x, y: project({ input: crossAttention, rows: tokens, module: 'cross_attn.o' }), dim });

  // 3) FFN: non-affine norm2, modulated, gated
  h = modulate({ normed: layerNorm({ input: x, rows: tokens, width: dim, eps }), dim, shift: shiftMlp, scale: scaleMlp });
  const hidden = geluTanh({ input: project({ input: h, rows: tokens, module: 'ffn.0', outFeatures: ffnDim }) });
  gatedResidual({ x, y: project({ input: hidden, rows: tokens, module: 'ffn.2' }), dim, gate: gateMlp });
  return x;
}
