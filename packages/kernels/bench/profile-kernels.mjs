// Runs each CUDA kernel family once at Wan-1.3B 720p size (75,600 x 1,536 BF16), for Nsight Compute to time and
// characterise kernel by kernel (the backend's calls launch several kernels; the benchmark only sees their sum).
// Usage: ncu --section SpeedOfLight --csv node bench/profile-kernels.mjs   (scripts/gpu/run-kernels.sh profile)
import { createTileLayout, createTilePermutation } from '@fpsattn/tiling';
import * as K from '../dist/index.js';
import * as T from '../dist/testing.js';

const { backend } = K.loadBackend({ backend: 'cuda' });
const ROWS = 75_600;
const COLS = 1_536;
const x = backend.fromArray(T.randomBf16(ROWS * COLS, 42, { cols: COLS, offset: 1 }), [ROWS, COLS], 'bf16');
const layout = createTileLayout({ grid: { frames: 21, height: 45, width: 80 }, tile: [3, 5, 8] });
const { forward } = createTilePermutation({ layout });
const rowMap = K.createRowMap({ backend, indices: forward, targetRows: ROWS });
const groups = K.createGroupMap({ backend, groupOfRow: T.groupOfRuns(layout.tileOffsets), groupCount: layout.numTiles });
const xt = K.gatherRows({ src: x, map: rowMap });
K.scatterRows({ src: xt, map: rowMap, rows: ROWS });
const mean = K.channelMean({ x: xt });
K.quantizeRows({ x: xt, groups, headDim: 128, format: 'e4m3', path: 'fused' });
K.quantizeRows({ x: xt, groups, headDim: 128, format: 'e4m3', path: 'fused', mean });
K.quantizeRows({ x: xt, groups, headDim: 128, format: 'e4m3', path: 'two-pass' });
K.quantizeV({ v: xt, format: 'e4m3' });
await backend.synchronize();
console.log('profile-kernels: done');
