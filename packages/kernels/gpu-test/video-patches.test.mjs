// GPU suite of the video-patch ops (patchify, unpatchify): each CUDA op against its CPU twin bit for bit (both are
// 'bit-exact'), on every element. Outputs are poisoned first (patchify: 0xffff, a BF16 NaN the kernel never writes, as
// it writes every NaN as 0x7fff; unpatchify: 0xffffffff, a bit pattern the inputs never hold), so an element the kernel
// skips fails, and views into larger poisoned tensors check that nothing is written outside. Cases: every patch size
// in {1, 2}^3 and [3, 1, 2] on ragged grids, rows cut into several tiles, the longest patch (PATCH_MAX_LENGTH values,
// one token per tile), one-channel patches, batch repeat, and the DiT's shape for FPSATTN_GPU_TEST_SIZE: real = Wan
// 720p latents [16, 21, 90, 160], patch [1, 2, 2], CFG batch of 2 (also timed, GB/s printed); medium = [16, 4, 30, 52];
// small = [16, 3, 8, 10] (for compute-sanitizer). Without a usable CUDA device every test is skipped with the reason;
// FPSATTN_GPU_TEST_ON_CPU=1 dry-runs the suite's logic on the CPU backend.
// Run: FPSATTN_GPU_TEST_SIZE=real node --test packages/kernels/gpu-test/video-patches.test.mjs (scripts/gpu/run-dit-ops.sh).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as K from '../dist/index.js';
import * as T from '../dist/testing.js';

const ON_CPU = process.env.FPSATTN_GPU_TEST_ON_CPU === '1';
const SIZE = process.env.FPSATTN_GPU_TEST_SIZE ?? (ON_CPU ? 'small' : 'medium');
const LATENTS = { real: [16, 21, 90, 160], medium: [16, 4, 30, 52], small: [16, 3, 8, 10] }[SIZE];
if (!LATENTS) throw new Error(`FPSATTN_GPU_TEST_SIZE must be real, medium or small, got ${SIZE}`);
const WAN_PATCH = [1, 2, 2];

const { backend, skipReason } = T.gpuTestBackend({ suite: 'video-patch GPU suite', dryRun: { device: { name: 'CPU (dry run)' } } });
if (!skipReason) {
  console.log(`# video-patch GPU suite on ${backend.device.name}, size ${SIZE}: latents [2, ${LATENTS.join(', ')}], patch [${WAN_PATCH.join(', ')}]`);
  if (!ON_CPU) backend.addon.setSyncCheck?.(process.env.FPSATTN_SYNC_CHECK === '1');
}

const POISON = 0xff;
const tracked = [];
const keep = (t) => (tracked.push(t), t);
after(() => {
  for (const t of tracked) t.dispose();
});

/** Random float32 bit patterns (never 0xffffffff, the unpatchify poison): every magnitude, NaNs, infinities, subnormals. */
function randomBits(n, seed) {
  const rnd = T.seededRandom(seed);
  const u = new Uint32Array(n);
  const specials = [0x7fc00000, 0xffc00001, 0x7f800000, 0xff800000, 0x00000001, 0x807fffff, 0x3f808000, 0x7f7fffff];
  for (let i = 0; i < n; i++) {
    u[i] = rnd() < 0.01 ? specials[Math.floor(rnd() * specials.length)] : Math.floor(rnd() * 4294967295);
  }
  return new Float32Array(u.buffer);
}

function assertBits(got, want, what) {
  const i = T.bitsEqual(got, want);
  if (i >= 0) {
    const a = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
    const b = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
    assert.fail(`${what}: first differing byte ${i} of ${b.length} (gpu 0x${a[i]?.toString(16)}, cpu 0x${b[i]?.toString(16)})`);
  }
}

const numel = (shape) => shape.reduce((a, b) => a * b, 1);

/** patchify of `items` random latent videos [C, F, H, W] on the device vs patchifyCpu; returns the device output. */
async function patchifyCase({ items, video, patchSize, repeat = 1, seed, label }) {
  const shape = [items, ...video];
  const host = randomBits(numel(shape), seed);
  const latents = keep(backend.fromArray(host, shape, 'f32', { name: 'latents' }));
  const length = video[0] * patchSize[0] * patchSize[1] * patchSize[2];
  const rows = (repeat * items * numel(video)) / length;
  const out = keep(backend.empty([rows, length], 'bf16').fillBytes(POISON));
  K.patchify({ latents, patchSize, repeat, out });
  const got = await out.download();
  assertBits(got, K.patchifyCpu({ latents: host, shape, patchSize, repeat }), label);
  return { latents, out };
}

/** unpatchify of `items` random token matrices on the device vs unpatchifyCpu. */
async function unpatchifyCase({ items, grid, patchSize, outDim, seed, label }) {
  const tokensPerItem = numel(grid);
  const length = outDim * numel(patchSize);
  const host = randomBits(items * tokensPerItem * length, seed);
  const tokens = keep(backend.fromArray(host, [items * tokensPerItem, length], 'f32', { name: 'head out' }));
  const out = keep(backend.empty([items, outDim, ...grid.map((g, a) => g * patchSize[a])], 'f32').fillBytes(POISON));
  K.unpatchify({ tokens, grid, patchSize, outDim, out });
  assertBits(await out.download(), K.unpatchifyCpu({ tokens: host, items, grid, patchSize, outDim }), label);
}

/** Mean time of `run` over `reps` launches after a warm-up, in microseconds. */
async function timeUs(run, reps = 20) {
  run();
  await backend.synchronize();
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) run();
  await backend.synchronize();
  return ((performance.now() - t0) * 1000) / reps;
}

const PATCHES = [[1, 1, 1], [1, 1, 2], [1, 2, 1], [1, 2, 2], [2, 1, 1], [2, 1, 2], [2, 2, 1], [2, 2, 2], [3, 1, 2]];
const opts = { skip: skipReason };

describe(`video-patch ops on CUDA vs their CPU twins (${SIZE})`, opts, () => {
  test('patchify: every patch size on a ragged grid of 2 items, bit for bit', async () => {
    for (const p of PATCHES) {
      await patchifyCase({ items: 2, video: [5, 3 * p[0], 7 * p[1], 11 * p[2]], patchSize: p, seed: 11 + p[0] * 9 + p[1] * 3 + p[2], label: `patchify [${p}]` });
    }
  });

  test('unpatchify: every patch size on a ragged grid of 2 items, bit for bit', async () => {
    for (const p of PATCHES) await unpatchifyCase({ items: 2, grid: [3, 7, 11], patchSize: p, outDim: 5, seed: 21, label: `unpatchify [${p}]` });
  });

  test('tiles: rows cut into several tiles, the longest patch (one token per tile), one-channel patches', async () => {
    // 64 values per token: 124 tokens fit a patchify tile, so W' = 300 is 3 tiles of 100; unpatchify 126 -> 3 of 100.
    await patchifyCase({ items: 1, video: [16, 2, 4, 600], patchSize: WAN_PATCH, seed: 31, label: 'patchify W\' 300' });
    await unpatchifyCase({ items: 1, grid: [2, 2, 300], patchSize: WAN_PATCH, outDim: 16, seed: 32, label: 'unpatchify W\' 300' });
    const longest = K.PATCH_MAX_LENGTH / 8;
    await patchifyCase({ items: 2, video: [longest, 2, 2, 6], patchSize: [2, 2, 2], seed: 33, label: `patchify ${K.PATCH_MAX_LENGTH} values per token` });
    await unpatchifyCase({ items: 2, grid: [1, 2, 3], patchSize: [2, 2, 2], outDim: longest, seed: 34, label: `unpatchify ${K.PATCH_MAX_LENGTH} values per token` });
    await patchifyCase({ items: 3, video: [1, 2, 3, 130], patchSize: [1, 1, 1], seed: 35, label: 'patchify 1 value per token' });
    await unpatchifyCase({ items: 3, grid: [2, 3, 130], patchSize: [1, 1, 1], outDim: 1, seed: 36, label: 'unpatchify 1 value per token' });
  });

  test(`the DiT's shape (${SIZE}): CFG's one latent video repeated, two different ones, and the head's output, bit for bit`, async () => {
    const { latents, out } = await patchifyCase({ items: 1, video: LATENTS, patchSize: WAN_PATCH, repeat: 2, seed: 41, label: 'patchify repeat 2' });
    const half = out.shape[0] / 2;
    assertBits(await keep(out.sliceRows(half, half)).download(), await keep(out.sliceRows(0, half)).download(), 'patchify: copy 1 = copy 0');
    await patchifyCase({ items: 2, video: LATENTS, patchSize: WAN_PATCH, seed: 42, label: 'patchify 2 items' });
    const grid = LATENTS.slice(1).map((d, a) => d / WAN_PATCH[a]);
    await unpatchifyCase({ items: 2, grid, patchSize: WAN_PATCH, outDim: LATENTS[0], seed: 43, label: 'unpatchify 2 items' });
    if (SIZE === 'real' && !ON_CPU) {
      const tokens = keep(backend.empty([2 * numel(grid), 64], 'f32'));
      const video = keep(backend.empty([2, ...LATENTS], 'f32'));
      const values = numel(LATENTS);
      const p = await timeUs(() => K.patchify({ latents, patchSize: WAN_PATCH, repeat: 2, out }));
      const u = await timeUs(() => K.unpatchify({ tokens, grid, patchSize: WAN_PATCH, outDim: 16, out: video }));
      // Bytes moved: patchify reads the one video (4 B per value) and writes two BF16 copies; unpatchify 4 + 4 per value, twice.
      console.log(`# 720p patchify (repeat 2): ${p.toFixed(1)} us, ${((values * 8) / p / 1e3).toFixed(0)} GB/s; unpatchify (2 items): ${u.toFixed(1)} us, ${((2 * values * 8) / u / 1e3).toFixed(0)} GB/s`);
    }
  });

  test('16-byte aligned views: outputs written only inside their rows', async () => {
    const host = randomBits(2 * 4 * 2 * 4 * 6, 51);
    const latents = keep(backend.fromArray(host, [2, 4, 2, 4, 6], 'f32'));
    const big = keep(backend.empty([24 + 4, 16], 'bf16').fillBytes(POISON)); // 12 tokens x 2 items, 32-byte rows
    K.patchify({ latents, patchSize: WAN_PATCH, out: keep(big.sliceRows(2, 24)) });
    const all = await big.download();
    assert.ok(all.subarray(0, 32).every((b) => b === 0xffff) && all.subarray(26 * 16).every((b) => b === 0xffff), 'patchify wrote outside the view');
    assertBits(all.subarray(32, 26 * 16), K.patchifyCpu({ latents: host, shape: [2, 4, 2, 4, 6], patchSize: WAN_PATCH }), 'patchify into a view');
    const tokens = keep(backend.fromArray(host, [24, 16], 'f32'));
    const videos = keep(backend.empty([4, 4, 2, 4, 6], 'f32').fillBytes(POISON));
    K.unpatchify({ tokens, grid: [2, 2, 3], patchSize: WAN_PATCH, outDim: 4, out: keep(videos.sliceRows(1, 2)) });
    const words = new Uint32Array((await videos.download()).buffer);
    const item = 4 * 2 * 4 * 6;
    assert.ok(words.subarray(0, item).every((w) => w === 0xffffffff) && words.subarray(3 * item).every((w) => w === 0xffffffff), 'unpatchify wrote outside the view');
    const want = K.unpatchifyCpu({ tokens: host, items: 2, grid: [2, 2, 3], patchSize: WAN_PATCH, outDim: 4 });
    assertBits(words.subarray(item, 3 * item), new Uint32Array(want.buffer), 'unpatchify into a view');
  });
});
