/** sqrt(2 / pi), the constant of the tanh approximation of GELU. */
const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);
/** The cubic coefficient of the tanh approximation of GELU (Hendrycks & Gimpel). */
const GELU_CUBIC = 0.044715;

/** `GELU(approximate='tanh')` of every value, in float64, rounded to float32 (the text MLP and the FFN, 1.1). */
export function geluTanh(options: { input: Float32Array }): Float32Array {
  const { input } = options;
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const x = input[i] as number;
    out[i] = 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + GELU_CUBIC * x * x * x)));
  }
  return out;
}

/** `SiLU(x) = x * sigmoid(x)` of every value, in float64, rounded to float32 (the time MLPs, 1.1). */
export function silu(options: { input: Float32Array }): Float32Array {
  const { input } = options;
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const x = input[i] as number;
    out[i] = x / (1 + Math.exp(-x));
  }
  return out;
}
