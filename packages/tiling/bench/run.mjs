// Benchmarks of @fpsattn/tiling on the real Wan grids. Run: `npm run build && npm run bench` in packages/tiling.
// Each case is timed with performance.now over many runs (after warm-up) and reports the median and the minimum.
import { cpus } from 'node:os';
import {
  buildBlockMask,
  blockMaskStats,
  createPaddedTileLayout,
  createTileLayout,
  createTilePermutation,
  tileRows,
  untileRows,
  WAN_480P_GRID,
  WAN_720P_GRID,
} from '../dist/index.js';

function measure(fn, { runs = 50, warmup = 5 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], runs };
}

const rows = [];
function record(name, fn, options) {
  const r = measure(fn, options);
  rows.push({ case: name, 'median ms': r.median.toFixed(3), 'min ms': r.min.toFixed(3), runs: r.runs });
}

const maskCases = [
  ['720p', WAN_720P_GRID, [3, 5, 8], { kind: 'clamped', tiles: [3, 5, 5] }],
  ['720p', WAN_720P_GRID, [3, 5, 8], { kind: 'clamped', tiles: [3, 3, 5] }],
  ['720p', WAN_720P_GRID, [3, 5, 8], { kind: 'seed', tokens: [12, 20, 48] }],
  ['720p', WAN_720P_GRID, [3, 5, 8], { kind: 'full' }],
  ['720p', WAN_720P_GRID, [6, 8, 8], { kind: 'clamped', tiles: [3, 3, 5] }],
  ['480p', WAN_480P_GRID, [3, 10, 4], { kind: 'clamped', tiles: [3, 3, 5] }],
  ['480p', WAN_480P_GRID, [3, 5, 8], { kind: 'clamped', tiles: [3, 3, 5] }],
];
const windowText = (w) => (w.kind === 'seed' ? `seed ${w.tokens.join('x')} tok` : w.kind === 'clamped' ? `clamped ${w.tiles.join('x')}` : 'full');

const stats = [];
for (const [name, grid, tile, window] of maskCases) {
  const label = `${name} tile ${tile.join('x')} ${windowText(window)}`;
  record(`layout + block mask: ${label}`, () => buildBlockMask({ layout: createTileLayout({ grid, tile }), window }), { runs: 200 });
  const mask = buildBlockMask({ layout: createTileLayout({ grid, tile }), window });
  const s = blockMaskStats({ mask, headDim: 128, rowMultiple: 128 });
  stats.push({ case: label, tiles: mask.numQueryTiles, 'dense blocks': s.denseBlocks, density: s.density.toFixed(4), 'executed/dense': s.executedRelative.toFixed(4) });
}

const layout720 = createTileLayout({ grid: WAN_720P_GRID, tile: [3, 5, 8] });
record('720p tile 3x5x8: permutation + inverse', () => createTilePermutation({ layout: layout720 }), { runs: 50 });
record('720p tile 3x5x8: padded layout (128 rows)', () => createPaddedTileLayout({ layout: layout720, rowMultiple: 128 }), { runs: 50 });
const permutation = createTilePermutation({ layout: layout720 });
const rowWidth = 128;
const bf16 = new Uint16Array(WAN_720P_GRID.numTokens * rowWidth);
const out = new Uint16Array(bf16.length);
record('720p tileRows, bf16 [75600, 128]', () => tileRows({ permutation, src: bf16, rowWidth, out }), { runs: 20 });
record('720p untileRows, bf16 [75600, 128]', () => untileRows({ permutation, src: bf16, rowWidth, out }), { runs: 20 });

console.log(`@fpsattn/tiling bench - node ${process.version}, ${cpus().length} x ${cpus()[0]?.model ?? 'cpu'}`);
console.table(rows);
console.table(stats);
