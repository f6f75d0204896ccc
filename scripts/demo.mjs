#!/usr/bin/env node
// The main job for now: one pass through every layer of fpsattention, on whatever backend this machine has.
//   1. @fpsattn/kernels: which backend runs (CUDA on a Hopper GPU, else the bit-identical CPU backend), and why.
//   2. @fpsattn/scheduler: the Wan 720p schedule (Algorithm 1's phases) with density and FLOPs per step.
//   3. @fpsattn/tiling: the block mask of the early-phase window on the real 720p grid, built and timed.
//   4. @fpsattn/attention geometry + @fpsattn/kernels + @fpsattn/fp8: Q, K, V of a small video through the
//      plan-to-device path (tile-major padded gather, FP8 quantization with one scale per (tile, head) for Q/K and per
//      channel for V, K smoothing), checked against a float64 reference.
//   5. @fpsattn/attention: the FPSAttention op in its four modes, against float64 attention.
//   6. @fpsattn/wan: a tiny Wan2.1 DiT through the full sampler (text embeddings -> latents file), dense and with an
//      FPSAttention schedule, with their speed and the fidelity between the two.
// Usage: npm run demo   (after npm ci; `turbo run build` runs first)   Options: --steps N (default 50)
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { decodeBf16Array, encodeBf16Array, errorStats } from '@fpsattn/fp8';
import { createRng, randomFloat32 } from '@fpsattn/fp8/testing';
import { ATTENTION_TILE_POLICY, channelMean, dequantizeRows, dequantizeV, doctor, formatDoctor, gatherRows, getBackend, quantizeRows, quantizeV } from '@fpsattn/kernels';
import { explain, formatExplainTable, schedulePreset } from '@fpsattn/scheduler';
import { blockMaskStats, buildBlockMask, createTileLayout, WAN_720P_GRID } from '@fpsattn/tiling';
import { attention, attentionGeometry } from '@fpsattn/attention';
import { attentionErrorStats, rasterAttentionReference, unitBf16 } from '@fpsattn/attention/testing';

const { values: args } = parseArgs({ options: { steps: { type: 'string', default: '50' } } });
const steps = Number(args.steps);
if (!Number.isInteger(steps) || steps < 1) {
  console.error(`demo: --steps must be a positive integer, got ${JSON.stringify(args.steps)}`);
  process.exit(2);
}
const section = (title) => console.log(`\n== ${title}`);

section('1. backend');
console.log(formatDoctor(doctor()));
const backend = getBackend();

section(`2. schedule: preset wan-720p, ${steps} steps (our defaults; the paper does not publish its alphas and windows)`);
const config = schedulePreset({ name: 'wan-720p', steps });
console.log(formatExplainTable(explain({ config, blockRows: ATTENTION_TILE_POLICY.blockM })));

section('3. block mask of the early phase on the 720p grid');
const early = config.phases.early;
if (early.mode === 'fp8-sparse' || early.mode === 'sparse-bf16') {
  const layout = createTileLayout({ grid: WAN_720P_GRID, tile: early.sparsity.tile });
  const t0 = performance.now();
  const mask = buildBlockMask({ layout, window: early.sparsity.window });
  const buildMs = performance.now() - t0;
  const stats = blockMaskStats({ mask, headDim: 128 });
  console.log(
    `grid ${WAN_720P_GRID.frames}x${WAN_720P_GRID.height}x${WAN_720P_GRID.width}, tile ${early.sparsity.tile.join('x')}: ` +
      `${stats.numTiles} tiles, ${stats.denseBlocks} dense blocks, density ${(100 * stats.density).toFixed(2)}% of token pairs, ` +
      `attention ${(stats.attentionFlops / 1e12).toFixed(2)} TFLOP per head vs ${(stats.denseFlops / 1e12).toFixed(2)} dense; built in ${buildMs.toFixed(1)} ms`,
  );
} else {
  console.log(`the early phase is ${early.mode}: no block mask`);
}

section(`4. FP8 quantization of Q, K, V on the ${backend.name} backend`);
const grid = { frames: 6, height: 10, width: 16 }; // 960 tokens, a small video
const tile = [3, 5, 8];
const heads = 2;
const headDim = 128;
const cols = heads * headDim;
// The plan-to-device path: the geometry of the early phase's plan (FP8 sparse, Q/K scales per 3D tile) gives the
// tile-major padded order, the gather map and the quantization groups, cached for every later call with this plan.
const plan = { mode: 'fp8-sparse', granularity: { kind: 'tile', tile }, sparsity: { tile, window: { kind: 'clamped', tiles: [1, 1, 1] } } };
const geometry = attentionGeometry({ backend, grid, plan });
const tokens = geometry.numTokens;
const npad = geometry.npad;
const { slotToToken } = geometry.host;

const rng = createRng(2026);
// BF16 bit patterns, as GPU tensors hold them (encodeBf16Array rounds to nearest even, like __float2bfloat16_rn).
const qBits = encodeBf16Array({ input: randomFloat32({ rng, length: tokens * cols, outlierFraction: 0.002 }) });
const kBits = encodeBf16Array({ input: randomFloat32({ rng, length: tokens * cols, std: 2 }).map((x) => x + 3) }); // a bias K smoothing removes
const vBits = encodeBf16Array({ input: randomFloat32({ rng, length: tokens * cols, std: 0.5 }) });

const groups = geometry.quantGroups;
const q = gatherRows({ src: backend.fromArray(qBits, [tokens, cols], 'bf16', { name: 'q' }), map: geometry.rowMap });
const k = gatherRows({ src: backend.fromArray(kBits, [tokens, cols], 'bf16', { name: 'k' }), map: geometry.rowMap });
const vAmax = backend.empty([cols], 'f32', { name: 'v.amax' }); // V's per-channel amax, computed during the gather
const v = gatherRows({ src: backend.fromArray(vBits, [tokens, cols], 'bf16', { name: 'v' }), map: geometry.rowMap, amax: vAmax });
const mean = channelMean({ x: k });
const q8 = quantizeRows({ x: q, groups, headDim, format: 'e4m3' });
const k8 = quantizeRows({ x: k, groups, headDim, format: 'e4m3', mean });
const v8 = quantizeV({ v, format: 'e4m3', amax: vAmax }); // one pass over V
const qBack = dequantizeRows({ ...q8, groups });
const kBack = dequantizeRows({ ...k8, groups });
const vBack = dequantizeV({ ...v8 });

// float64 references in the geometry's padded tile-major order (padding rows are zeros; K smoothed with its own
// float64 mean over the padded rows, as channelMean averages what it is given).
const tiled = (f) => {
  const out = new Float64Array(npad * cols);
  for (let i = 0; i < npad; i++) {
    const t = slotToToken[i];
    if (t >= 0) for (let c = 0; c < cols; c++) out[i * cols + c] = f[t * cols + c];
  }
  return out;
};
const refQ = tiled(decodeBf16Array({ input: qBits }));
const refV = tiled(decodeBf16Array({ input: vBits }));
const refK = tiled(decodeBf16Array({ input: kBits }));
const kMean = new Float64Array(cols);
for (let i = 0; i < npad; i++) for (let c = 0; c < cols; c++) kMean[c] += refK[i * cols + c] / npad;
for (let i = 0; i < npad; i++) for (let c = 0; c < cols; c++) refK[i * cols + c] -= kMean[c];

const rows = [
  ['Q', 'per (tile, head)', q8.scales.numel, refQ, await qBack.download()],
  ['K (smoothed)', 'per (tile, head)', k8.scales.numel, refK, await kBack.download()],
  ['V', 'per channel, K-major', v8.scales.numel, refV, (await vBack.download()).subarray(0, npad * cols)],
].map(([tensor, granularity, scales, ref, back]) => {
  const s = errorStats({ reference: ref, approx: back });
  return { tensor, granularity, scales, 'rel L2': s.relativeL2.toExponential(2), cosine: s.cosine.toFixed(6), 'SNR dB': s.snrDb.toFixed(1) };
});
console.log(
  `${tokens} tokens (grid ${grid.frames}x${grid.height}x${grid.width}, ${geometry.tileLayout.numTiles} tiles of ${tile.join('x')}, ` +
    `padded to ${npad} rows), ${heads} heads x ${headDim}, E4M3; quantized path: ${q8.path}`,
);
console.table(rows);
for (const t of [q, k, v, vAmax, mean, q8.codes, q8.scales, k8.codes, k8.scales, v8.codesT, v8.scales, qBack, kBack, vBack]) t.dispose();
await backend.synchronize();

section(`5. the FPSAttention op in every mode on the ${backend.name} backend, against float64 attention`);
// Soft inputs (O(1) scores, K offsets and outlier channels) for the op, raster order, batch 1.
const aq = unitBf16({ length: tokens * cols, seed: 1, cols });
const ak = unitBf16({ length: tokens * cols, seed: 2, cols, kLike: true });
const av = unitBf16({ length: tokens * cols, seed: 3, cols });
const window = { kind: 'clamped', tiles: [1, 1, 1] };
const modes = [
  ['dense-bf16', { mode: 'dense-bf16' }],
  ['sparse-bf16', { mode: 'sparse-bf16', sparsity: { tile, window } }],
  ['fp8-dense', { mode: 'fp8-dense', granularity: { kind: 'tile', tile } }],
  ['fp8-sparse', { mode: 'fp8-sparse', granularity: { kind: 'tile', tile }, sparsity: { tile, window } }],
];
const table = [];
for (const [mode, p] of modes) {
  const t = (bits, name) => backend.fromArray(bits, [1, tokens, cols], 'bf16', { name });
  const [tq, tk, tv] = [t(aq, 'q'), t(ak, 'k'), t(av, 'v')];
  const t0 = performance.now();
  const out = attention({ q: tq, k: tk, v: tv, grid, plan: p, kSmoothing: true });
  const bits = await out.download();
  const ms = performance.now() - t0;
  const reference = rasterAttentionReference({ q: aq, k: ak, v: av, batch: 1, grid, headDim, plan: p, kSmoothing: true });
  // The same attention without FP8: the BF16 mode of the same sparsity.
  const bf16Plan = p.mode === 'fp8-dense' ? { mode: 'dense-bf16' } : p.mode === 'fp8-sparse' ? { mode: 'sparse-bf16', sparsity: p.sparsity } : p;
  const exact = rasterAttentionReference({ q: aq, k: ak, v: av, batch: 1, grid, headDim, plan: bf16Plan });
  const vsSame = attentionErrorStats(bits, reference);
  const vsExact = attentionErrorStats(bits, exact);
  table.push({
    mode,
    'rel L2 vs float64 (same quantization)': vsSame.relL2.toExponential(2),
    'rel L2 vs float64 (unquantized)': vsExact.relL2.toExponential(2),
    cosine: vsExact.cosine.toFixed(6),
    'wall ms': ms.toFixed(1),
  });
  for (const x of [tq, tk, tv, out]) x.dispose();
}
console.table(table);
await backend.synchronize();

section(`6. the Wan DiT (wan-tiny, synthetic weights) through the full sampler on the ${backend.name} backend: dense vs FPSAttention`);
{
  // A tiny Wan2.1 model with the real head dim and RoPE split (the released weights cannot be downloaded here),
  // 81 x 8 latents scaled down: 9 frames of 128 x 160 pixels -> latents [16, 3, 16, 20] -> 3 x 8 x 10 = 240 tokens.
  const { WAN_CONFIG_PRESETS, WanDeviceDit, WanDeviceWeights, generateLatents, syntheticWanInputs, syntheticWanWeights } = await import('@fpsattn/wan');
  const { parseScheduleConfig } = await import('@fpsattn/scheduler');
  const { mkdtempSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const wan = WAN_CONFIG_PRESETS['wan-tiny'];
  const demoSteps = Math.min(steps, 8);
  const weights = WanDeviceWeights.upload({ backend, config: wan, weights: syntheticWanWeights({ config: wan, seed: 1 }) });
  const dit = new WanDeviceDit(weights);
  const text = (seed, length) => ({ values: syntheticWanInputs({ config: wan, seed, latentShape: [16, 1, 2, 2], contextLength: length }).context, length });
  const embeddings = { prompt: text(2, 12), negative: text(3, 4), metadata: {} };
  const tileSize = [3, 4, 5];
  const sparse = { tile: tileSize, window: { kind: 'clamped', tiles: [1, 1, 1] } };
  const schedule = parseScheduleConfig({
    steps: demoSteps,
    alpha1: 0.3,
    alpha2: 0.7,
    denseSteps: 1,
    grid: { frames: 3, height: 8, width: 10 },
    model: { layers: wan.numLayers, heads: wan.numHeads, headDim: 128 },
    phases: {
      early: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: tileSize }, sparsity: sparse },
      middle: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 4, 5] }, sparsity: sparse },
      late: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: tileSize }, sparsity: sparse },
    },
    overrides: [],
  });
  const dir = mkdtempSync(join(tmpdir(), 'fpsattn-demo-'));
  try {
    const size = { width: 160, height: 128, frames: 9 };
    const runs = {};
    for (const [label, s] of [['dense', null], ['FPSAttention', schedule]]) {
      const t0 = performance.now();
      const r = await generateLatents({ dit, embeddings, ...size, seed: 7, steps: demoSteps, schedule: s, out: join(dir, `${label}.safetensors`) });
      runs[label] = { latents: r.latents, seconds: (performance.now() - t0) / 1000, perStep: r.stepMs };
    }
    const a = runs.FPSAttention.latents;
    const b = runs.dense.latents;
    let e = 0;
    let n = 0;
    let dot = 0;
    let na = 0;
    for (let i = 0; i < b.length; i++) {
      e += (a[i] - b[i]) ** 2;
      n += b[i] ** 2;
      dot += a[i] * b[i];
      na += a[i] ** 2;
    }
    console.table(
      Object.entries(runs).map(([label, r]) => ({
        run: label,
        steps: demoSteps,
        'total s': r.seconds.toFixed(2),
        'ms per step (median)': [...r.perStep].sort((x, y) => x - y)[Math.floor(r.perStep.length / 2)].toFixed(1),
      })),
    );
    console.log(
      `FPSAttention vs dense latents: relative L2 ${Math.sqrt(e / n).toExponential(2)}, cosine ${(dot / Math.sqrt(n * na)).toFixed(6)}` +
        ` (${demoSteps} steps, latents [16, 3, 16, 20]; FP8 Q/K per 3D tile, each 3x4x5 tile attending to its own tile: 25% density)`,
    );
    if (backend.name !== 'cuda') console.log('(the CPU backend runs float64 twins of the kernels: its times say nothing of the GPU speed-up)');
  } finally {
    dit.dispose();
    weights.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
