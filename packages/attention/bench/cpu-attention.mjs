// The CPU backend of the FPSAttention op at the size: 4,096 tokens (grid 4x32x32), 2 heads of 128, batch 1,
// in every mode, through the public op (geometry cached, so a call is gather -> quantize -> attend -> scatter). The
// goal (issue 8): a few seconds per call on a development core; the float64 twin of the attention kernel dominates.
// Host timers, one warm-up call per mode (JIT, geometry), median of --reps. A timing, not a test of the math.
// Usage (after `npx tsup` in packages/fp8, kernels, tiling, scheduler, attention):
//   node bench/cpu-attention.mjs [--reps 3] [--modes dense-bf16,fp8-sparse] [--out cpu-attention.json]
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { CpuBackend } from '@fpsattn/kernels';
import { attention, attentionGeometry } from '../dist/index.js';
import { unitBf16 } from '../dist/testing.js';

const { values: args } = parseArgs({ options: { reps: { type: 'string', default: '3' }, modes: { type: 'string' }, out: { type: 'string' } } });
const REPS = Math.max(1, Number(args.reps));
const GRID = [4, 32, 32];
const TOKENS = GRID[0] * GRID[1] * GRID[2];
const HEADS = 2;
const D = 128;
const COLS = HEADS * D;
// 128-token tiles (one kernel block each, no padding): 1x8x4 tiles; a clamped 1x3x3-tile window keeps about a
// quarter of the token pairs, near the early-phase density at Wan 720p.
const TILE = [4, 4, 8];
const WINDOW = { kind: 'clamped', tiles: [1, 3, 3] };
const PLANS = {
  'dense-bf16': { mode: 'dense-bf16' },
  'sparse-bf16': { mode: 'sparse-bf16', sparsity: { tile: TILE, window: WINDOW } },
  'fp8-dense': { mode: 'fp8-dense', granularity: { kind: 'tile', tile: TILE } },
  'fp8-sparse': { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: TILE }, sparsity: { tile: TILE, window: WINDOW } },
};
const modes = args.modes ? args.modes.split(',') : Object.keys(PLANS);

const backend = new CpuBackend();
const q = backend.fromArray(unitBf16({ length: TOKENS * COLS, seed: 1, cols: COLS }), [1, TOKENS, COLS], 'bf16', { name: 'q' });
const k = backend.fromArray(unitBf16({ length: TOKENS * COLS, seed: 2, cols: COLS, kLike: true }), [1, TOKENS, COLS], 'bf16', { name: 'k' });
const v = backend.fromArray(unitBf16({ length: TOKENS * COLS, seed: 3, cols: COLS }), [1, TOKENS, COLS], 'bf16', { name: 'v' });

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
console.log(`cpu-attention: ${TOKENS} tokens (grid ${GRID.join('x')}), ${HEADS} heads x ${D}, batch 1, median of ${REPS} after 1 warm-up`);
for (const mode of modes) {
  const plan = PLANS[mode];
  if (!plan) throw new Error(`unknown mode '${mode}' (expected ${Object.keys(PLANS).join(', ')})`);
  const g = attentionGeometry({ backend, grid: GRID, plan });
  const lists = g.host.lists; // null: dense; else shared by both heads here (one window)
  const density = lists ? lists.nnz / lists.listHeads / (g.numBlocks * g.numBlocks) : 1;
  const call = () => {
    const t0 = performance.now();
    attention({ q, k, v, grid: GRID, plan, kSmoothing: mode.startsWith('fp8') }).dispose();
    return performance.now() - t0;
  };
  call();
  const ms = Array.from({ length: REPS }, call);
  const row = { mode, blockDensity: density, medianMs: median(ms), ms };
  rows.push(row);
  console.log(`  ${mode.padEnd(12)} block density ${(100 * density).toFixed(1).padStart(5)}%  median ${(row.medianMs / 1000).toFixed(2)} s  (${ms.map((x) => (x / 1000).toFixed(2)).join(', ')})`);
}
if (args.out) writeFileSync(args.out, `${JSON.stringify({ grid: GRID, heads: HEADS, headDim: D, reps: REPS, rows }, null, 2)}\n`);
