// The attention op benchmark: the composed op (gather -> quantize -> attend -> scatter) against the attention kernel
// alone on prepared inputs of the same geometry, for every mode, per batch size. The floor: the composed call
// within 15% of the kernel alone. Inputs are never zeros (zeros run faster than real data).
import { attention, attentionGeometry } from '@fpsattn/attention';
import { attentionForward, type Backend, type Tensor } from '@fpsattn/kernels';
import { planCost, type AttentionPlan } from '@fpsattn/scheduler';
import type { Dims3 } from '@fpsattn/tiling';
import { timeMs } from './timing';

export const ATTENTION_MODES = ['dense-bf16', 'sparse-bf16', 'fp8-dense', 'fp8-sparse'] as const;
export type AttentionMode = (typeof ATTENTION_MODES)[number];

export interface AttentionBenchRow {
  readonly batch: number;
  readonly mode: AttentionMode;
  readonly dtype: 'bf16' | 'e4m3';
  /** How the kernel takes K's FP8 scales (the composed call's path): per key block or per row; null for BF16. */
  readonly kScales: 'per-block' | 'per-row' | null;
  readonly density: number;
  readonly kernelMs: number;
  readonly composedMs: number;
  /** composed / kernel - 1. */
  readonly overhead: number;
  /** dense-bf16's composed time / this mode's (same batch). */
  readonly speedup: number;
  readonly kernelTflops: number;
  readonly composedTflops: number;
}

/**
 * The plans of each mode: one attention tile, one FP8 group of Q/K (`quantTile`, default the attention tile), one
 * sliding window (`window` tiles, clamped).
 */
export function attentionPlans(options: { tile: Dims3; quantTile?: Dims3; window: Dims3 }): Record<AttentionMode, AttentionPlan> {
  const { tile } = options;
  const granularity = { kind: 'tile', tile: options.quantTile ?? tile } as const;
  const window = { kind: 'clamped', tiles: options.window } as const;
  return {
    'dense-bf16': { mode: 'dense-bf16' },
    'sparse-bf16': { mode: 'sparse-bf16', sparsity: { tile, window } },
    'fp8-dense': { mode: 'fp8-dense', granularity },
    'fp8-sparse': { mode: 'fp8-sparse', granularity, sparsity: { tile, window } },
  };
}

/** Deterministic xorshift32 in [0, 1). */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 2 ** 32;
  };
}

/** BF16 bits of uniform(-1, 1) values, rounded to nearest even. */
function bf16Random(n: number, rand: () => number): Uint16Array {
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) f[i] = rand() * 2 - 1;
  const u = new Uint32Array(f.buffer);
  const out = new Uint16Array(n);
  for (let i = 0; i < n; i++) {
    const x = u[i] as number;
    out[i] = (x + 0x7fff + ((x >>> 16) & 1)) >>> 16;
  }
  return out;
}

/** E4M3 codes of magnitude <= 1.875 (exponent field <= 7), random sign: no NaN codes. */
function e4m3Random(n: number, rand: () => number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = ((rand() * 64) | 0) | (rand() < 0.5 ? 0x80 : 0);
  return out;
}

export async function runAttentionBench(options: {
  backend: Backend;
  grid: Dims3;
  heads: number;
  headDim?: number;
  batches: readonly number[];
  modes: readonly AttentionMode[];
  tile: Dims3;
  quantTile?: Dims3;
  window: Dims3;
  reps: number;
  onRow?: (row: AttentionBenchRow) => void;
}): Promise<AttentionBenchRow[]> {
  const { backend, grid, heads, reps } = options;
  const D = options.headDim ?? 128;
  const N = grid[0] * grid[1] * grid[2];
  const COLS = heads * D;
  const plans = attentionPlans({ tile: options.tile, ...(options.quantTile ? { quantTile: options.quantTile } : {}), window: options.window });
  const rand = xorshift(0x9e3779b9);
  const rows: AttentionBenchRow[] = [];
  for (const batch of options.batches) {
    const owned: Tensor[] = [];
    const keep = <T extends Tensor>(t: T): T => {
      owned.push(t);
      return t;
    };
    try {
      const raster = (name: string) => keep(backend.fromArray(bf16Random(batch * N * COLS, rand), [batch, N, COLS], 'bf16', { name }));
      const [q, k, v] = [raster('q'), raster('k'), raster('v')];
      const out = keep(backend.empty([batch, N, COLS], 'bf16', { name: 'out' }));
      const batchRows: AttentionBenchRow[] = [];
      for (const mode of options.modes) {
        const plan = plans[mode];
        const g = attentionGeometry({ backend, grid, plan });
        const fp8 = g.dtype === 'e4m3';
        const npad = g.npad;
        const local: Tensor[] = [];
        const mk = (shape: number[], name: string): Tensor => {
          const n = shape.reduce((a, b) => a * b, 1);
          const t = fp8 ? backend.fromArray(e4m3Random(n, rand), shape, 'e4m3', { name }) : backend.fromArray(bf16Random(n, rand), shape, 'bf16', { name });
          local.push(t);
          return t;
        };
        const ones = (shape: number[]): Tensor<'f32'> => {
          const t = backend.fromArray(new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(1), shape, 'f32');
          local.push(t);
          return t;
        };
        try {
          const qp = mk([batch, npad, COLS], 'qp');
          const kp = mk([batch, npad, COLS], 'kp');
          const vp = fp8 ? mk([batch, COLS, npad], 'vT') : mk([batch, npad, COLS], 'vp');
          // K's scales as the composed call hands them: per key block when the geometry has kBlockGroups, else per row
          // (the kernel's two FP8 paths differ in speed, so the kernel alone must take the composed call's path).
          const perBlock = fp8 && g.kBlockGroups !== null;
          const qs = fp8 ? ones([batch, heads, npad]) : null;
          const vs = fp8 ? ones([batch, COLS]) : null;
          const kScale = perBlock ? { kBlockScale: ones([batch, heads, npad / g.blockRows]) } : { kScale: fp8 ? ones([batch, heads, npad]) : null };
          const kout = backend.empty([batch, npad, COLS], 'bf16', { name: 'kout' });
          local.push(kout);
          const kernelMs = await timeMs({
            backend,
            reps,
            fn: () =>
              attentionForward({
                q: qp,
                k: kp,
                v: vp,
                qScale: qs,
                ...kScale,
                vScale: vs,
                blockValidRows: g.blockValidRows,
                rowPtr: g.blockLists?.rowPtr ?? null,
                colIdx: g.blockLists?.colIdx ?? null,
                headDim: D,
                out: kout,
              } as Parameters<typeof attentionForward>[0]),
          });
          const composedMs = await timeMs({ backend, reps, fn: () => attention({ q, k, v, grid, plan, kSmoothing: fp8, out }) });
          const density = planCost({ plan, grid, blockRows: g.blockRows }).density;
          const flops = 4 * D * N * N * density * heads * batch;
          const row: AttentionBenchRow = {
            batch,
            mode,
            dtype: fp8 ? 'e4m3' : 'bf16',
            kScales: !fp8 ? null : perBlock ? 'per-block' : 'per-row',
            density,
            kernelMs,
            composedMs,
            overhead: composedMs / kernelMs - 1,
            speedup: Number.NaN,
            kernelTflops: flops / (kernelMs * 1e-3) / 1e12,
            composedTflops: flops / (composedMs * 1e-3) / 1e12,
          };
          batchRows.push(row);
        } finally {
          for (const t of local) t.dispose();
        }
      }
      const dense = batchRows.find((r) => r.mode === 'dense-bf16');
      for (const r of batchRows) {
        const row = { ...r, speedup: dense ? dense.composedMs / r.composedMs : Number.NaN };
        rows.push(row);
        options.onRow?.(row);
      }
    } finally {
      for (const t of owned) t.dispose();
    }
  }
  await backend.synchronize();
  return rows;
}
