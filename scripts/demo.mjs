#!/usr/bin/env node
// The main job for now: one pass through every layer of fpsattention, on whatever backend this machine has.
//   1. @fpsattn/kernels: which backend runs (CUDA on a Hopper GPU, else the bit-identical CPU backend), and why.
//   2. @fpsattn/scheduler: the Wan 720p schedule (Algorithm 1's phases) with density and FLOPs per step.
//   3. @fpsattn/tiling: the block mask of the early-phase window on the real 720p grid, built and timed.
//   4. @fpsattn/kernels + @fpsattn/fp8: Q, K, V of a small video (tile-major gather, FP8 quantization with one scale
//      per (tile, head) for Q/K and per channel for V, K smoothing), checked against a float64 reference.
// Usage: npm run demo   (after npm ci; `turbo run build` runs first)   Options: --steps N (default 50)
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { decodeBf16Array, encodeBf16Array, errorStats } from '@fpsattn/fp8';
import { createRng, randomFloat32 } from '@fpsattn/fp8/testing';
import { channelMean, createGroupMap, createRowMap, dequantizeRows, dequantizeV, doctor, formatDoctor, gatherRows, getBackend, quantizeRows, quantizeV } from '@fpsattn/kernels';
import { explain, formatExplainTable, schedulePreset } from '@fpsattn/scheduler';
import { blockMaskStats, buildBlockMask, createTileLayout, createTilePermutation, WAN_720P_GRID } from '@fpsattn/tiling';

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
const config = schedulePreset('wan-720p', { steps });
console.log(formatExplainTable(explain({ config })));

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
const layout = createTileLayout({ grid, tile });
const { forward } = createTilePermutation(layout);
const tokens = layout.grid.numTokens;
const tileOfRow = new Int32Array(tokens);
for (let u = 0; u < layout.numTiles; u++) tileOfRow.fill(u, layout.tileOffsets[u], layout.tileOffsets[u + 1]);

const rng = createRng(2026);
// BF16 bit patterns, as GPU tensors hold them (encodeBf16Array rounds to nearest even, like __float2bfloat16_rn).
const qBits = encodeBf16Array(randomFloat32(rng, tokens * cols, { outlierFraction: 0.002 }));
const kBits = encodeBf16Array(randomFloat32(rng, tokens * cols, { std: 2 }).map((x) => x + 3)); // a bias K smoothing removes
const vBits = encodeBf16Array(randomFloat32(rng, tokens * cols, { std: 0.5 }));

const map = createRowMap({ backend, indices: forward, targetRows: tokens, name: 'tile-major' });
const groups = createGroupMap({ backend, groupOfRow: tileOfRow, groupCount: layout.numTiles, name: 'tiles' });
const q = gatherRows({ src: backend.fromArray(qBits, [tokens, cols], 'bf16', { name: 'q' }), map });
const k = gatherRows({ src: backend.fromArray(kBits, [tokens, cols], 'bf16', { name: 'k' }), map });
const vAmax = backend.empty([cols], 'f32', { name: 'v.amax' }); // V's per-channel amax, computed during the gather
const v = gatherRows({ src: backend.fromArray(vBits, [tokens, cols], 'bf16', { name: 'v' }), map, amax: vAmax });
const mean = channelMean({ x: k });
const q8 = quantizeRows({ x: q, groups, headDim, format: 'e4m3' });
const k8 = quantizeRows({ x: k, groups, headDim, format: 'e4m3', mean });
const v8 = quantizeV({ v, format: 'e4m3', amax: vAmax }); // one pass over V
const qBack = dequantizeRows({ ...q8, groups });
const kBack = dequantizeRows({ ...k8, groups });
const vBack = dequantizeV({ ...v8 });

// float64 references in tile-major order (K smoothed with its own float64 mean).
const tiled = (f) => {
  const out = new Float64Array(f.length);
  for (let i = 0; i < tokens; i++) for (let c = 0; c < cols; c++) out[i * cols + c] = f[forward[i] * cols + c];
  return out;
};
const refQ = tiled(decodeBf16Array(qBits));
const refV = tiled(decodeBf16Array(vBits));
const refK = tiled(decodeBf16Array(kBits));
const kMean = new Float64Array(cols);
for (let i = 0; i < tokens; i++) for (let c = 0; c < cols; c++) kMean[c] += refK[i * cols + c] / tokens;
for (let i = 0; i < tokens; i++) for (let c = 0; c < cols; c++) refK[i * cols + c] -= kMean[c];

const rows = [
  ['Q', 'per (tile, head)', q8.scales.numel, refQ, await qBack.download()],
  ['K (smoothed)', 'per (tile, head)', k8.scales.numel, refK, await kBack.download()],
  ['V', 'per channel, K-major', v8.scales.numel, refV, await vBack.download()],
].map(([tensor, granularity, scales, ref, back]) => {
  const s = errorStats(ref, back);
  return { tensor, granularity, scales, 'rel L2': s.relativeL2.toExponential(2), cosine: s.cosine.toFixed(6), 'SNR dB': s.snrDb.toFixed(1) };
});
console.log(`${tokens} tokens (grid ${grid.frames}x${grid.height}x${grid.width}, ${layout.numTiles} tiles of ${tile.join('x')}), ${heads} heads x ${headDim}, E4M3; quantized path: ${q8.path}`);
console.table(rows);
for (const t of [q, k, v, vAmax, mean, q8.codes, q8.scales, k8.codes, k8.scales, v8.codesT, v8.scales, qBack, kBack, vBack]) t.dispose();
map.dispose();
groups.dispose();
await backend.synchronize();
