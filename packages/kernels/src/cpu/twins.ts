/**
 * CPU twins of the CUDA kernels: plain functions on typed arrays with the kernels' exact semantics (same layouts,
 * same float32 arithmetic, same FP8 rounding through @fpsattn/fp8). The CPU backend runs them; the GPU suite compares
 * the kernels against them bit for bit.
 */
import { type Fp8Format, computeScale, decodeFp8Array, encodeFp8Array, reciprocalScale } from '@fpsattn/fp8';

/** Rows per chunk of the deterministic channel-mean reduction (kMeanRowsPerChunk in native/src/common/params.h). */
export const MEAN_ROWS_PER_CHUNK = 64;
/** Chunks per group of the same reduction (kMeanChunksPerGroup in native/src/common/params.h). */
export const MEAN_CHUNKS_PER_GROUP = 8;

/** BF16 bit patterns widened exactly to float32. */
export function bf16BitsToFloat32Array(bits: Uint16Array, out: Float32Array = new Float32Array(bits.length)): Float32Array {
  const u32 = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) u32[i] = (bits[i] as number) << 16;
  return out;
}

type RowArray = Uint8Array | Uint16Array | Int32Array | Float32Array;

/** gather: dst[i] = src[map[i]] (a zero row where map[i] is -1 or out of range). `rowElems` elements per row. */
export function gatherRowsCpu<T extends RowArray>(src: T, rowElems: number, map: Int32Array, dst: T): T {
  const srcRows = src.length / rowElems;
  for (let i = 0; i < map.length; i++) {
    const s = map[i] as number;
    const to = i * rowElems;
    if (s >= 0 && s < srcRows) dst.set(src.subarray(s * rowElems, (s + 1) * rowElems), to);
    else dst.fill(0, to, to + rowElems);
  }
  return dst;
}

/** scatter: dst[map[i]] = src[i] for map[i] in range; other dst rows keep their contents. */
export function scatterRowsCpu<T extends RowArray>(src: T, rowElems: number, map: Int32Array, dst: T): T {
  const dstRows = dst.length / rowElems;
  for (let i = 0; i < map.length; i++) {
    const d = map[i] as number;
    if (d >= 0 && d < dstRows) dst.set(src.subarray(i * rowElems, (i + 1) * rowElems), d * rowElems);
  }
  return dst;
}

/** Lanes of the final level of the channel-mean reduction (a warp in channel_mean.cu). */
const MEAN_LANES = 32;

/**
 * Per-channel mean of BF16 [rows, cols] in the kernel's fixed order, rounded once to float32 (bit-exact with
 * channel_mean.cu): rows are summed in float32 in chunks of MEAN_ROWS_PER_CHUNK; chunk sums in float64 in groups of
 * MEAN_CHUNKS_PER_GROUP; group g goes to lane g % 32, each lane adding its groups in order; the 32 lane sums meet in a
 * butterfly (offsets 16, 8, 4, 2, 1), as the kernel's warp shuffles do. Every sum starts from zero.
 */
export function channelMeanCpu(x: Uint16Array, rows: number, cols: number, out: Float32Array = new Float32Array(cols)): Float32Array {
  if (rows === 0) return out.fill(0);
  const lanes = Array.from({ length: MEAN_LANES }, () => new Float64Array(cols));
  const group = new Float64Array(cols);
  const chunk = new Float32Array(cols); // float32: every add rounds once, like __fadd_rn
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const groupRows = MEAN_ROWS_PER_CHUNK * MEAN_CHUNKS_PER_GROUP;
  for (let g0 = 0, g = 0; g0 < rows; g0 += groupRows, g++) {
    group.fill(0);
    for (let r0 = g0; r0 < Math.min(rows, g0 + groupRows); r0 += MEAN_ROWS_PER_CHUNK) {
      chunk.fill(0);
      for (let r = r0; r < Math.min(rows, r0 + MEAN_ROWS_PER_CHUNK); r++) {
        const base = r * cols;
        for (let c = 0; c < cols; c++) {
          u32[0] = (x[base + c] as number) << 16;
          chunk[c] = (chunk[c] as number) + (f32[0] as number); // double sum of two float32s, rounded on store
        }
      }
      for (let c = 0; c < cols; c++) group[c] = (group[c] as number) + (chunk[c] as number);
    }
    const lane = lanes[g % MEAN_LANES] as Float64Array;
    for (let c = 0; c < cols; c++) lane[c] = (lane[c] as number) + (group[c] as number);
  }
  for (let offset = MEAN_LANES / 2; offset > 0; offset >>= 1) {
    for (let i = 0; i < offset; i++) {
      const a = lanes[i] as Float64Array;
      const b = lanes[i + offset] as Float64Array;
      for (let c = 0; c < cols; c++) a[c] = (a[c] as number) + (b[c] as number);
    }
  }
  const total = lanes[0] as Float64Array;
  for (let c = 0; c < cols; c++) out[c] = Math.fround((total[c] as number) / rows);
  return out;
}

export interface QuantizeRowsCpuOptions {
  /** BF16 bit patterns [rows, cols]. */
  x: Uint16Array;
  rows: number;
  cols: number;
  headDim: number;
  groupOfRow: Int32Array;
  groupCount: number;
  format: Fp8Format;
  /** K smoothing: float32 [cols] subtracted (in float32) before quantization. */
  mean?: Float32Array | undefined;
  codes?: Uint8Array;
  scales?: Float32Array;
}

/** Smoothed float32 values of one BF16 row: x (widened) or float32(x - mean). */
function rowValues(x: Uint16Array, r: number, cols: number, mean: Float32Array | undefined, out: Float32Array): Float32Array {
  bf16BitsToFloat32Array(x.subarray(r * cols, (r + 1) * cols), out);
  if (mean) for (let c = 0; c < cols; c++) out[c] = (out[c] as number) - (mean[c] as number); // stored as float32
  return out;
}

/**
 * Q/K quantization twin: codes [rows, cols] and scales [groupCount, heads], one scale per (group, head):
 * amax over finite values, scale = computeScale(amax), code = encodeFp8(float32(x * reciprocalScale(scale))) saturating.
 */
export function quantizeRowsCpu(o: QuantizeRowsCpuOptions): { codes: Uint8Array; scales: Float32Array } {
  const { x, rows, cols, headDim, groupOfRow, groupCount, format, mean } = o;
  const heads = cols / headDim;
  const amax = new Float32Array(groupCount * heads);
  const row = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    rowValues(x, r, cols, mean, row);
    const base = (groupOfRow[r] as number) * heads;
    for (let h = 0; h < heads; h++) {
      let m = amax[base + h] as number;
      for (let c = h * headDim, end = c + headDim; c < end; c++) {
        const a = Math.abs(row[c] as number);
        if (a > m && a !== Infinity) m = a; // NaN fails the comparison
      }
      amax[base + h] = m;
    }
  }
  const scales = o.scales ?? new Float32Array(groupCount * heads);
  for (let i = 0; i < amax.length; i++) scales[i] = computeScale(amax[i] as number, format);
  const codes = o.codes ?? new Uint8Array(rows * cols);
  const scaled = new Float32Array(cols);
  const inverses = scales.map(reciprocalScale);
  for (let r = 0; r < rows; r++) {
    rowValues(x, r, cols, mean, row);
    const base = (groupOfRow[r] as number) * heads;
    for (let h = 0; h < heads; h++) {
      const inv = inverses[base + h] as number;
      for (let c = h * headDim, end = c + headDim; c < end; c++) scaled[c] = (row[c] as number) * inv;
    }
    encodeFp8Array(scaled, format, { saturate: true, out: codes.subarray(r * cols, (r + 1) * cols) });
  }
  return { codes, scales };
}

export interface QuantizeVCpuOptions {
  /** BF16 bit patterns [rows, cols]. */
  v: Uint16Array;
  rows: number;
  cols: number;
  tokenStride: number;
  format: Fp8Format;
  /** Per-channel amax computed elsewhere (the gather); omitted: computed here. */
  amax?: Float32Array | undefined;
  codesT?: Uint8Array;
  scales?: Float32Array;
}

/** Per-channel max |x| over the finite values of BF16 [rows, cols] (0 for a channel with none), as float32. */
export function channelAmaxCpu(x: Uint16Array, rows: number, cols: number, out: Float32Array = new Float32Array(cols)): Float32Array {
  out.fill(0);
  const row = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    bf16BitsToFloat32Array(x.subarray(r * cols, (r + 1) * cols), row);
    for (let c = 0; c < cols; c++) {
      const a = Math.abs(row[c] as number);
      if (a > (out[c] as number) && a !== Infinity) out[c] = a; // NaN fails the comparison
    }
  }
  return out;
}

/** The scale of a handed-in amax: the contract's scale for a positive finite amax, else 1 (as scaleFromAmax). */
function scaleOfGivenAmax(amax: number, format: Fp8Format): number {
  return amax > 0 && amax <= 3.4028234663852886e38 ? computeScale(amax, format) : 1;
}

/**
 * V quantization twin: scales [cols] (per channel over all rows, or from a handed-in `amax`), codesT [cols,
 * tokenStride] transposed, 0-padded.
 */
export function quantizeVCpu(o: QuantizeVCpuOptions): { codesT: Uint8Array; scales: Float32Array } {
  const { v, rows, cols, tokenStride, format } = o;
  const amax = o.amax ?? channelAmaxCpu(v, rows, cols);
  const row = new Float32Array(cols);
  const scales = o.scales ?? new Float32Array(cols);
  for (let c = 0; c < cols; c++) scales[c] = scaleOfGivenAmax(amax[c] as number, format);
  const codesT = o.codesT ?? new Uint8Array(cols * tokenStride);
  const inverses = scales.map(reciprocalScale);
  const scaled = new Float32Array(cols);
  const codes = new Uint8Array(cols);
  for (let r = 0; r < rows; r++) {
    bf16BitsToFloat32Array(v.subarray(r * cols, (r + 1) * cols), row);
    for (let c = 0; c < cols; c++) scaled[c] = (row[c] as number) * (inverses[c] as number);
    encodeFp8Array(scaled, format, { saturate: true, out: codes });
    for (let c = 0; c < cols; c++) codesT[c * tokenStride + r] = codes[c] as number;
  }
  for (let c = 0; c < cols; c++) codesT.fill(0, c * tokenStride + rows, (c + 1) * tokenStride);
  return { codesT, scales };
}

/** out[r][c] = float32(decode(codes[r][c]) * scales[groupOfRow[r]][c / headDim]). */
export function dequantizeRowsCpu(o: {
  codes: Uint8Array;
  scales: Float32Array;
  groupOfRow: Int32Array;
  rows: number;
  cols: number;
  headDim: number;
  format: Fp8Format;
  out?: Float32Array;
}): Float32Array {
  const { codes, scales, groupOfRow, rows, cols, headDim, format } = o;
  const heads = cols / headDim;
  const out = decodeFp8Array(codes.subarray(0, rows * cols), format, o.out);
  for (let r = 0; r < rows; r++) {
    const base = (groupOfRow[r] as number) * heads;
    for (let c = 0; c < cols; c++) {
      const i = r * cols + c;
      out[i] = (out[i] as number) * (scales[base + Math.floor(c / headDim)] as number);
    }
  }
  return out;
}

/** out[t][c] = float32(decode(codesT[c][t]) * scales[c]) for t < rows (un-transposes). */
export function dequantizeVCpu(o: {
  codesT: Uint8Array;
  scales: Float32Array;
  rows: number;
  cols: number;
  tokenStride: number;
  format: Fp8Format;
  out?: Float32Array;
}): Float32Array {
  const { codesT, scales, rows, cols, tokenStride, format } = o;
  const decoded = decodeFp8Array(codesT, format);
  const out = o.out ?? new Float32Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    const s = scales[c] as number;
    for (let t = 0; t < rows; t++) out[t * cols + c] = (decoded[c * tokenStride + t] as number) * s;
  }
  return out;
}
