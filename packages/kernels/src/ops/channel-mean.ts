// channelMean: the deterministic per-channel mean of K (K smoothing), native op channelMean, kernel
// native/src/kernels/channel_mean.cu. Bit-exact on both backends by its fixed summation order.
import { ShapeMismatchError } from '@fpsattn/fp8';
import { defineOp } from '../core/define-op';
import { defineNativeOp } from '../core/native-op';
import type { Tensor } from '../core/tensor';
import { hostView } from '../cpu/host-storage';
import { MAX_TOKEN_ROWS, backendOf, expectDType, matrixOf, withOutputs } from './_checks';

export const CHANNEL_MEAN = defineNativeOp({
  name: 'channelMean',
  fields: { x: 'tensor', mean: 'tensor', rows: 'int', cols: 'int' },
  result: null,
});

/** Rows per chunk of the deterministic channel-mean reduction (kMeanRowsPerChunk in native/src/kernels/channel_mean.h). */
export const MEAN_ROWS_PER_CHUNK = 64;
/** Chunks per group of the same reduction (kMeanChunksPerGroup in native/src/kernels/channel_mean.h). */
export const MEAN_CHUNKS_PER_GROUP = 8;
/** Lanes of the final level of the reduction (a warp in channel_mean.cu). */
const MEAN_LANES = 32;

export interface ChannelMeanOptions {
  /** BF16 [rows, cols], cols a multiple of 8. */
  x: Tensor<'bf16'>;
  name?: string;
}

/**
 * Per-channel mean of BF16 [rows, cols] in the kernel's fixed order, rounded once to float32 (bit-exact with
 * channel_mean.cu): rows are summed in float32 in chunks of MEAN_ROWS_PER_CHUNK; chunk sums in float64 in groups of
 * MEAN_CHUNKS_PER_GROUP; group g goes to lane g % 32, each lane adding its groups in order; the 32 lane sums meet in a
 * butterfly (offsets 16, 8, 4, 2, 1), as the kernel's warp shuffles do. Every sum starts from zero.
 */
export function channelMeanCpu(x: Uint16Array, rows: number, cols: number, out: Float32Array = new Float32Array(cols)): Float32Array {
  if (rows === 0 || cols === 0) return out.fill(0);
  const lanes = Array.from({ length: MEAN_LANES }, () => new Float64Array(cols));
  const group = new Float64Array(cols);
  const chunk = new Float32Array(cols); // float32: every add rounds once, like __fadd_rn
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const groupRows = MEAN_ROWS_PER_CHUNK * MEAN_CHUNKS_PER_GROUP;
  // Stryker disable next-line EqualityOperator: with rows a multiple of the group size, one more group of no rows adds +0
  for (let g0 = 0, g = 0; g0 < rows; g0 += groupRows, g++) {
    group.fill(0);
    for (let r0 = g0; r0 < Math.min(rows, g0 + groupRows); r0 += MEAN_ROWS_PER_CHUNK) {
      chunk.fill(0);
      for (let r = r0; r < Math.min(rows, r0 + MEAN_ROWS_PER_CHUNK); r++) {
        const base = r * cols;
        // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
        for (let c = 0; c < cols; c++) {
          u32[0] = (x[base + c] as number) << 16;
          chunk[c] = (chunk[c] as number) + (f32[0] as number); // double sum of two float32s, rounded on store
        }
      }
      // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
      for (let c = 0; c < cols; c++) group[c] = (group[c] as number) + (chunk[c] as number);
    }
    const lane = lanes[g % MEAN_LANES] as Float64Array;
    // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
    for (let c = 0; c < cols; c++) lane[c] = (lane[c] as number) + (group[c] as number);
  }
  for (let offset = MEAN_LANES / 2; offset > 0; offset >>= 1) {
    for (let i = 0; i < offset; i++) {
      const a = lanes[i] as Float64Array;
      const b = lanes[i + offset] as Float64Array;
      // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
      for (let c = 0; c < cols; c++) a[c] = (a[c] as number) + (b[c] as number);
    }
  }
  const total = lanes[0] as Float64Array;
  // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
  for (let c = 0; c < cols; c++) out[c] = Math.fround((total[c] as number) / rows);
  return out;
}

/** Per-channel mean over the rows of a BF16 [rows, cols] tensor (K smoothing): float32 [cols], deterministic. */
export const channelMean = defineOp(
  { name: 'channelMean', exactness: 'bit-exact', native: CHANNEL_MEAN },
  function channelMean(o: ChannelMeanOptions): Tensor<'f32'> {
    const op = 'channelMean';
    const be = backendOf(o.x, 'x', op);
    const { x } = o;
    expectDType(x, 'x', ['bf16']);
    const { rows, cols } = matrixOf(x, 'x');
    if (cols % 8 !== 0) throw new ShapeMismatchError({ tensor: 'x', expected: 'a multiple of 8 columns', actual: `${cols} columns` });
    if (rows > MAX_TOKEN_ROWS) throw new ShapeMismatchError({ tensor: 'x', expected: `at most ${MAX_TOKEN_ROWS} rows`, actual: `${rows} rows` });
    return withOutputs(be, (outputs) => {
      const mean = outputs.empty([cols], 'f32', o.name ?? `${x.name}.mean`);
      be.dispatch(op, {
        cpu: () => void channelMeanCpu(hostView(x), rows, cols, hostView(mean)),
        cuda: (device) => device.call(CHANNEL_MEAN, { x: device.ref(x), mean: device.ref(mean), rows, cols }),
      });
      return mean;
    });
  },
);
