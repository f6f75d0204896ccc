// Types shared by the files of the Wan2.1 DiT.

// ----- Weights -----

/**
 * The DiT's weights on the host: flat float32 data, row-major, keyed by the original tensor names
 * (wan21-architecture.md 3.2); shapes follow from the config (keys.ts).
 */
export type WanWeights = ReadonlyMap<string, Float32Array>;
