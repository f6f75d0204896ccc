// Test helpers shared by the vitest suite, the GPU suite (gpu-test/) and the benchmark: seeded random BF16 data that
// is never zero, and hand-built tile maps (independent of @fpsattn/tiling, so the GPU machine needs only dist/).
import { float32ToBf16Bits } from '@fpsattn/fp8';

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

/** Tile-major permutation of a (frames, height, width) grid in tiles (tt, th, tw): perm[tileMajor] = raster. */
export function tileMajorPermutation(grid: [number, number, number], tile: [number, number, number]): { perm: Int32Array; tileOfSlot: Int32Array; tileCount: number } {
  const [F, H, W] = grid;
  const [tt, th, tw] = tile;
  const nt = Math.ceil(F / tt), nh = Math.ceil(H / th), nw = Math.ceil(W / tw);
  const perm = new Int32Array(F * H * W);
  const tileOfSlot = new Int32Array(F * H * W);
  let i = 0;
  let u = 0;
  for (let a = 0; a < nt; a++)
    for (let b = 0; b < nh; b++)
      for (let c = 0; c < nw; c++, u++)
        for (let t = a * tt; t < Math.min(F, (a + 1) * tt); t++)
          for (let h = b * th; h < Math.min(H, (b + 1) * th); h++)
            for (let w = c * tw; w < Math.min(W, (c + 1) * tw); w++) {
              perm[i] = (t * H + h) * W + w;
              tileOfSlot[i] = u;
              i++;
            }
  return { perm, tileOfSlot, tileCount: nt * nh * nw };
}

/** Group of each raster token under 3D tiles (a non-contiguous group map: the two-pass kernel's case). */
export function rasterTileGroups(grid: [number, number, number], tile: [number, number, number]): { groupOfRow: Int32Array; groupCount: number } {
  const [F, H, W] = grid;
  const [tt, th, tw] = tile;
  const nh = Math.ceil(H / th), nw = Math.ceil(W / tw);
  const groupOfRow = new Int32Array(F * H * W);
  for (let t = 0; t < F; t++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++)
        groupOfRow[(t * H + h) * W + w] = (Math.floor(t / tt) * nh + Math.floor(h / th)) * nw + Math.floor(w / tw);
  return { groupOfRow, groupCount: Math.ceil(F / tt) * nh * nw };
}

/** Inverse of a permutation (for scatter back to raster order). */
export function invertPermutation(perm: Int32Array): Int32Array {
  const inv = new Int32Array(perm.length);
  for (let i = 0; i < perm.length; i++) inv[perm[i] as number] = i;
  return inv;
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
