// GPU suite of the Wan-VAE decoder's ops (convIm2col, channelRmsNorm, softmaxRows, clampToPlanar): each CUDA op
// against its CPU twin as the op declares (op.info.exactness): convIm2col and clampToPlanar bit for bit, the norm and
// the softmax per element within the declared tolerance (|cuda - twin| <= atol * magnitude + rtol * |twin|). Outputs
// are poisoned first (0xffff, a BF16 NaN the kernels never write; 0xffffffff for F32), so an element a kernel skips
// fails, and views into larger poisoned tensors check that nothing is written outside.
// Shapes: ragged small cases (odd sides, a channel count off the vector path, zero frames, upsampling, row runs) and
// the decoder's real ones: FPSATTN_GPU_TEST_SIZE=real takes a 720p frame (720 x 1280, C = 96, a 1 GiB chunk of
// columns, the 14,400-key attention rows); medium (default) a 480p-like frame at reduced size; small: for
// compute-sanitizer. Without a usable CUDA device every test is skipped with the reason; FPSATTN_GPU_TEST_ON_CPU=1
// dry-runs the suite's logic on the CPU backend.
// Run: node --test packages/kernels/gpu-test/vae-ops.test.mjs (after npm run build).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as K from '../dist/index.js';
import * as T from '../dist/testing.js';

const ON_CPU = process.env.FPSATTN_GPU_TEST_ON_CPU === '1';
const SIZE = process.env.FPSATTN_GPU_TEST_SIZE ?? (ON_CPU ? 'small' : 'medium');
const SHAPES = {
  // frame: the output frame of a convolution; rows: the pixels one call writes (the decoder's chunk at 1 GiB).
  real: { frame: [720, 1280], channels: 96, rows: 207_126, normRows: 65_536, keys: 14_400, queries: 48 },
  medium: { frame: [240, 416], channels: 96, rows: 40_000, normRows: 16_384, keys: 6_240, queries: 32 },
  small: { frame: [24, 40], channels: 32, rows: 500, normRows: 512, keys: 360, queries: 8 },
}[SIZE];
if (!SHAPES) throw new Error(`FPSATTN_GPU_TEST_SIZE must be real, medium or small, got ${SIZE}`);

const { backend, skipReason } = T.gpuTestBackend({ suite: 'VAE ops GPU suite', dryRun: { device: { name: 'CPU (dry run)' } } });
if (!skipReason) {
  console.log(`# VAE ops GPU suite on ${backend.device.name}, size ${SIZE}`);
  if (!ON_CPU) backend.addon.setSyncCheck?.(process.env.FPSATTN_SYNC_CHECK === '1');
}

const POISON = 0xff;
const tracked = [];
const keep = (t) => (tracked.push(t), t);
after(() => {
  for (const t of tracked) t.dispose();
});

function assertBits(got, want, what) {
  const i = T.bitsEqual(got, want);
  if (i >= 0) {
    const a = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
    const b = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
    assert.fail(`${what}: first differing byte ${i} of ${b.length} (gpu 0x${a[i]?.toString(16)}, cpu 0x${b[i]?.toString(16)})`);
  }
}

function assertAllPoison(bits, what) {
  const i = bits.findIndex((b) => b !== 0xffff);
  assert.equal(i, -1, `${what}: element ${i} outside the output was written`);
}

/** BF16 outputs against the twin within the op's declared tolerance (magnitude per element, or none: 0). */
function assertWithinTolerance(op, got, want, magnitude, what) {
  const { atol, rtol } = op.info.exactness.tolerance;
  let differ = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    if (got[i] === want[i]) continue;
    if (got[i] === 0xffff) assert.fail(`${what}: element ${i} was never written (still poisoned)`);
    differ++;
    const g = K.bf16BitsToFloat32Array(got.subarray(i, i + 1))[0];
    const w = K.bf16BitsToFloat32Array(want.subarray(i, i + 1))[0];
    const bound = atol * (magnitude === null ? 1 : magnitude[i]) + rtol * Math.abs(w);
    const err = Math.abs(g - w);
    if (!(err <= bound)) assert.fail(`${what}: element ${i} = ${g} (0x${got[i].toString(16)}), twin ${w} (0x${want[i].toString(16)}), |diff| ${err} > bound ${bound}`);
    worst = Math.max(worst, err / bound);
  }
  return { differ, worst };
}

/** convIm2col on the device vs the twin, bit for bit, into the middle of a poisoned buffer. */
async function im2colCase({ height, width, channels, kt, kernel, upsample, input, zeroTaps, rowStart, rows, seed, label }) {
  const srcPixels = upsample ? (height / 2) * (width / 2) : height * width;
  const hosts = Array.from({ length: kt }, (_, t) => {
    if (zeroTaps.includes(t)) return null;
    const f = T.randomF32(srcPixels * channels, seed + t, 4);
    return input === 'f32' ? f : K.castToBf16Cpu({ src: f, dtype: 'f32' });
  });
  const frames = hosts.map((h) => (h === null ? null : keep(backend.fromArray(h, [srcPixels, channels], input))));
  const columns = kt * kernel[0] * kernel[1] * channels;
  // The output between two 16-byte guards of a poisoned buffer.
  const guard = 8;
  const buffer = keep(backend.empty([rows * columns + 2 * guard], 'bf16').fillBytes(POISON));
  const out = keep(keep(buffer.sliceRows(guard, rows * columns)).reshape([rows, columns]));
  K.convIm2col({ frames, kernel, height, width, upsample, rowStart, rows, out });
  const got = await buffer.download();
  assertAllPoison(got.subarray(0, guard), `${label} (guard before)`);
  assertAllPoison(got.subarray(guard + rows * columns), `${label} (guard after)`);
  const want = K.convIm2colCpu({ frames: hosts, input, height, width, channels, kh: kernel[0], kw: kernel[1], upsample, rowStart, rows });
  assertBits(got.subarray(guard, guard + rows * columns), want, label);
  console.log(`# ${label}: ${rows} x ${columns} columns bit-identical`);
}

async function normCase({ rows, channels, silu, seed, label }) {
  const rnd = T.seededRandom(seed);
  const xHost = new Float32Array(rows * channels);
  for (let r = 0; r < rows; r++) {
    // Rows of very different scales, and a few all-zero pixels (the 1e-12 floor).
    const spread = r % 97 === 5 ? 0 : 2 ** (rnd() * 16 - 8);
    for (let c = 0; c < channels; c++) xHost[r * channels + c] = (rnd() * 2 - 1) * spread + spread * 0.3;
  }
  const gHost = T.randomF32(channels, seed + 1, 0.5, 1);
  const x = keep(backend.fromArray(xHost, [rows, channels], 'f32'));
  const gamma = keep(backend.fromArray(gHost, [channels], 'f32'));
  const out = keep(backend.empty([rows, channels], 'bf16').fillBytes(POISON));
  K.channelRmsNorm({ x, gamma, silu, out });
  const got = await out.download();
  const magnitude = new Float64Array(rows * channels);
  const want = K.channelRmsNormCpu({ x: xHost, gamma: gHost, rows, channels, silu, magnitude });
  const r = assertWithinTolerance(K.channelRmsNorm, got, want, magnitude, label);
  console.log(`# ${label}: ${r.differ} of ${want.length} elements differ from the twin (1 BF16 ulp), worst ${r.worst.toFixed(3)} of the bound`);
}

async function softmaxCase({ rows, cols, validCols, scale, spread, seed, label }) {
  const xHost = T.randomF32(rows * cols, seed, spread);
  const x = keep(backend.fromArray(xHost, [rows, cols], 'f32'));
  const out = keep(backend.empty([rows, cols], 'bf16').fillBytes(POISON));
  K.softmaxRows({ x, scale, validCols, out });
  const got = await out.download();
  const want = K.softmaxRowsCpu({ x: xHost, rows, cols, validCols, scale: Math.fround(scale) });
  const r = assertWithinTolerance(K.softmaxRows, got, want, null, label);
  console.log(`# ${label}: ${r.differ} of ${want.length} elements differ from the twin (1 BF16 ulp), worst ${r.worst.toFixed(3)} of the bound`);
}

async function planarCase({ rows, cols, channels, outDtype, seed, label }) {
  const xHost = T.randomF32(rows * cols, seed, 1.6);
  const bits = new Uint32Array(xHost.buffer);
  [0x7fc00001, 0xff800000, 0x7f800000, 0x80000000, 0xffc01234].forEach((b, k) => (bits[(k * 7919) % bits.length] = b));
  const x = keep(backend.fromArray(xHost, [rows, cols], 'f32'));
  const out = keep(backend.empty([channels, rows], outDtype).fillBytes(POISON));
  K.clampToPlanar({ x, channels, outDtype, out });
  assertBits(await out.download(), K.clampToPlanarCpu({ x: xHost, rows, cols, channels, lo: -1, hi: 1, output: outDtype }), label);
}

const [H, W] = SHAPES.frame;
const C = SHAPES.channels;

describe(`VAE ops on ${backend?.device?.name ?? 'no device'}`, { skip: skipReason }, () => {
  test('convIm2col: ragged cases bit for bit (odd sides, C off the vector path, zero frames, upsampling, F32 input)', async () => {
    const base = { rowStart: 0, seed: 1 };
    await im2colCase({ ...base, height: 5, width: 7, channels: 8, kt: 3, kernel: [3, 3], upsample: false, input: 'bf16', zeroTaps: [0], rows: 35, label: '3x3x3 5x7 C8, zero frame 0' });
    await im2colCase({ ...base, height: 5, width: 7, channels: 3, kt: 3, kernel: [3, 3], upsample: false, input: 'f32', zeroTaps: [], rows: 35, label: '3x3x3 5x7 C3 f32 (scalar path)' });
    await im2colCase({ ...base, height: 3, width: 5, channels: 16, kt: 3, kernel: [1, 1], upsample: false, input: 'f32', zeroTaps: [0, 1], rows: 15, label: '(3,1,1) f32, two zero frames' });
    await im2colCase({ ...base, height: 6, width: 10, channels: 8, kt: 1, kernel: [3, 3], upsample: true, input: 'f32', zeroTaps: [], rows: 60, label: '1x3x3 upsampled 3x5 -> 6x10' });
    await im2colCase({ ...base, height: 9, width: 11, channels: 24, kt: 3, kernel: [3, 3], upsample: false, input: 'bf16', zeroTaps: [], rowStart: 40, rows: 37, label: 'rows 40..76 of 9x11' });
    await im2colCase({ ...base, height: 1, width: 1, channels: 16, kt: 1, kernel: [1, 1], upsample: false, input: 'f32', zeroTaps: [], rows: 1, label: '1x1x1 of one pixel (a cast)' });
  });

  test(`convIm2col at the decoder's size: ${H} x ${W}, C ${C}, ${SHAPES.rows} rows`, async () => {
    // The last stage's 3x3x3 conv (BF16 norm output, cached frames) and its upsampling conv (F32 residual frames).
    await im2colCase({ height: H, width: W, channels: C, kt: 3, kernel: [3, 3], upsample: false, input: 'bf16', zeroTaps: [], rowStart: H * W - SHAPES.rows, rows: SHAPES.rows, seed: 2, label: `3x3x3 ${H}x${W} C${C}, last rows` });
    await im2colCase({ height: H, width: W, channels: 2 * C, kt: 1, kernel: [3, 3], upsample: true, input: 'f32', zeroTaps: [], rowStart: 0, rows: Math.floor(SHAPES.rows / 2), seed: 3, label: `1x3x3 upsampled to ${H}x${W} C${2 * C}, first rows` });
  });

  test('channelRmsNorm within its declared tolerance (C 384, 192, 96, 32, 3, 13; with and without SiLU)', async () => {
    const n = SHAPES.normRows;
    await normCase({ rows: Math.floor(n / 4), channels: 384, silu: true, seed: 10, label: 'C384 silu' });
    await normCase({ rows: Math.floor(n / 2), channels: 192, silu: true, seed: 11, label: 'C192 silu' });
    await normCase({ rows: n, channels: 96, silu: true, seed: 12, label: 'C96 silu' });
    await normCase({ rows: 333, channels: 384, silu: false, seed: 13, label: 'C384 (attention norm)' });
    await normCase({ rows: 1001, channels: 32, silu: true, seed: 14, label: 'C32 silu' });
    await normCase({ rows: 257, channels: 3, silu: true, seed: 15, label: 'C3 (scalar path)' });
    await normCase({ rows: 77, channels: 13, silu: false, seed: 16, label: 'C13 (scalar path)' });
  });

  test(`softmaxRows within its declared tolerance (${SHAPES.keys} keys padded to a multiple of 8, ragged rows)`, async () => {
    const keys = SHAPES.keys;
    const padded = Math.ceil((keys + 5) / 8) * 8;
    await softmaxCase({ rows: SHAPES.queries, cols: padded, validCols: keys + 5, scale: 1 / Math.sqrt(384), spread: 60, seed: 20, label: `${SHAPES.queries} x ${padded}, ${keys + 5} valid, C 384 scale` });
    await softmaxCase({ rows: 7, cols: 24, validCols: 17, scale: 1 / Math.sqrt(32), spread: 20, seed: 21, label: '7 x 24, 17 valid' });
    await softmaxCase({ rows: 3, cols: 8, validCols: 1, scale: 0.125, spread: 1, seed: 22, label: 'one valid key' });
    await softmaxCase({ rows: 5, cols: 1000, validCols: 999, scale: 1, spread: 200, seed: 23, label: 'large logits (underflowing probabilities)' });
  });

  test('clampToPlanar bit for bit (F32 and BF16 planes, NaN and infinities)', async () => {
    await planarCase({ rows: H * W, cols: 8, channels: 3, outDtype: 'f32', seed: 30, label: `${H}x${W} x 8 -> 3 planes f32` });
    await planarCase({ rows: H * W, cols: 8, channels: 3, outDtype: 'bf16', seed: 31, label: `${H}x${W} x 8 -> 3 planes bf16` });
    await planarCase({ rows: 37, cols: 5, channels: 5, outDtype: 'f32', seed: 32, label: '37 x 5, every column' });
  });
});
