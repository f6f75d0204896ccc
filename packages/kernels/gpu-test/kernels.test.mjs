// GPU suite: every CUDA kernel against its CPU twin on random never-zero BF16 inputs with poisoned outputs, compared
// as each op declares (op.info.exactness: 'bit-exact' for every op here). Needs only Node, the built dist/ folders
// (kernels, fp8, tiling) and the .node. Run directly (node file.mjs) or with node --test.
// Sizes: FPSATTN_GPU_TEST_SIZE=real (Wan-1.3B 720p: 75,600 x 1,536) | medium | small (for sanitizers).
// Without a usable CUDA device every test is skipped with the reason printed. FPSATTN_GPU_TEST_ON_CPU=1 runs the suite's
// logic against the CPU backend (a dry run of the suite itself).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { quantize as fp8Quantize } from '@fpsattn/fp8';
import { createPaddedTileLayout, createTileLayout, createTilePermutation } from '@fpsattn/tiling';
import * as K from '../dist/index.js';
import * as T from '../dist/testing.js';

const SIZE = process.env.FPSATTN_GPU_TEST_SIZE ?? 'real';
const SHAPES = {
  // grid (frames, height, width), channels; tiles (3,5,8) = 120 tokens and (6,8,8) = 384 (padded at 720p)
  real: { grid: [21, 45, 80], heads: 12 },
  medium: { grid: [6, 20, 24], heads: 4 },
  small: { grid: [3, 10, 16], heads: 2 },
}[SIZE];
if (!SHAPES) throw new Error(`FPSATTN_GPU_TEST_SIZE must be real, medium or small, got ${SIZE}`);
const HEAD_DIM = 128;
const COLS = SHAPES.heads * HEAD_DIM;
const ROWS = SHAPES.grid[0] * SHAPES.grid[1] * SHAPES.grid[2];

const { backend, skipReason } = T.gpuTestBackend({ suite: 'GPU suite', dryRun: { device: { name: 'CPU (dry run)', major: 0, minor: 0 }, addon: { setSyncCheck() {} } } });
if (!skipReason) {
  console.log(`# GPU suite on ${backend.device.name} (sm_${backend.device.major}${backend.device.minor}), size ${SIZE}: ${ROWS} x ${COLS}`);
  backend.addon.setSyncCheck(process.env.FPSATTN_SYNC_CHECK === '1');
}

const POISON = 0xab;
const tracked = [];
const keep = (t) => (tracked.push(t), t);
after(() => {
  for (const t of tracked) t.dispose();
});

function assertBits(actual, expected, what) {
  const i = T.bitsEqual(actual, expected);
  if (i >= 0) {
    const a = new Uint8Array(actual.buffer, actual.byteOffset, actual.byteLength);
    const b = new Uint8Array(expected.buffer, expected.byteOffset, expected.byteLength);
    assert.fail(`${what}: first differing byte ${i} of ${b.length} (gpu 0x${a[i]?.toString(16)}, cpu 0x${b[i]?.toString(16)})`);
  }
}

/** Compares an op's GPU result with its CPU twin as the op declares: bit for bit, or (none yet) within a tolerance. */
function assertMatches(op, actual, expected, what) {
  if (op.info.exactness === 'bit-exact') return assertBits(actual, expected, `${op.name}: ${what}`);
  assert.fail(`${op.name} declares a tolerance; this suite compares bit-exact ops only (${JSON.stringify(op.info.exactness)})`);
}

/** tiling's tile permutation, whichever argument style the installed tiling takes (a layout, or { layout }). */
const permutationOf = (layout) => createTilePermutation({ layout });

/** Tile-major order from @fpsattn/tiling: perm[tileMajor] = raster, the tile of each tile-major row, raster groups. */
function tileMajor(grid, tile) {
  const layout = createTileLayout({ grid: { frames: grid[0], height: grid[1], width: grid[2] }, tile });
  const { forward } = permutationOf(layout);
  const tileOfSlot = T.groupOfRuns(layout.tileOffsets);
  return { layout, perm: forward, tileOfSlot, tileCount: layout.numTiles, rasterGroups: T.groupsInRasterOrder(tileOfSlot, forward) };
}

/** Each tile padded to its full volume (tiling's padded layout): slot -> raster token or -1. */
function paddedTileMap(grid, tile) {
  const { layout } = tileMajor(grid, tile);
  const padded = createPaddedTileLayout({ layout, rowMultiple: layout.tileTokens });
  return { map: padded.slotToToken, tileCount: layout.numTiles };
}

const opts = { skip: skipReason };

describe(`fpsattn CUDA kernels (${SIZE})`, opts, () => {
  const xHost = skipReason ? null : T.randomBf16(ROWS * COLS, 1234, { cols: COLS, offset: 2 });
  const x = skipReason ? null : keep(backend.fromArray(xHost, [ROWS, COLS], 'bf16', { name: 'x' }));
  const tiled = skipReason ? null : tileMajor(SHAPES.grid, [3, 5, 8]);

  test('gatherRows: tile-major gather equals the CPU twin (compact permutation)', async () => {
    const map = keep(K.createRowMap({ backend, indices: tiled.perm, targetRows: ROWS, name: 'perm' }));
    const out = keep(backend.empty([ROWS, COLS], 'bf16', { name: 'gathered' }).fillBytes(POISON));
    K.gatherRows({ src: x, map, out });
    const expected = K.gatherRowsCpu(xHost, COLS, tiled.perm, new Uint16Array(ROWS * COLS));
    assertMatches(K.gatherRows, await out.download(), expected, 'gather');
  });

  test('gatherRows with padding rows (-1 -> zeros) and scatterRows back to raster order', async () => {
    const { map } = paddedTileMap(SHAPES.grid, [6, 8, 8]);
    const rowMap = keep(K.createRowMap({ backend, indices: map, targetRows: ROWS, name: 'padded' }));
    const padded = keep(backend.empty([map.length, COLS], 'bf16', { name: 'padded' }).fillBytes(POISON));
    K.gatherRows({ src: x, map: rowMap, out: padded });
    const expected = K.gatherRowsCpu(xHost, COLS, map, new Uint16Array(map.length * COLS));
    assertMatches(K.gatherRows, await padded.download(), expected, 'padded gather');
    const back = keep(backend.empty([ROWS, COLS], 'bf16', { name: 'back' }).fillBytes(POISON));
    K.scatterRows({ src: padded, map: rowMap, out: back });
    assertMatches(K.scatterRows, await back.download(), xHost, 'scatter(gather(x)) = x');
  });

  test('quantizeRows fused (contiguous tile groups) equals the CPU twin and @fpsattn/fp8 quantize, e4m3', async () => {
    const map = keep(K.createRowMap({ backend, indices: tiled.perm, targetRows: ROWS }));
    const xt = keep(K.gatherRows({ src: x, map }));
    const xtHost = await xt.download();
    const groups = keep(K.createGroupMap({ backend, groupOfRow: tiled.tileOfSlot, groupCount: tiled.tileCount }));
    assert.equal(groups.contiguous, true);
    const codes = keep(backend.empty([ROWS, COLS], 'e4m3').fillBytes(POISON));
    const scales = keep(backend.empty([tiled.tileCount, SHAPES.heads], 'f32').fillBytes(0xff));
    const q = K.quantizeRows({ x: xt, groups, headDim: HEAD_DIM, format: 'e4m3', out: { codes, scales } });
    if (backend.name === 'cuda') assert.equal(q.path, 'fused');
    const cpu = K.quantizeRowsCpu({ x: xtHost, rows: ROWS, cols: COLS, headDim: HEAD_DIM, groupOfRow: tiled.tileOfSlot, groupCount: tiled.tileCount, format: 'e4m3' });
    assertMatches(K.quantizeRows, await scales.download(), cpu.scales, 'scales');
    assertMatches(K.quantizeRows, await codes.download(), cpu.codes, 'codes');
    // Two-pass kernel on the same input: same bits.
    const q2 = K.quantizeRows({ x: xt, groups, headDim: HEAD_DIM, format: 'e4m3', path: 'two-pass' });
    if (backend.name === 'cuda') assert.equal(q2.path, 'two-pass');
    keep(q2.codes);
    keep(q2.scales);
    assertMatches(K.quantizeRows, await q2.codes.download(), cpu.codes, 'two-pass codes');
    assertMatches(K.quantizeRows, await q2.scales.download(), cpu.scales, 'two-pass scales');
    if (SIZE !== 'real') {
      const ref = fp8Quantize({ data: K.bf16BitsToFloat32Array(xtHost), rows: ROWS, cols: COLS, format: 'e4m3', granularity: { kind: 'group', groupOfRow: tiled.tileOfSlot, groupCount: tiled.tileCount, columnsPerScale: HEAD_DIM } });
      assertBits(cpu.codes, ref.codes, 'twin vs @fpsattn/fp8 codes');
    }
  });

  test('quantizeRows fused with large groups (shared-memory staging) and head dims 64 and 256', async () => {
    // Tiles of (6,8,8) = 384 rows are past the register-resident kernel's 2,048 vectors at headDim 128: they take the
    // shared-memory kernel. headDim 64 and 256 change the vectors per row and the staging size.
    const tile = [Math.min(6, SHAPES.grid[0]), 8, 8];
    const big = tileMajor(SHAPES.grid, tile);
    const map = keep(K.createRowMap({ backend, indices: big.perm, targetRows: ROWS }));
    const xt = keep(K.gatherRows({ src: x, map }));
    const xtHost = await xt.download();
    const groups = keep(K.createGroupMap({ backend, groupOfRow: big.tileOfSlot, groupCount: big.tileCount }));
    for (const headDim of [64, 128, 256]) {
      if (groups.maxGroupRows * headDim * 2 > K.FUSED_MAX_STAGING_BYTES) continue;
      const codes = keep(backend.empty([ROWS, COLS], 'e4m3').fillBytes(POISON));
      const scales = keep(backend.empty([big.tileCount, COLS / headDim], 'f32').fillBytes(0xff));
      const q = K.quantizeRows({ x: xt, groups, headDim, format: 'e4m3', path: 'fused', out: { codes, scales } });
      if (backend.name === 'cuda') assert.equal(q.path, 'fused');
      const cpu = K.quantizeRowsCpu({ x: xtHost, rows: ROWS, cols: COLS, headDim, groupOfRow: big.tileOfSlot, groupCount: big.tileCount, format: 'e4m3' });
      assertMatches(K.quantizeRows, await scales.download(), cpu.scales, `fused scales, tile ${tile.join('x')}, headDim ${headDim}`);
      assertMatches(K.quantizeRows, await codes.download(), cpu.codes, `fused codes, tile ${tile.join('x')}, headDim ${headDim}`);
    }
  });

  test('quantizeRows two-pass with raster-order 3D tile groups, e5m2', async () => {
    const { rasterGroups: groupOfRow, tileCount: groupCount } = tileMajor(SHAPES.grid, [3, 5, 8]);
    const groups = keep(K.createGroupMap({ backend, groupOfRow, groupCount }));
    assert.equal(groups.contiguous, false);
    const codes = keep(backend.empty([ROWS, COLS], 'e5m2').fillBytes(POISON));
    const scales = keep(backend.empty([groupCount, SHAPES.heads], 'f32').fillBytes(0xff));
    const q = K.quantizeRows({ x, groups, headDim: HEAD_DIM, format: 'e5m2', out: { codes, scales } });
    if (backend.name === 'cuda') assert.equal(q.path, 'two-pass');
    const cpu = K.quantizeRowsCpu({ x: xHost, rows: ROWS, cols: COLS, headDim: HEAD_DIM, groupOfRow, groupCount, format: 'e5m2' });
    assertMatches(K.quantizeRows, await scales.download(), cpu.scales, 'scales');
    assertMatches(K.quantizeRows, await codes.download(), cpu.codes, 'codes');
  });

  test('quantizeRows per-tensor and per-token granularities', async () => {
    const rows = Math.min(ROWS, 8192);
    const xs = keep(x.sliceRows(0, rows));
    const host = xHost.subarray(0, rows * COLS);
    for (const [label, groupOfRow, groupCount] of [
      ['per-tensor', new Int32Array(rows), 1],
      ['per-token', Int32Array.from({ length: rows }, (_, i) => i), rows],
      ['per-64-rows', Int32Array.from({ length: rows }, (_, i) => i >> 6), Math.ceil(rows / 64)],
    ]) {
      const groups = keep(K.createGroupMap({ backend, groupOfRow, groupCount }));
      const codes = keep(backend.empty([rows, COLS], 'e4m3').fillBytes(POISON));
      const scales = keep(backend.empty([groupCount, SHAPES.heads], 'f32').fillBytes(0xff));
      K.quantizeRows({ x: xs, groups, headDim: HEAD_DIM, format: 'e4m3', out: { codes, scales } });
      const cpu = K.quantizeRowsCpu({ x: host, rows, cols: COLS, headDim: HEAD_DIM, groupOfRow, groupCount, format: 'e4m3' });
      assertMatches(K.quantizeRows, await scales.download(), cpu.scales, `${label} scales`);
      assertMatches(K.quantizeRows, await codes.download(), cpu.codes, `${label} codes`);
    }
  });

  test('K smoothing: channelMean bit-exact, smoothed quantization bit-exact', async () => {
    const mean = keep(K.channelMean({ x }));
    const cpuMean = K.channelMeanCpu(xHost, ROWS, COLS);
    assertMatches(K.channelMean, await mean.download(), cpuMean, 'channel mean');
    const map = keep(K.createRowMap({ backend, indices: tiled.perm, targetRows: ROWS }));
    const xt = keep(K.gatherRows({ src: x, map }));
    const groups = keep(K.createGroupMap({ backend, groupOfRow: tiled.tileOfSlot, groupCount: tiled.tileCount }));
    const cpu = K.quantizeRowsCpu({ x: await xt.download(), rows: ROWS, cols: COLS, headDim: HEAD_DIM, groupOfRow: tiled.tileOfSlot, groupCount: tiled.tileCount, format: 'e4m3', mean: cpuMean });
    for (const path of ['fused', 'two-pass']) {
      const codes = keep(backend.empty([ROWS, COLS], 'e4m3').fillBytes(POISON));
      const scales = keep(backend.empty([tiled.tileCount, SHAPES.heads], 'f32').fillBytes(0xff));
      K.quantizeRows({ x: xt, groups, headDim: HEAD_DIM, format: 'e4m3', mean, path, out: { codes, scales } });
      assertMatches(K.quantizeRows, await scales.download(), cpu.scales, `${path} smoothed scales`);
      assertMatches(K.quantizeRows, await codes.download(), cpu.codes, `${path} smoothed codes`);
    }
  });

  test('quantizeV: per-channel scales, transposed codes with zero padding, e4m3 and e5m2', async () => {
    for (const format of ['e4m3', 'e5m2']) {
      const tokenStride = Math.ceil(ROWS / 128) * 128 + 16;
      const codesT = keep(backend.empty([COLS, tokenStride], format).fillBytes(POISON));
      const scales = keep(backend.empty([COLS], 'f32').fillBytes(0xff));
      K.quantizeV({ v: x, format, tokenStride, out: { codesT, scales } });
      const cpu = K.quantizeVCpu({ v: xHost, rows: ROWS, cols: COLS, tokenStride, format });
      assertMatches(K.quantizeV, await scales.download(), cpu.scales, `${format} V scales`);
      assertMatches(K.quantizeV, await codesT.download(), cpu.codesT, `${format} V codesT`);
      if (format === 'e5m2' || SIZE === 'real') continue;
      const ref = fp8Quantize({ data: K.bf16BitsToFloat32Array(xHost), rows: ROWS, cols: COLS, format, granularity: { kind: 'channel' } });
      assertBits(cpu.scales, ref.scales, 'V twin vs @fpsattn/fp8 scales');
    }
  });

  test('gatherRows with amax (V in tile-major order) and one-pass quantizeV from that amax', async () => {
    const map = keep(K.createRowMap({ backend, indices: tiled.perm, targetRows: ROWS }));
    const amax = keep(backend.empty([COLS], 'f32').fillBytes(0xff)); // poisoned
    const vt = keep(backend.empty([ROWS, COLS], 'bf16').fillBytes(POISON));
    K.gatherRows({ src: x, map, out: vt, amax });
    const vtHost = await vt.download();
    assertMatches(K.gatherRows, vtHost, K.gatherRowsCpu(xHost, COLS, tiled.perm, new Uint16Array(ROWS * COLS)), 'gather with amax: rows');
    assertMatches(K.gatherRows, await amax.download(), K.channelAmaxCpu(vtHost, ROWS, COLS), 'gather with amax: amax');
    // With padding rows (-1) spread through the map: they are zero rows and count as zeros in the amax.
    const paddedPerm = Int32Array.from({ length: ROWS + 37 }, (_, i) => (i % 41 === 7 ? -1 : tiled.perm[i - Math.floor((i + 33) / 41)] ?? -1));
    const paddedMap = keep(K.createRowMap({ backend, indices: paddedPerm, targetRows: ROWS }));
    const paddedOut = keep(backend.empty([ROWS + 37, COLS], 'bf16').fillBytes(POISON));
    const paddedAmax = keep(backend.empty([COLS], 'f32').fillBytes(0xff));
    K.gatherRows({ src: x, map: paddedMap, out: paddedOut, amax: paddedAmax });
    const paddedHost = await paddedOut.download();
    assertMatches(K.gatherRows, paddedHost, K.gatherRowsCpu(xHost, COLS, paddedPerm, new Uint16Array((ROWS + 37) * COLS)), 'padded gather with amax: rows');
    assertMatches(K.gatherRows, await paddedAmax.download(), K.channelAmaxCpu(paddedHost, ROWS + 37, COLS), 'padded gather with amax: amax');
    const tokenStride = Math.ceil(ROWS / 16) * 16;
    const codesT = keep(backend.empty([COLS, tokenStride], 'e4m3').fillBytes(POISON));
    const scales = keep(backend.empty([COLS], 'f32').fillBytes(0xff));
    K.quantizeV({ v: vt, format: 'e4m3', amax, out: { codesT, scales } });
    const cpu = K.quantizeVCpu({ v: vtHost, rows: ROWS, cols: COLS, tokenStride, format: 'e4m3' }); // its own amax
    assertMatches(K.quantizeV, await scales.download(), cpu.scales, 'one-pass V scales');
    assertMatches(K.quantizeV, await codesT.download(), cpu.codesT, 'one-pass V codesT');
  });

  test('dequantizeRows and dequantizeV equal the CPU twins', async () => {
    const rows = Math.min(ROWS, 16384);
    const xs = keep(x.sliceRows(0, rows));
    const host = xHost.subarray(0, rows * COLS);
    const groupOfRow = Int32Array.from({ length: rows }, (_, i) => Math.floor(i / 120));
    const groups = keep(K.createGroupMap({ backend, groupOfRow }));
    const q = K.quantizeRows({ x: xs, groups, headDim: HEAD_DIM, format: 'e4m3' });
    keep(q.codes);
    keep(q.scales);
    const deq = keep(K.dequantizeRows({ ...q, groups }));
    const cpuQ = K.quantizeRowsCpu({ x: host, rows, cols: COLS, headDim: HEAD_DIM, groupOfRow, groupCount: groups.groupCount, format: 'e4m3' });
    const cpuDeq = K.dequantizeRowsCpu({ ...cpuQ, groupOfRow, rows, cols: COLS, headDim: HEAD_DIM, format: 'e4m3' });
    assertMatches(K.dequantizeRows, await deq.download(), cpuDeq, 'dequantizeRows');
    const v = K.quantizeV({ v: xs, format: 'e5m2' });
    keep(v.codesT);
    keep(v.scales);
    const deqV = keep(K.dequantizeV({ ...v, rows }));
    const cpuV = K.quantizeVCpu({ v: host, rows, cols: COLS, tokenStride: v.codesT.shape[1], format: 'e5m2' });
    const cpuDeqV = K.dequantizeVCpu({ ...cpuV, rows, cols: COLS, tokenStride: v.codesT.shape[1], format: 'e5m2' });
    assertMatches(K.dequantizeV, await deqV.download(), cpuDeqV, 'dequantizeV');
  });

  test('special values: NaN, infinities, tiny groups (scale 2^-126) and large magnitudes match @fpsattn/fp8', async () => {
    const rows = 64, cols = 256;
    const f = new Float32Array(rows * cols);
    const rnd = T.seededRandom(7);
    for (let i = 0; i < f.length; i++) f[i] = (rnd() - 0.5) * 2 ** Math.floor(rnd() * 40 - 20);
    f[3] = NaN; f[700] = Infinity; f[701] = -Infinity; f[5000] = 3e38; f[5001] = -1e-40;
    for (let i = 32 * cols; i < 33 * cols; i++) f[i] = 1e-44 * (i % 2 ? 1 : -1); // tiny row -> scale underflow
    const bits = Uint16Array.from(f, (v) => { const u = new Uint32Array(new Float32Array([v]).buffer)[0]; return (u + 0x7fff + ((u >> 16) & 1)) >>> 16; });
    for (let i = 0; i < bits.length; i++) if (Number.isNaN(f[i])) bits[i] = 0x7fc0;
    const xs = keep(backend.fromArray(bits, [rows, cols], 'bf16'));
    const groupOfRow = Int32Array.from({ length: rows }, (_, i) => i);
    const groups = keep(K.createGroupMap({ backend, groupOfRow }));
    for (const format of ['e4m3', 'e5m2']) {
      const q = K.quantizeRows({ x: xs, groups, headDim: 128, format });
      keep(q.codes); keep(q.scales);
      const ref = fp8Quantize({ data: K.bf16BitsToFloat32Array(bits), rows, cols, format, nonFinite: 'ignore', granularity: { kind: 'group', groupOfRow, groupCount: rows, columnsPerScale: 128 } });
      assertMatches(K.quantizeRows, await q.scales.download(), ref.scales, `${format} special scales vs fp8`);
      assertMatches(K.quantizeRows, await q.codes.download(), ref.codes, `${format} special codes vs fp8`);
      const v = K.quantizeV({ v: xs, format });
      keep(v.codesT); keep(v.scales);
      const cpuV = K.quantizeVCpu({ v: bits, rows, cols, tokenStride: v.codesT.shape[1], format });
      assertMatches(K.quantizeV, await v.codesT.download(), cpuV.codesT, `${format} special V`);
    }
  });

  test('errors: use after dispose, shape/dtype mismatch, out of memory are JS errors and the backend keeps working', async () => {
    const t = backend.empty([16, 128], 'bf16');
    t.dispose();
    assert.throws(() => t.downloadSync(), (e) => e.code === 'FPSATTN_DISPOSED');
    const groups = keep(K.createGroupMap({ backend, groupOfRow: new Int32Array(16) }));
    const wrong = keep(backend.empty([16, 128], 'f32'));
    assert.throws(() => K.quantizeRows({ x: wrong, groups, headDim: 128, format: 'e4m3' }), (e) => e.code === 'FPSATTN_SHAPE_MISMATCH');
    const tooFew = keep(backend.empty([8, 128], 'bf16'));
    assert.throws(() => K.quantizeRows({ x: tooFew, groups, headDim: 128, format: 'e4m3' }), (e) => e.code === 'FPSATTN_SHAPE_MISMATCH');
    // The sanitizer runs set FPSATTN_GPU_TEST_NO_OOM=1: the intended cudaMalloc failure would count as an API error.
    if (process.env.FPSATTN_GPU_TEST_NO_OOM !== '1') assert.throws(() => backend.empty([2 ** 20, 2 ** 20], 'f32'), (e) => e.code === 'FPSATTN_OUT_OF_MEMORY' && e.name === 'OutOfMemoryError');
    const ok = keep(backend.fromArray(new Uint16Array(16 * 128).fill(0x3f80), [16, 128], 'bf16'));
    const q = K.quantizeRows({ x: ok, groups, headDim: 128, format: 'e4m3' });
    keep(q.codes); keep(q.scales);
    assert.equal((await q.codes.download())[0], 0x7e);
  });

  test('caching allocator: repeated step-sized allocations reuse blocks (no cudaMalloc)', { skip: backend?.name !== 'cuda' && 'CUDA only' }, async () => {
    const t0 = backend.empty([ROWS, COLS], 'bf16');
    t0.dispose();
    const before = backend.memoryStats();
    for (let i = 0; i < 100; i++) {
      const a = backend.empty([ROWS, COLS], 'bf16');
      const b = backend.empty([ROWS, COLS], 'e4m3');
      b[Symbol.dispose]();
      a.dispose();
    }
    const afterStats = backend.memoryStats();
    // The first e4m3 tensor may need one block; every later allocation is served by the JS-level pool (no native call)
    // or, failing that, by the native cache.
    assert.ok(afterStats.cudaMallocCalls - before.cudaMallocCalls <= 1, JSON.stringify({ before, afterStats }));
    assert.ok(afterStats.allocRequests - before.allocRequests <= 1, JSON.stringify({ before, afterStats }));
    assert.ok(afterStats.pooledStorages >= 2, JSON.stringify(afterStats));
    backend.emptyCache();
    const drained = backend.memoryStats();
    assert.equal(drained.pooledStorages, 0);
    assert.equal(drained.bytesCached, 0);
  });

  test('synchronize() resolves without blocking the event loop', async () => {
    // Queue enough work to take a while (about 16 ms at the real size), then check that synchronize() hands back a
    // pending promise at once and that timers keep firing while the GPU works.
    for (let i = 0; i < 100; i++) {
      const v = K.quantizeV({ v: x, format: 'e4m3' });
      v.codesT.dispose();
      v.scales.dispose();
    }
    const t0 = performance.now();
    const done = backend.synchronize();
    const returnedAfter = performance.now() - t0;
    let ticks = 0;
    const timer = setInterval(() => ticks++, 1);
    await done;
    const total = performance.now() - t0;
    clearInterval(timer);
    if (total > 10) {
      assert.ok(returnedAfter < total / 2, `synchronize() returned after ${returnedAfter.toFixed(2)} ms of ${total.toFixed(2)} ms: it blocked`);
      assert.ok(ticks > 0, `no timer fired during ${total.toFixed(2)} ms of GPU work: the event loop was blocked`);
    }
  });
});
