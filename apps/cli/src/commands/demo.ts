// `fpsattn demo`: the README's main job. One pass through every layer of fpsattention on whatever backend this
// machine has, ending with the tiny Wan2.1 DiT through the full sampler, dense and with an FPSAttention schedule:
//   1. backend: which one runs (CUDA on a Hopper GPU, else the CPU backend), and why.
//   2. schedule: the Wan 720p schedule (Algorithm 1's phases) with density and FLOPs per step.
//   3. block mask: the early-phase window on the real 720p grid, built and timed.
//   4. quantization: Q, K, V of a small video through the plan-to-device path (tile-major padded gather, FP8 with one
//      scale per (tile, head) for Q/K and per channel for V, K smoothing), against a float64 reference.
//   5. attention: the FPSAttention op in its four modes against float64 attention.
//   6. dit: wan-tiny (synthetic weights) through generateLatents, dense vs FPSAttention: speed, density, fidelity.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { attention, attentionGeometry } from '@fpsattn/attention';
import { attentionErrorStats, rasterAttentionReference, unitBf16 } from '@fpsattn/attention/testing';
import { decodeBf16Array, encodeBf16Array, errorStats } from '@fpsattn/fp8';
import { createRng, randomFloat32 } from '@fpsattn/fp8/testing';
import {
  ATTENTION_TILE_POLICY,
  channelMean,
  dequantizeRows,
  dequantizeV,
  doctor,
  gatherRows,
  getBackend,
  quantizeRows,
  quantizeV,
  type Backend,
  type Tensor,
} from '@fpsattn/kernels';
import { explain, formatExplainTable, parseScheduleConfig, planCost, schedulePreset, type AttentionPlan, type ExplainRow, type ScheduleConfig } from '@fpsattn/scheduler';
import { blockMaskStats, buildBlockMask, createTileLayout, WAN_720P_GRID, type Dims3 } from '@fpsattn/tiling';
import { type SamplerLoop, WAN_CONFIG_PRESETS, WanDeviceDit, WanDeviceWeights, generateLatents, syntheticWanInputs, syntheticWanWeights } from '@fpsattn/wan';
import type { Command } from 'commander';
import { withExamples } from '../_command';
import { formatTable, pct, printJson } from '../_format';
import { parseIntegerFlag } from '../_parse';

const BLOCK_ROWS = ATTENTION_TILE_POLICY.blockM;
/** Section 6 runs at most this many sampler steps (the CPU backend takes about a second per step of wan-tiny). */
export const DEMO_DIT_MAX_STEPS = 8;

export interface DemoBackendSection {
  readonly name: 'cpu' | 'cuda';
  readonly requested: string;
  readonly reason: string;
  readonly device: string | null;
}

export interface DemoScheduleSection {
  readonly preset: 'wan-720p';
  readonly steps: number;
  readonly rows: readonly ExplainRow[];
  /** Mean density over steps (all layers and heads). */
  readonly meanDensity: number;
}

export interface DemoBlockMaskSection {
  readonly phase: 'early';
  readonly grid: Dims3;
  readonly tile: Dims3 | null;
  readonly numTiles: number | null;
  readonly denseBlocks: number | null;
  readonly density: number;
  readonly attentionFlopsPerHead: number | null;
  readonly denseFlopsPerHead: number | null;
  readonly buildMs: number | null;
}

export interface DemoQuantRow {
  readonly tensor: string;
  readonly granularity: string;
  readonly scales: number;
  readonly relativeL2: number;
  readonly cosine: number;
  readonly snrDb: number;
}

export interface DemoQuantSection {
  readonly tokens: number;
  readonly grid: Dims3;
  readonly tile: Dims3;
  readonly numTiles: number;
  readonly paddedRows: number;
  readonly heads: number;
  readonly headDim: number;
  readonly format: 'e4m3';
  readonly path: string;
  readonly rows: readonly DemoQuantRow[];
}

export interface DemoAttentionRow {
  readonly mode: AttentionPlan['mode'];
  readonly density: number;
  /** Against float64 attention with the same quantization (the kernel's own error). */
  readonly relL2SameQuantization: number;
  /** Against float64 attention without FP8 (what FP8 costs). */
  readonly relL2Unquantized: number;
  readonly cosine: number;
  readonly wallMs: number;
}

export interface DemoDitRun {
  readonly run: 'dense' | 'FPSAttention';
  readonly steps: number;
  /** Mean attention density over the steps (1 for dense). */
  readonly density: number;
  readonly totalSeconds: number;
  readonly msPerStepMedian: number;
  /** The sampling loop that ran: `device` (latents stay on the GPU) or `host` (generateLatents' default per backend). */
  readonly sampler: SamplerLoop;
}

export interface DemoDitSection {
  readonly model: 'wan-tiny';
  readonly backend: 'cpu' | 'cuda';
  readonly steps: number;
  readonly size: { width: number; height: number; frames: number };
  readonly latentShape: readonly number[];
  readonly tokenGrid: Dims3;
  readonly runs: readonly DemoDitRun[];
  /** Density of the FPSAttention schedule's sparse steps and its mean over every step (dense warm-up included). */
  readonly sparseStepDensity: number;
  /** dense / FPSAttention median step time (the CPU backend's times say nothing of the GPU's). */
  readonly speedup: number;
  /** FPSAttention latents against the dense latents. */
  readonly fidelity: { relativeL2: number; cosine: number };
}

export interface DemoReport {
  readonly backend: DemoBackendSection;
  readonly schedule: DemoScheduleSection;
  readonly blockMask: DemoBlockMaskSection;
  readonly quantization: DemoQuantSection;
  readonly attention: DemoAttentionSection;
  readonly dit: DemoDitSection;
}

export interface DemoAttentionSection {
  readonly tokens: number;
  readonly grid: Dims3;
  readonly rows: readonly DemoAttentionRow[];
}

const median = (xs: readonly number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const dims = (g: { frames: number; height: number; width: number }): Dims3 => [g.frames, g.height, g.width];
const gridText = (d: readonly number[]): string => d.join('x');

function backendSection(backend: Backend): DemoBackendSection {
  const report = doctor();
  const reason =
    report.requested === 'cpu' ? 'forced by FPSATTN_BACKEND=cpu' : backend.name === 'cuda' ? `${report.device?.name ?? 'a supported device'} answered` : `fallback to the CPU: ${report.fallbackReason ?? 'no CUDA'}`;
  return { name: backend.name, requested: report.requested, reason, device: report.device?.name ?? null };
}

function scheduleSection(steps: number): { section: DemoScheduleSection; config: ScheduleConfig } {
  const config = schedulePreset({ name: 'wan-720p', steps });
  const rows = explain({ config, blockRows: BLOCK_ROWS });
  return { config, section: { preset: 'wan-720p', steps, rows, meanDensity: rows.reduce((a, r) => a + r.density, 0) / rows.length } };
}

function blockMaskSection(config: ScheduleConfig): DemoBlockMaskSection {
  const early = config.phases.early;
  const grid = dims(WAN_720P_GRID);
  if (early.mode !== 'fp8-sparse' && early.mode !== 'sparse-bf16') {
    return { phase: 'early', grid, tile: null, numTiles: null, denseBlocks: null, density: 1, attentionFlopsPerHead: null, denseFlopsPerHead: null, buildMs: null };
  }
  const layout = createTileLayout({ grid: WAN_720P_GRID, tile: early.sparsity.tile });
  const t0 = performance.now();
  const mask = buildBlockMask({ layout, window: early.sparsity.window });
  const buildMs = performance.now() - t0;
  const stats = blockMaskStats({ mask, headDim: 128 });
  return {
    phase: 'early',
    grid,
    tile: [...early.sparsity.tile] as Dims3,
    numTiles: stats.numTiles,
    denseBlocks: stats.denseBlocks,
    density: stats.density,
    attentionFlopsPerHead: stats.attentionFlops,
    denseFlopsPerHead: stats.denseFlops,
    buildMs,
  };
}

async function quantizationSection(backend: Backend): Promise<DemoQuantSection> {
  const grid = { frames: 6, height: 10, width: 16 }; // 960 tokens, a small video
  const tile: Dims3 = [3, 5, 8];
  const heads = 2;
  const headDim = 128;
  const cols = heads * headDim;
  // The plan-to-device path: the geometry of an FP8 sparse plan (Q/K scales per 3D tile) gives the tile-major padded
  // order, the gather map and the quantization groups.
  const plan: AttentionPlan = { mode: 'fp8-sparse', granularity: { kind: 'tile', tile }, sparsity: { tile, window: { kind: 'clamped', tiles: [1, 1, 1] } } };
  const geometry = attentionGeometry({ backend, grid, plan });
  const tokens = geometry.numTokens;
  const npad = geometry.npad;
  const { slotToToken } = geometry.host;
  const { quantGroups: groups, rowMap, tileLayout } = geometry;
  if (groups === null || rowMap === null || tileLayout === null) throw new Error('an FP8 sparse plan on a 6x10x16 grid has a tile layout, a row map and quantization groups');

  const rng = createRng(2026);
  // BF16 bit patterns, as GPU tensors hold them.
  const qBits = encodeBf16Array({ input: randomFloat32({ rng, length: tokens * cols, outlierFraction: 0.002 }) });
  const kBits = encodeBf16Array({ input: randomFloat32({ rng, length: tokens * cols, std: 2 }).map((x) => x + 3) }); // a bias K smoothing removes
  const vBits = encodeBf16Array({ input: randomFloat32({ rng, length: tokens * cols, std: 0.5 }) });

  const owned: Tensor[] = [];
  const keep = <T extends Tensor>(t: T): T => {
    owned.push(t);
    return t;
  };
  try {
    const upload = (bits: Uint16Array, name: string) => keep(backend.fromArray(bits, [tokens, cols], 'bf16', { name }));
    const q = keep(gatherRows({ src: upload(qBits, 'q'), map: rowMap }));
    const k = keep(gatherRows({ src: upload(kBits, 'k'), map: rowMap }));
    const vAmax = keep(backend.empty([cols], 'f32', { name: 'v.amax' })); // V's per-channel amax, computed during the gather
    const v = keep(gatherRows({ src: upload(vBits, 'v'), map: rowMap, amax: vAmax }));
    const mean = keep(channelMean({ x: k }));
    const q8 = quantizeRows({ x: q, groups, headDim, format: 'e4m3' });
    const k8 = quantizeRows({ x: k, groups, headDim, format: 'e4m3', mean });
    const v8 = quantizeV({ v, format: 'e4m3', amax: vAmax });
    for (const t of [q8.codes, q8.scales, k8.codes, k8.scales, v8.codesT, v8.scales]) keep(t);
    const qBack = keep(dequantizeRows({ ...q8, groups }));
    const kBack = keep(dequantizeRows({ ...k8, groups }));
    const vBack = keep(dequantizeV({ ...v8 }));

    // float64 references in the padded tile-major order (padding rows are zeros; K smoothed with its float64 mean
    // over the padded rows, as channelMean averages what it is given).
    const tiled = (f: Float64Array) => {
      const out = new Float64Array(npad * cols);
      for (let i = 0; i < npad; i++) {
        const t = slotToToken[i] as number;
        if (t >= 0) for (let c = 0; c < cols; c++) out[i * cols + c] = f[t * cols + c] as number;
      }
      return out;
    };
    const refQ = tiled(Float64Array.from(decodeBf16Array({ input: qBits })));
    const refV = tiled(Float64Array.from(decodeBf16Array({ input: vBits })));
    const refK = tiled(Float64Array.from(decodeBf16Array({ input: kBits })));
    const kMean = new Float64Array(cols);
    for (let i = 0; i < npad; i++) for (let c = 0; c < cols; c++) kMean[c] = (kMean[c] as number) + (refK[i * cols + c] as number) / npad;
    for (let i = 0; i < npad; i++) for (let c = 0; c < cols; c++) refK[i * cols + c] = (refK[i * cols + c] as number) - (kMean[c] as number);

    const row = (tensor: string, granularity: string, scales: number, reference: Float64Array, back: ArrayLike<number>): DemoQuantRow => {
      const s = errorStats({ reference, approx: Float64Array.from(back) });
      return { tensor, granularity, scales, relativeL2: s.relativeL2, cosine: s.cosine, snrDb: s.snrDb };
    };
    const vHost = (await vBack.download()) as Float32Array;
    const rows = [
      row('Q', 'per (tile, head)', q8.scales.numel, refQ, (await qBack.download()) as Float32Array),
      row('K (smoothed)', 'per (tile, head)', k8.scales.numel, refK, (await kBack.download()) as Float32Array),
      row('V', 'per channel, K-major', v8.scales.numel, refV, vHost.subarray(0, npad * cols)),
    ];
    return { tokens, grid: dims(grid), tile, numTiles: tileLayout.numTiles, paddedRows: npad, heads, headDim, format: 'e4m3', path: q8.path, rows };
  } finally {
    for (const t of owned) t.dispose();
    await backend.synchronize();
  }
}

async function attentionSection(backend: Backend): Promise<DemoAttentionSection> {
  const grid = { frames: 6, height: 10, width: 16 };
  const tile: Dims3 = [3, 5, 8];
  const headDim = 128;
  const cols = 2 * headDim;
  const tokens = grid.frames * grid.height * grid.width;
  // Soft inputs (O(1) scores, K offsets and outlier channels), raster order, batch 1.
  const aq = unitBf16({ length: tokens * cols, seed: 1, cols });
  const ak = unitBf16({ length: tokens * cols, seed: 2, cols, kLike: true });
  const av = unitBf16({ length: tokens * cols, seed: 3, cols });
  const window = { kind: 'clamped', tiles: [1, 1, 1] } as const;
  const plans: AttentionPlan[] = [
    { mode: 'dense-bf16' },
    { mode: 'sparse-bf16', sparsity: { tile, window } },
    { mode: 'fp8-dense', granularity: { kind: 'tile', tile } },
    { mode: 'fp8-sparse', granularity: { kind: 'tile', tile }, sparsity: { tile, window } },
  ];
  const rows: DemoAttentionRow[] = [];
  for (const plan of plans) {
    const t = (bits: Uint16Array, name: string) => backend.fromArray(bits, [1, tokens, cols], 'bf16', { name });
    const [tq, tk, tv] = [t(aq, 'q'), t(ak, 'k'), t(av, 'v')];
    try {
      const t0 = performance.now();
      const out = attention({ q: tq, k: tk, v: tv, grid, plan, kSmoothing: true });
      const bits = (await out.download()) as Uint16Array;
      const wallMs = performance.now() - t0;
      out.dispose();
      const reference = rasterAttentionReference({ q: aq, k: ak, v: av, batch: 1, grid, headDim, plan, kSmoothing: true });
      // The same attention without FP8: the BF16 mode of the same sparsity.
      const bf16Plan: AttentionPlan = plan.mode === 'fp8-dense' ? { mode: 'dense-bf16' } : plan.mode === 'fp8-sparse' ? { mode: 'sparse-bf16', sparsity: plan.sparsity } : plan;
      const exact = rasterAttentionReference({ q: aq, k: ak, v: av, batch: 1, grid, headDim, plan: bf16Plan });
      const vsSame = attentionErrorStats(bits, reference);
      const vsExact = attentionErrorStats(bits, exact);
      rows.push({
        mode: plan.mode,
        density: planCost({ plan, grid, blockRows: BLOCK_ROWS }).density,
        relL2SameQuantization: vsSame.relL2,
        relL2Unquantized: vsExact.relL2,
        cosine: vsExact.cosine,
        wallMs,
      });
    } finally {
      for (const x of [tq, tk, tv]) x.dispose();
    }
  }
  await backend.synchronize();
  return { tokens, grid: dims(grid), rows };
}

/** The demo's FPSAttention schedule for wan-tiny's 3x8x10 token grid: one dense step, then FP8 Q/K per 3D tile with a one-tile window. */
export function demoTinySchedule(options: { steps: number; layers: number; heads: number }): ScheduleConfig {
  const tile: Dims3 = [3, 4, 5];
  const sparsity = { tile, window: { kind: 'clamped', tiles: [1, 1, 1] } } as const;
  return parseScheduleConfig({
    steps: options.steps,
    alpha1: 0.3,
    alpha2: 0.7,
    denseSteps: 1,
    grid: { frames: 3, height: 8, width: 10 },
    model: { layers: options.layers, heads: options.heads, headDim: 128 },
    phases: {
      early: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile }, sparsity },
      middle: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 4, 5] }, sparsity },
      late: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile }, sparsity },
    },
    overrides: [],
  });
}

async function ditSection(backend: Backend, steps: number): Promise<DemoDitSection> {
  // A tiny Wan2.1 model with the real head dim and RoPE split (synthetic weights): 9 frames of 128 x 160 pixels ->
  // latents [16, 3, 16, 20] -> 3 x 8 x 10 = 240 tokens.
  const wan = WAN_CONFIG_PRESETS['wan-tiny'];
  const size = { width: 160, height: 128, frames: 9 };
  const weights = WanDeviceWeights.upload({ backend, config: wan, weights: syntheticWanWeights({ config: wan, seed: 1 }) });
  const dit = new WanDeviceDit(weights);
  const text = (seed: number, length: number) => ({ values: syntheticWanInputs({ config: wan, seed, latentShape: [16, 1, 2, 2], contextLength: length }).context, length });
  const embeddings = { prompt: text(2, 12), negative: text(3, 4), metadata: {} };
  const schedule = demoTinySchedule({ steps, layers: wan.numLayers, heads: wan.numHeads });
  const rows = explain({ config: schedule, blockRows: BLOCK_ROWS });
  const fpsDensity = rows.reduce((a, r) => a + r.density, 0) / rows.length;
  const sparseStepDensity = Math.min(...rows.map((r) => r.density));
  const dir = mkdtempSync(join(tmpdir(), 'fpsattn-demo-'));
  try {
    const results: { run: DemoDitRun; latents: Float32Array; latentShape: readonly number[] }[] = [];
    for (const [label, s, density] of [['dense', null, 1], ['FPSAttention', schedule, fpsDensity]] as const) {
      const t0 = performance.now();
      const r = await generateLatents({ dit, embeddings, ...size, seed: 7, steps, schedule: s, out: join(dir, `${label}.safetensors`) });
      const totalSeconds = (performance.now() - t0) / 1000;
      results.push({ run: { run: label, steps, density, totalSeconds, msPerStepMedian: median(r.stepMs), sampler: r.sampler }, latents: r.latents, latentShape: r.latentShape });
    }
    const [dense, fps] = results as [(typeof results)[0], (typeof results)[0]];
    const a = fps.latents;
    const b = dense.latents;
    let e = 0;
    let n = 0;
    let dot = 0;
    let na = 0;
    for (let i = 0; i < b.length; i++) {
      const x = a[i] as number;
      const y = b[i] as number;
      e += (x - y) ** 2;
      n += y ** 2;
      dot += x * y;
      na += x ** 2;
    }
    return {
      model: 'wan-tiny',
      backend: backend.name,
      steps,
      size,
      latentShape: dense.latentShape,
      tokenGrid: [3, 8, 10],
      runs: results.map((r) => r.run),
      sparseStepDensity,
      // Median step times: the first run's total also pays one-time setup (module loads, cuBLASLt handles; 0.19 s
      // against 0.03 s on an H200 for the same per-step times), which is not the schedule's doing.
      speedup: dense.run.msPerStepMedian / fps.run.msPerStepMedian,
      fidelity: { relativeL2: Math.sqrt(e / n), cosine: dot / Math.sqrt(n * na) },
    };
  } finally {
    dit.dispose();
    weights.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}

const section = (title: string, body: string): string => `\n== ${title}\n${body}`;

function formatQuant(s: DemoQuantSection, backend: string): string {
  return section(
    `4. FP8 quantization of Q, K, V on the ${backend} backend`,
    `${s.tokens} tokens (grid ${gridText(s.grid)}, ${s.numTiles} tiles of ${gridText(s.tile)}, padded to ${s.paddedRows} rows), ${s.heads} heads x ${s.headDim}, E4M3; quantized path: ${s.path}\n` +
      formatTable({
        header: ['tensor', 'granularity', 'scales', 'rel L2', 'cosine', 'SNR dB'],
        rows: s.rows.map((r) => [r.tensor, r.granularity, String(r.scales), r.relativeL2.toExponential(2), r.cosine.toFixed(6), r.snrDb.toFixed(1)]),
        right: [2, 3, 4, 5],
      }),
  );
}

function formatAttention(s: DemoAttentionSection, backend: string): string {
  return section(
    `5. the FPSAttention op in every mode on the ${backend} backend, against float64 attention (${s.tokens} tokens, grid ${gridText(s.grid)}, 2 heads x 128)`,
    formatTable({
      header: ['mode', 'density', 'rel L2 vs float64 (same quantization)', 'rel L2 vs float64 (unquantized)', 'cosine', 'wall ms'],
      rows: s.rows.map((r) => [r.mode, pct(r.density), r.relL2SameQuantization.toExponential(2), r.relL2Unquantized.toExponential(2), r.cosine.toFixed(6), r.wallMs.toFixed(1)]),
      right: [1, 2, 3, 4, 5],
    }),
  );
}

function formatDit(s: DemoDitSection): string {
  const table = formatTable({
    header: ['run', 'steps', 'attention density', 'total s', 'ms per step (median)', 'sampler loop'],
    rows: s.runs.map((r) => [r.run, String(r.steps), pct(r.density), r.totalSeconds.toFixed(2), r.msPerStepMedian.toFixed(1), r.sampler]),
    right: [1, 2, 3, 4],
  });
  const lines = [
    table,
    `FPSAttention vs dense latents: relative L2 ${s.fidelity.relativeL2.toExponential(2)}, cosine ${s.fidelity.cosine.toFixed(6)}; speed-up x${s.speedup.toFixed(2)} in median step time ` +
      `(${s.steps} steps, latents [${s.latentShape.join(', ')}]; one dense step, then FP8 Q/K per 3D tile, each 3x4x5 tile attending to its own tile: ${pct(s.sparseStepDensity)} density)`,
  ];
  if (s.backend !== 'cuda') lines.push('(the CPU backend runs float64 twins of the kernels: its times say nothing of the GPU speed-up)');
  return section(`6. the Wan DiT (wan-tiny, synthetic weights) through the full sampler on the ${s.backend} backend: dense vs FPSAttention`, lines.join('\n'));
}

export async function runDemo(options: { steps: number; log?: (text: string) => void }): Promise<DemoReport> {
  const log = options.log ?? (() => undefined);
  const backend = getBackend();
  const b = backendSection(backend);
  log(section('1. backend', `${b.name} (requested ${b.requested}): ${b.reason}${b.device ? `; device ${b.device}` : ''}`));
  const { section: schedule, config } = scheduleSection(options.steps);
  log(
    section(
      `2. schedule: preset wan-720p, ${options.steps} steps (our defaults; the paper does not publish its alphas and windows)`,
      formatExplainTable(explain({ config, blockRows: BLOCK_ROWS })),
    ),
  );
  const mask = blockMaskSection(config);
  log(
    section(
      '3. block mask of the early phase on the 720p grid',
      mask.tile === null
        ? 'the early phase is dense: no block mask'
        : `grid ${gridText(mask.grid)}, tile ${gridText(mask.tile)}: ${mask.numTiles} tiles, ${mask.denseBlocks} dense blocks, density ${pct(mask.density, 2)} of token pairs, ` +
            `attention ${((mask.attentionFlopsPerHead ?? 0) / 1e12).toFixed(2)} TFLOP per head vs ${((mask.denseFlopsPerHead ?? 0) / 1e12).toFixed(2)} dense; built in ${(mask.buildMs ?? 0).toFixed(1)} ms`,
    ),
  );
  const quantization = await quantizationSection(backend);
  log(formatQuant(quantization, backend.name));
  const att = await attentionSection(backend);
  log(formatAttention(att, backend.name));
  const dit = await ditSection(backend, Math.min(options.steps, DEMO_DIT_MAX_STEPS));
  log(formatDit(dit));
  return { backend: b, schedule, blockMask: mask, quantization, attention: att, dit };
}

/** The --quiet summary: one line with speed, density and fidelity. */
export function demoSummary(report: DemoReport): string {
  const d = report.dit;
  const [dense, fps] = d.runs;
  return (
    `wan-tiny on ${d.backend}, ${d.steps} steps: median step dense ${dense?.msPerStepMedian.toFixed(1)} ms, FPSAttention ${fps?.msPerStepMedian.toFixed(1)} ms (x${d.speedup.toFixed(2)}), ` +
    `density ${pct(fps?.density ?? 1)} (sparse steps ${pct(d.sparseStepDensity)}), fidelity rel L2 ${d.fidelity.relativeL2.toExponential(2)}, cosine ${d.fidelity.cosine.toFixed(6)}`
  );
}

export function registerDemo(program: Command): void {
  const command = program
    .command('demo')
    .description('the main job: one pass through every layer (backend, schedule, block mask, FP8 quantization, the attention op) ending with the tiny Wan DiT through the full sampler, dense vs FPSAttention: speed, density and fidelity')
    .option('--steps <n>', `schedule steps (the DiT runs min(n, ${DEMO_DIT_MAX_STEPS}) sampler steps)`, '50')
    .option('--quiet', 'print only the one-line summary (speed, density, fidelity)')
    .option('--json', 'print every section as JSON')
    .action(async (flags: { steps: string; quiet?: boolean; json?: boolean }) => {
      const steps = parseIntegerFlag({ flag: '--steps', value: flags.steps, min: 1, max: 10_000 });
      const print = (text: string) => process.stdout.write(`${text}\n`);
      const report = await runDemo({ steps, ...(flags.json || flags.quiet ? {} : { log: print }) });
      if (flags.json) printJson(report);
      else if (flags.quiet) print(demoSummary(report));
    });
  withExamples(command, ['fpsattn demo', 'fpsattn demo --steps 4 --quiet', 'FPSATTN_BACKEND=cpu fpsattn demo --steps 2 --json']);
}
