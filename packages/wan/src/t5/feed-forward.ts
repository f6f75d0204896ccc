import { allocFloats, roundingOf } from './_floats';
import { linearNoBias } from './_linear';
import type { Umt5Floats, Umt5Precision } from './types';

/** sqrt(2 / pi), the constant of the tanh approximation of GELU. */
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
/** The cubic coefficient of the tanh approximation of GELU (Hendrycks & Gimpel). */
const GELU_CUBIC = 0.044715;

/**
 * T5's gated-GELU feed-forward (`T5FeedForward`, wan21-architecture.md 6.2), bias-free:
 * `fc2( fc1(x) * gelu_tanh(gate.0(x)) )`, x [rows, dim] -> [rows, dim] through [rows, dimFfn]. Each Linear sums in
 * float64; the GELU and the product are stored in `precision` (float32: each rounded once, as the reference's ops).
 */
export function t5FeedForward(options: {
  input: Umt5Floats;
  rows: number;
  dim: number;
  dimFfn: number;
  /** `ffn.gate.0.weight` [dimFfn, dim]. */
  gate: Float32Array;
  /** `ffn.fc1.weight` [dimFfn, dim]. */
  fc1: Float32Array;
  /** `ffn.fc2.weight` [dim, dimFfn]. */
  fc2: Float32Array;
  precision: Umt5Precision;
}): Umt5Floats {
  const { input, rows, dim, dimFfn, precision } = options;
  const round = roundingOf(precision);
  const gate = linearNoBias({ input, rows, inFeatures: dim, outFeatures: dimFfn, weight: options.gate, precision });
  const up = linearNoBias({ input, rows, inFeatures: dim, outFeatures: dimFfn, weight: options.fc1, precision });
  const hidden = allocFloats(precision, rows * dimFfn);
  for (let i = 0; i < hidden.length; i++) {
    const g = gate[i] as number;
    const gelu = round(0.5 * g * (1 + Math.tanh(SQRT_2_OVER_PI * (g + GELU_CUBIC * g * g * g))));
    hidden[i] = (up[i] as number) * gelu;
  }
  return linearNoBias({ input: hidden, rows, inFeatures: dimFfn, outFeatures: dim, weight: options.fc2, precision });
}
