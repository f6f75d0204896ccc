// Test helpers shared by the vitest suite, the GPU suites (gpu-test/) and the benchmark: seeded random BF16 data that
// is never zero, group maps from tiling's layouts, bitwise comparison, and the GPU suites' backend-or-skip preamble.
// Tile permutations and padded layouts come from @fpsattn/tiling itself (the tests import it; this entry does not, so
// kernels has no runtime dependency on it).
import { float32ToBf16Bits } from '@fpsattn/fp8';

export { GPU_TEST_ON_CPU_ENV, gpuTestBackend, type GpuTestBackend, type GpuTestBackendOptions } from './gpu-test-backend';

/** mulberry32: small, fast, seeded. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded float32 values, uniform in [-spread, spread) plus offset (rounded to float32 once, as stored). */
export function randomF32(length: number, seed: number, spread = 1, offset = 0): Float32Array {
  const rnd = seededRandom(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = (rnd() * 2 - 1) * spread + offset;
  return out;
}

/**
 * Random BF16 bit patterns, never zero: |x| in [2^-4, 2^4) times a per-column spread factor (so that groups and heads
 * get different scales), random sign; plus an optional per-channel offset (a K-like bias that smoothing removes).
 */
export function randomBf16(length: number, seed: number, options: { cols?: number; offset?: number } = {}): Uint16Array {
  const rnd = seededRandom(seed);
  const cols = options.cols ?? 1;
  const spread = new Float32Array(cols);
  const offset = new Float32Array(cols);
  for (let c = 0; c < cols; c++) {
    spread[c] = 2 ** Math.floor(rnd() * 9 - 4);
    offset[c] = (options.offset ?? 0) * (rnd() * 2 - 1);
  }
  const out = new Uint16Array(length);
  for (let i = 0; i < length; i++) {
    const c = i % cols;
    const mag = 2 ** (rnd() * 8 - 4) * (spread[c] as number);
    let bits = float32ToBf16Bits((rnd() < 0.5 ? -mag : mag) + (offset[c] as number));
    if ((bits & 0x7fff) === 0) bits = 0x3f80; // never zero
    out[i] = bits;
  }
  return out;
}

/**
 * The group of each row when groups are consecutive runs: rows offsets[g] .. offsets[g + 1] - 1 are group g (e.g.
 * tiling's `layout.tileOffsets`: the tile of each tile-major row, a contiguous group map).
 */
export function groupOfRuns(offsets: Int32Array): Int32Array {
  const groupOfRow = new Int32Array(offsets.length === 0 ? 0 : (offsets[offsets.length - 1] as number));
  for (let g = 0; g + 1 < offsets.length; g++) groupOfRow.fill(g, offsets[g], offsets[g + 1]);
  return groupOfRow;
}

/**
 * The group of each row in another order: `out[forward[i]] = groupOfRow[i]` (e.g. the tile of each raster token from
 * the tile-major groups and tiling's `permutation.forward`: a non-contiguous group map, the two-pass kernel's case).
 */
export function groupsInRasterOrder(groupOfRow: Int32Array, forward: Int32Array): Int32Array {
  const out = new Int32Array(forward.length);
  for (let i = 0; i < forward.length; i++) out[forward[i] as number] = groupOfRow[i] as number;
  return out;
}

/** First index where two arrays differ, or -1. */
export function firstMismatch(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !(Number.isNaN(a[i]) && Number.isNaN(b[i]))) return i;
  return -1;
}

/** Bitwise equality of two typed arrays (NaN payloads included). */
export function bitsEqual(a: ArrayBufferView, b: ArrayBufferView): number {
  const x = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  const y = new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  return firstMismatch(x, y);
}
