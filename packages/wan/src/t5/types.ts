// Types shared by the files of the umT5 text encoder.

// ----- Weights -----

/**
 * The encoder's weights on the host: flat float32 data, row-major, keyed by the names of Wan's `T5Encoder` state
 * dict (`models_t5_umt5-xxl-enc-bf16.pth`, wan21-architecture.md 6.2); shapes follow from the config (keys.ts).
 */
export type Umt5Weights = ReadonlyMap<string, Float32Array>;

// ----- Precision -----

/**
 * How the CPU encoder stores its activations: `float32` (the default: float32 data, float64 sums, the fp32 model the
 * bf16 reference approximates), `float64` (every activation in float64: the math, for tests against a float64
 * oracle) or `bfloat16` (the reference's run, wan21-architecture.md 1.7: weights and every op's result rounded to
 * bf16, in Float32Arrays; sums, softmax and norm statistics wider). Weights are passed as float32 in every mode.
 */
export type Umt5Precision = 'float32' | 'float64' | 'bfloat16';

/** The activation arrays of one precision. */
export type Umt5Floats = Float32Array | Float64Array;
