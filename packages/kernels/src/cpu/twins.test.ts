import { decodeFp8, dequantize, quantize } from '@fpsattn/fp8';
import { createTileLayout, createTilePermutation } from '@fpsattn/tiling';
import { describe, expect, it } from 'vitest';
import { bitsEqual, randomBf16, rasterTileGroups, tileMajorPermutation } from '../testing';
import {
  MEAN_CHUNKS_PER_GROUP,
  MEAN_ROWS_PER_CHUNK,
  bf16BitsToFloat32Array,
  channelMeanCpu,
  dequantizeRowsCpu,
  dequantizeVCpu,
  gatherRowsCpu,
  quantizeRowsCpu,
  quantizeVCpu,
  scatterRowsCpu,
} from './twins';

const ROWS = 600; // grid 3 x 10 x 20
const HEAD_DIM = 128;
const COLS = 2 * HEAD_DIM;
const GRID: [number, number, number] = [3, 10, 20];

describe('gather/scatter twins', () => {
  it('gather follows the map, zero rows for padding, scatter inverts it', () => {
    const x = randomBf16(ROWS * COLS, 1, { cols: COLS });
    const { perm } = tileMajorPermutation(GRID, [3, 5, 8]);
    const map = new Int32Array(perm.length + 8).fill(-1);
    map.set(perm);
    const g = gatherRowsCpu(x, COLS, map, new Uint16Array(map.length * COLS).fill(0xabab));
    for (let i = 0; i < map.length; i++) {
      const src = map[i] as number;
      for (const c of [0, 77, COLS - 1]) expect(g[i * COLS + c]).toBe(src < 0 ? 0 : x[src * COLS + c]);
    }
    const back = scatterRowsCpu(g, COLS, map, new Uint16Array(ROWS * COLS));
    expect(bitsEqual(back, x)).toBe(-1);
  });

  it('the hand-built tile-major permutation equals @fpsattn/tiling', () => {
    for (const tile of [[3, 5, 8], [2, 4, 6], [6, 8, 8]] as [number, number, number][]) {
      const ours = tileMajorPermutation(GRID, tile);
      const theirs = createTilePermutation(createTileLayout({ grid: { frames: GRID[0], height: GRID[1], width: GRID[2] }, tile }));
      expect(Array.from(ours.perm)).toEqual(Array.from(theirs.forward));
    }
  });
});

describe('channel mean twin', () => {
  it('is within the recursive-summation error bound of an independent float64 mean', () => {
    const rows = 2 * MEAN_ROWS_PER_CHUNK * MEAN_CHUNKS_PER_GROUP + 5 * MEAN_ROWS_PER_CHUNK + 17; // 2 groups, a partial group, a partial chunk
    const x = randomBf16(rows * COLS, 2, { cols: COLS, offset: 3 });
    const mean = channelMeanCpu(x, rows, COLS);
    const f = bf16BitsToFloat32Array(x);
    const u = 2 ** -24; // float32 unit roundoff
    for (let c = 0; c < COLS; c++) {
      let s = 0;
      let sAbs = 0;
      for (let r = 0; r < rows; r++) {
        s += f[r * COLS + c] as number;
        sAbs += Math.abs(f[r * COLS + c] as number);
      }
      const ref = s / rows;
      // float32 sums of MEAN_ROWS_PER_CHUNK terms err by at most (n - 1) u sum|x| (Higham, recursive summation);
      // the float64 levels add nothing visible; the final rounding to float32 adds u |mean|.
      const bound = ((MEAN_ROWS_PER_CHUNK - 1) * u * sAbs) / rows + u * Math.abs(ref);
      expect(Math.abs((mean[c] as number) - ref)).toBeLessThanOrEqual(bound);
    }
    expect(Array.from(channelMeanCpu(x, 0, COLS))).toEqual(new Array(COLS).fill(0));
  });
});

describe('Q/K quantization twin is bit-exact with @fpsattn/fp8 quantize', () => {
  const x = randomBf16(ROWS * COLS, 3, { cols: COLS, offset: 1 });
  const f = bf16BitsToFloat32Array(x);
  const cases: [string, Int32Array, number][] = [
    ['per-tensor', new Int32Array(ROWS), 1],
    ['per-token', Int32Array.from({ length: ROWS }, (_, i) => i), ROWS],
    ['raster 3D tiles', rasterTileGroups(GRID, [3, 5, 8]).groupOfRow, rasterTileGroups(GRID, [3, 5, 8]).groupCount],
  ];
  for (const format of ['e4m3', 'e5m2'] as const) {
    for (const [label, groupOfRow, groupCount] of cases) {
      it(`${label}, ${format}`, () => {
        const twin = quantizeRowsCpu({ x, rows: ROWS, cols: COLS, headDim: HEAD_DIM, groupOfRow, groupCount, format });
        const ref = quantize({ data: f, rows: ROWS, cols: COLS, format, granularity: { kind: 'group', groupOfRow, groupCount, columnsPerScale: HEAD_DIM } });
        expect(bitsEqual(twin.scales, ref.scales)).toBe(-1);
        expect(bitsEqual(twin.codes, ref.codes)).toBe(-1);
        const deq = dequantizeRowsCpu({ ...twin, groupOfRow, rows: ROWS, cols: COLS, headDim: HEAD_DIM, format });
        expect(bitsEqual(deq, dequantize(ref))).toBe(-1);
      });
    }
  }

  it('K smoothing subtracts the mean in float32 before quantizing (equals fp8 quantize of the smoothed values)', () => {
    const groupOfRow = Int32Array.from({ length: ROWS }, (_, i) => Math.floor(i / 120));
    const mean = channelMeanCpu(x, ROWS, COLS);
    const smoothed = new Float32Array(f.length);
    for (let i = 0; i < f.length; i++) smoothed[i] = (f[i] as number) - (mean[i % COLS] as number);
    const twin = quantizeRowsCpu({ x, rows: ROWS, cols: COLS, headDim: HEAD_DIM, groupOfRow, groupCount: 5, format: 'e4m3', mean });
    const ref = quantize({ data: smoothed, rows: ROWS, cols: COLS, format: 'e4m3', granularity: { kind: 'group', groupOfRow, groupCount: 5, columnsPerScale: HEAD_DIM } });
    expect(bitsEqual(twin.codes, ref.codes)).toBe(-1);
    expect(bitsEqual(twin.scales, ref.scales)).toBe(-1);
  });

  it('special values: NaN -> NaN code, inf saturates and is excluded from amax; tiny groups get the 2^-126 scale floor', () => {
    const bits = new Uint16Array(4 * COLS).fill(0x3f80); // 1.0
    bits[0] = 0x7fc0; // NaN
    bits[1] = 0x7f80; // +inf
    bits[2] = 0xff80; // -inf
    for (let c = 0; c < COLS; c++) bits[3 * COLS + c] = 0x0001; // the smallest bf16 subnormal
    const groupOfRow = Int32Array.from([0, 1, 2, 3]);
    const twin = quantizeRowsCpu({ x: bits, rows: 4, cols: COLS, headDim: HEAD_DIM, groupOfRow, groupCount: 4, format: 'e4m3' });
    expect(twin.codes[0]).toBe(0x7f);
    expect(twin.codes[1]).toBe(0x7e);
    expect(twin.codes[2]).toBe(0xfe);
    expect(twin.codes[3]).toBe(0x7e); // 1.0 with amax 1.0 (inf excluded) -> 448
    expect(twin.scales[0]).toBe(Math.fround(1 / 448));
    expect(twin.scales[6]).toBe(2 ** -126); // amax 2^-133: amax / 448 is below the floor that keeps 1 / scale finite
    expect(twin.codes[3 * COLS]).toBe(0x04); // 2^-133 * 2^126 = 2^-7 = 4 E4M3 subnormal steps
    const ref = quantize({ data: bf16BitsToFloat32Array(bits), rows: 4, cols: COLS, format: 'e4m3', nonFinite: 'ignore', granularity: { kind: 'group', groupOfRow, groupCount: 4, columnsPerScale: HEAD_DIM } });
    expect(bitsEqual(twin.codes, ref.codes)).toBe(-1);
  });
});

describe('V quantization twin', () => {
  it('per-channel scales and transposed codes equal @fpsattn/fp8 channel quantization, padding columns are 0', () => {
    const x = randomBf16(ROWS * COLS, 4, { cols: COLS });
    const tokenStride = 624;
    for (const format of ['e4m3', 'e5m2'] as const) {
      const twin = quantizeVCpu({ v: x, rows: ROWS, cols: COLS, tokenStride, format, codesT: new Uint8Array(COLS * tokenStride).fill(0xab) });
      const ref = quantize({ data: bf16BitsToFloat32Array(x), rows: ROWS, cols: COLS, format, granularity: { kind: 'channel' } });
      expect(bitsEqual(twin.scales, ref.scales)).toBe(-1);
      for (let c = 0; c < COLS; c++) {
        for (let t = 0; t < ROWS; t++) if (twin.codesT[c * tokenStride + t] !== ref.codes[t * COLS + c]) throw new Error(`mismatch at channel ${c}, token ${t}`);
        for (let t = ROWS; t < tokenStride; t++) expect(twin.codesT[c * tokenStride + t]).toBe(0);
      }
      const deq = dequantizeVCpu({ ...twin, rows: ROWS, cols: COLS, tokenStride, format });
      expect(bitsEqual(deq, dequantize(ref))).toBe(-1);
    }
  });

  it('dequantized values are within half an FP8 ulp of the inputs (independent float64 bound)', () => {
    const x = randomBf16(ROWS * COLS, 5, { cols: COLS });
    const f = bf16BitsToFloat32Array(x);
    const { codesT, scales } = quantizeVCpu({ v: x, rows: ROWS, cols: COLS, tokenStride: ROWS, format: 'e4m3' });
    let worst = 0;
    for (let c = 0; c < COLS; c++) {
      const s = scales[c] as number;
      for (let t = 0; t < ROWS; t++) {
        const v = f[t * COLS + c] as number;
        const back = decodeFp8(codesT[c * ROWS + t] as number, 'e4m3') * s;
        // E4M3: 3 mantissa bits -> relative error <= 2^-4 for normals; absolute 2^-10 * s below the normal range.
        const bound = Math.max(Math.abs(v) * 2 ** -4, 2 ** -10 * s) * (1 + 1e-6);
        worst = Math.max(worst, Math.abs(back - v) / bound);
      }
    }
    expect(worst).toBeLessThanOrEqual(1);
  });
});
