import { roundToBfloat16 } from './_bfloat16';
import { allocFloats, roundingOf } from './_floats';
import { linearNoBias } from './_linear';
import type { Umt5Floats, Umt5Precision } from './types';

/** sqrt(2 / pi), the constant of the tanh approximation of GELU. */
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
/** The cubic coefficient of the tanh approximation of GELU (Hendrycks & Gimpel). */
const GELU_CUBIC = 0.044715;

/**
 * The reference's GELU on a bf16 tensor, each of its elementwise ops computed in float32 and rounded to bf16:
 * `0.5 * x * (1.0 + tanh(sqrt(2 / pi) * (x + 0.044715 * pow(x, 3))))`, where PyTorch's bf16 `pow(x, 3)` is
 * `(x * x) * x` with the square rounded to bf16 (checked on 10^5 values with PyTorch 1.13).
 */
function geluTanhPerOp(x: number): number {
  const r = roundToBfloat16;
  const half = r(0.5 * x);
  const inner = r(Math.fround(SQRT_2_OVER_PI) * r(x + r(Math.fround(GELU_CUBIC) * r(r(x * x) * x))));
  return r(half * r(1 + r(Math.tanh(inner))));
}

/**
 * T5's gated-GELU feed-forward (`T5FeedForward`, wan21-architecture.md 6.2), bias-free:
 * `fc2( fc1(x) * gelu_tanh(gate.0(x)) )`, x [rows, dim] -> [rows, dim] through [rows, dimFfn]. Each Linear sums in
 * float64; the GELU and the product are rounded to `precision` (float32: the GELU once; bfloat16: each of its ops).
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
  const gelu = precision === 'bfloat16' ? geluTanhPerOp : (g: number): number => round(0.5 * g * (1 + Math.tanh(SQRT_2_OVER_PI * (g + GELU_CUBIC * g * g * g))));
  const hidden = allocFloats(precision, rows * dimFfn);
  for (let i = 0; i < hidden.length; i++) hidden[i] = round((up[i] as number) * gelu(gate[i] as number));
  return linearNoBias({ input: hidden, rows, inFeatures: dimFfn, outFeatures: dim, weight: options.fc2, precision });
}
