// Runs each CUDA kernel family once at Wan-1.3B 720p size (75,600 x 1,536 BF16), for Nsight Compute to time and
// characterise kernel by kernel (the backend's calls launch several kernels; the benchmark only sees their sum).
// Usage: ncu --section SpeedOfLight --csv node bench/profile-kernels.mjs   (scripts/gpu/run-kernels.sh profile)
import * as K from '../dist/index.js';
import * as T from '../dist/testing.js';

const { backend } = K.loadBackend({ backend: 'cuda' });
const ROWS = 75_600;
const COLS = 1_536;
const x = backend.fromArray(T.randomBf16(ROWS * COLS, 42, { cols: COLS, offset: 1 }), [ROWS, COLS], 'bf16');
const { perm, tileOfSlot, tileCount } = T.tileMajorPermutation([21, 45, 80], [3, 5, 8]);
const rowMap = backend.createRowMap(perm, { targetRows: ROWS });
const groups = backend.createGroupMap(tileOfSlot, { groupCount: tileCount });
const xt = backend.gatherRows(x, rowMap);
backend.scatterRows(xt, rowMap, { rows: ROWS });
const mean = backend.channelMean(xt);
backend.quantizeQK(xt, { groups, headDim: 128, format: 'e4m3', path: 'fused' });
backend.quantizeQK(xt, { groups, headDim: 128, format: 'e4m3', path: 'fused', mean });
backend.quantizeQK(xt, { groups, headDim: 128, format: 'e4m3', path: 'two-pass' });
backend.quantizeV(xt, { format: 'e4m3' });
await backend.synchronize();
console.log('profile-kernels: done');
