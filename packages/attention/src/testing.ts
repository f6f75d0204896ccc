/**
 * Test helpers (`@fpsattn/attention/testing`): a brute-force float64 attention on raster-order inputs with the same
 * fake quantization of Q, K and V as the op, and error statistics. They share no code with the op's path: no token
 * order, no padding, no block lists, no group maps; masks come from tiling's token-level brute force and groups from
 * each token's tile coordinates.
 */
import { computeScale, decodeFp8, encodeFp8, errorStats, float32ToBf16Bits, reciprocalScale } from '@fpsattn/fp8';
import { channelMeanCpu } from '@fpsattn/kernels';
import { seededRandom } from '@fpsattn/kernels/testing';
import type { AttentionPlan } from '@fpsattn/scheduler';
import { type Size3, toDims3, toGridDims } from '@fpsattn/tiling';
import { bruteForceTileId, bruteForceTokenMask } from '@fpsattn/tiling/testing';

export interface RasterAttentionReferenceOptions {
  /** BF16 bit patterns [batch, tokens, heads * headDim], raster order. */
  q: Uint16Array;
  k: Uint16Array;
  v: Uint16Array;
  batch: number;
  grid: Size3;
  headDim: number;
  plan?: AttentionPlan;
  plans?: readonly AttentionPlan[];
  softmaxScale?: number;
  kSmoothing?: boolean;
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);
const bf16 = (bits: number) => {
  u32[0] = bits << 16;
  return f32[0] as number;
};

/** The unit of a token's scale: 0 ('tensor'), the token ('token'), its tile id ('tile'). */
function unitOf(plan: AttentionPlan, grid: ReturnType<typeof toGridDims>, token: number): number {
  if (plan.mode !== 'fp8-dense' && plan.mode !== 'fp8-sparse') return 0;
  const g = plan.granularity;
  if (g.kind === 'tensor') return 0;
  if (g.kind === 'token') return token;
  return bruteForceTileId({ grid, tile: toDims3(g.tile), token });
}

/**
 * Fake-quantizes one head's rows of one batch item: amax over finite values of f32(x - mean) per unit, scale =
 * computeScale(amax), value = decode(encode(f32(x * f32(1 / scale)))) * scale (the @fpsattn/fp8 contract).
 */
function fakeQuantizeHead(values: readonly Float64Array[], units: Int32Array): Float64Array[] {
  const amax = new Map<number, number>();
  values.forEach((row, t) => {
    const u = units[t] as number;
    let m = amax.get(u) ?? 0;
    for (const x of row) {
      const a = Math.abs(x);
      if (a > m && a !== Infinity) m = a;
    }
    amax.set(u, m);
  });
  return values.map((row, t) => {
    const scale = computeScale({ amax: amax.get(units[t] as number) as number, format: 'e4m3' });
    const inv = reciprocalScale(scale);
    return row.map((x) => decodeFp8({ code: encodeFp8({ value: Math.fround(x * inv), format: 'e4m3' }), format: 'e4m3' }) * scale);
  });
}

/**
 * Attention of raster-order BF16 inputs, in float64, with a full softmax per row over the keys the plan's window
 * allows (token-level mask), and, for FP8 plans, Q, K (per the plan's granularity, after K smoothing) and V (per
 * channel) fake-quantized exactly as the op quantizes them. P is not quantized (the op's P quantization is what the
 * comparison's tolerance covers). Returns [batch, tokens, heads * headDim].
 */
export function rasterAttentionReference(o: RasterAttentionReferenceOptions): Float64Array {
  const grid = toGridDims(o.grid);
  const n = grid.frames * grid.height * grid.width;
  const D = o.headDim;
  const cols = o.q.length / (o.batch * n);
  const heads = cols / D;
  const plans = o.plans ?? Array.from({ length: heads }, () => o.plan as AttentionPlan);
  const scale = o.softmaxScale ?? 1 / Math.sqrt(D);
  const out = new Float64Array(o.batch * n * cols);
  const masks = new Map<string, Uint8Array | null>();
  const maskOf = (plan: AttentionPlan): Uint8Array | null => {
    if (plan.mode !== 'sparse-bf16' && plan.mode !== 'fp8-sparse') return null;
    const key = JSON.stringify(plan.sparsity);
    if (!masks.has(key)) masks.set(key, bruteForceTokenMask({ grid, tile: toDims3(plan.sparsity.tile), window: plan.sparsity.window }));
    return masks.get(key) as Uint8Array;
  };
  for (let b = 0; b < o.batch; b++) {
    const base = b * n * cols;
    const mean = o.kSmoothing ? channelMeanCpu(o.k.subarray(base, base + n * cols), n, cols) : null;
    for (let h = 0; h < heads; h++) {
      const plan = plans[h] as AttentionPlan;
      const fp8 = plan.mode === 'fp8-dense' || plan.mode === 'fp8-sparse';
      const rows = (x: Uint16Array, smooth: Float32Array | null) =>
        Array.from({ length: n }, (_, t) =>
          Float64Array.from({ length: D }, (_, c) => {
            const value = bf16(x[base + t * cols + h * D + c] as number);
            return smooth ? Math.fround(value - (smooth[h * D + c] as number)) : value;
          }),
        );
      let q: Float64Array[] = rows(o.q, null);
      let k: Float64Array[] = rows(o.k, fp8 ? mean : null);
      let v: Float64Array[] = rows(o.v, null);
      if (fp8) {
        const units = Int32Array.from({ length: n }, (_, t) => unitOf(plan, grid, t));
        q = fakeQuantizeHead(q, units);
        k = fakeQuantizeHead(k, units);
        // V: one scale per channel over the batch item's tokens.
        const vt = Array.from({ length: D }, (_, c) => Float64Array.from(v, (row) => row[c] as number));
        const vq = fakeQuantizeHead(vt, new Int32Array(D).map((_, c) => c));
        v = v.map((row, t) => row.map((_, c) => (vq[c] as Float64Array)[t] as number));
      }
      const mask = maskOf(plan);
      const s = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        let max = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < n; j++) {
          if (mask && !mask[i * n + j]) {
            s[j] = Number.NEGATIVE_INFINITY;
            continue;
          }
          let dot = 0;
          for (let c = 0; c < D; c++) dot += (q[i] as Float64Array)[c]! * (k[j] as Float64Array)[c]!;
          s[j] = dot * scale;
          if (s[j]! > max) max = s[j]!;
        }
        let sum = 0;
        const acc = new Float64Array(D);
        for (let j = 0; j < n; j++) {
          if (s[j] === Number.NEGATIVE_INFINITY) continue;
          const p = Math.exp(s[j]! - max);
          sum += p;
          for (let c = 0; c < D; c++) acc[c]! += p * (v[j] as Float64Array)[c]!;
        }
        for (let c = 0; c < D; c++) out[base + i * cols + h * D + c] = sum > 0 ? acc[c]! / sum : 0;
      }
    }
  }
  return out;
}

export interface AttentionErrorStats {
  maxAbs: number;
  /** ||actual - expected|| / ||expected|| over all elements. */
  relL2: number;
  cosine: number;
}

/** Error of BF16 output bits (or float values) against a float64 reference (@fpsattn/fp8 errorStats: any NaN or
 * infinity makes every statistic NaN, so it never passes a bound). */
export function attentionErrorStats(actual: Uint16Array | Float64Array, expected: Float64Array): AttentionErrorStats {
  const approx = actual instanceof Uint16Array ? Float64Array.from(actual, bf16) : actual;
  const s = errorStats({ reference: expected, approx });
  return { maxAbs: s.maxAbsError, relL2: s.relativeL2, cosine: s.cosine };
}

/**
 * BF16 inputs for attention tests, [rows, cols] row-major: values of about unit size (sums of three uniforms), so that
 * scores q.k / sqrt(headDim) are O(1) and the softmax is soft (every key of a window matters, P's quantization shows,
 * a wrong mask or scale cannot hide behind a one-hot row). `kLike`: a per-channel offset of up to 3 (what K smoothing
 * removes) and every 37th channel (from 5) 20-50x larger (outliers).
 */
export function unitBf16(options: { length: number; seed: number; cols: number; kLike?: boolean }): Uint16Array {
  const { length, seed, cols } = options;
  const rnd = seededRandom(seed);
  const offset = Float64Array.from({ length: cols }, () => (options.kLike ? 3 * (rnd() * 2 - 1) : 0));
  const gain = Float64Array.from({ length: cols }, (_, c) => (options.kLike && c % 37 === 5 ? 20 + 30 * rnd() : 1));
  return Uint16Array.from({ length }, (_, i) => {
    const c = i % cols;
    const x = (rnd() + rnd() + rnd() - 1.5) * 2;
    return float32ToBf16Bits(x * (gain[c] as number) + (offset[c] as number));
  });
}
