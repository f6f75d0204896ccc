// Test helpers for @fpsattn packages: seeded random tensors and the CUDA golden-vector reader.
export { createRng, randomFloat32, type Rng, type RandomFloat32Options } from './testing/random';
export { readGoldenVectors, GOLDEN_MAGIC, type GoldenVectors } from './testing/golden-vectors';
