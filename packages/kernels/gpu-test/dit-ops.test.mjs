// GPU suite of the DiT elementwise ops (layerNormModulate, rmsNormRope, gatedResidual, castToBf16): each CUDA op
// against its CPU twin as the op declares (op.info.exactness): the norms per element within the declared tolerance
// (|cuda - twin| <= atol * magnitude + rtol * |twin|, magnitude reported by the twin), gatedResidual and castToBf16 bit
// for bit. Outputs are poisoned first with 0xffff (a BF16 NaN the kernels never write: they write NaN as 0x7fff), so
// an element a kernel skips fails, and views into larger poisoned tensors check that nothing is written outside.
// Shapes: Wan-1.3B's stream [2 x 1560, 1536] (two batch items of a small video) plus ragged and 14B-width cases;
// FPSATTN_GPU_TEST_SIZE=real adds [2 x 75600, 1536] (720p, CFG batch of 2; the twins check head, middle and tail rows
// there, the poison check covers every element). small: for compute-sanitizer. Without a usable CUDA device every test
// is skipped with the reason; FPSATTN_GPU_TEST_ON_CPU=1 dry-runs the suite's logic on the CPU backend.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as K from '../dist/index.js';
import * as T from '../dist/testing.js';

const ON_CPU = process.env.FPSATTN_GPU_TEST_ON_CPU === '1';
const SIZE = process.env.FPSATTN_GPU_TEST_SIZE ?? (ON_CPU ? 'small' : 'medium');
const SHAPES = {
  real: { tokens: 75600, grid: [21, 45, 80], dim: 1536 },
  medium: { tokens: 1560, grid: [4, 15, 26], dim: 1536 },
  small: { tokens: 60, grid: [3, 4, 5], dim: 256 },
}[SIZE];
if (!SHAPES) throw new Error(`FPSATTN_GPU_TEST_SIZE must be real, medium or small, got ${SIZE}`);
const ITEMS = 2;
const HEAD_DIM = 128;
const EPS = 1e-6;

const { backend, skipReason } = T.gpuTestBackend({ suite: 'DiT ops GPU suite', dryRun: { device: { name: 'CPU (dry run)', major: 0, minor: 0 } } });
if (!skipReason) {
  console.log(`# DiT ops GPU suite on ${backend.device.name}, size ${SIZE}: [${ITEMS} x ${SHAPES.tokens}, ${SHAPES.dim}]`);
  if (!ON_CPU) backend.addon.setSyncCheck?.(process.env.FPSATTN_SYNC_CHECK === '1');
}

const POISON = 0xff;
const BF16_POISON = 0xffff;
const tracked = [];
const keep = (t) => (tracked.push(t), t);
after(() => {
  for (const t of tracked) t.dispose();
});

/** Per-row offsets and spreads, so that rows differ in mean and scale (as the residual stream does). */
function streamLike(rows, dim, seed) {
  const rnd = T.seededRandom(seed);
  const out = new Float32Array(rows * dim);
  for (let r = 0; r < rows; r++) {
    const offset = (rnd() * 2 - 1) * 4;
    const spread = 2 ** (rnd() * 6 - 2);
    for (let i = 0; i < dim; i++) out[r * dim + i] = offset + (rnd() * 2 - 1) * spread;
  }
  return out;
}

/** Wan's 3D RoPE table (22/21/21 interleaved pairs at head dim 128, theta 10000), float32 [tokens, headDim / 2]. */
function ropeTables(grid, headDim) {
  const pairs = headDim / 2;
  const third = Math.floor(pairs / 3);
  const axisPairs = [pairs - 2 * third, third, third];
  const inv = [];
  const axis = [];
  axisPairs.forEach((n, a) => {
    for (let k = 0; k < n; k++) {
      inv.push(1 / 10000 ** ((2 * k) / (2 * n)));
      axis.push(a);
    }
  });
  const [F, H, W] = grid;
  const tokens = F * H * W;
  const cos = new Float32Array(tokens * pairs);
  const sin = new Float32Array(tokens * pairs);
  for (let s = 0; s < tokens; s++) {
    const pos = [Math.floor(s / (H * W)), Math.floor(s / W) % H, s % W];
    for (let j = 0; j < pairs; j++) {
      const angle = pos[axis[j]] * inv[j];
      cos[s * pairs + j] = Math.cos(angle);
      sin[s * pairs + j] = Math.sin(angle);
    }
  }
  return { cos, sin, tokens };
}

/** The rows the twin checks: all of them, or head, middle and tail blocks at the real size. */
function checkedRows(rows) {
  if (rows <= 8192) return [[0, rows]];
  const mid = Math.floor(rows / 2) - 512;
  return [[0, 1024], [mid, 1024], [rows - 1024, 1024]];
}

function assertNoPoison(bits, what) {
  const i = bits.indexOf(BF16_POISON);
  assert.equal(i, -1, `${what}: element ${i} was never written (still poisoned)`);
}

/**
 * Compares BF16 outputs with the twin within the op's declared tolerance; returns the largest difference in units of
 * the bound and the count of differing elements (for the log).
 */
function assertWithinTolerance(op, got, want, magnitude, what) {
  const { atol, rtol } = op.info.exactness.tolerance;
  let differ = 0;
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    if (got[i] === want[i]) continue;
    differ++;
    const g = K.bf16BitsToFloat32Array(got.subarray(i, i + 1))[0];
    const w = K.bf16BitsToFloat32Array(want.subarray(i, i + 1))[0];
    const bound = atol * magnitude[i] + rtol * Math.abs(w);
    const err = Math.abs(g - w);
    if (!(err <= bound)) assert.fail(`${what}: element ${i} = ${g} (0x${got[i].toString(16)}), twin ${w} (0x${want[i].toString(16)}), |diff| ${err} > bound ${bound}`);
    worst = Math.max(worst, err / bound);
  }
  return { differ, worst };
}

function assertBits(got, want, what) {
  const i = T.bitsEqual(got, want);
  if (i >= 0) {
    const a = new Uint8Array(got.buffer, got.byteOffset, got.byteLength);
    const b = new Uint8Array(want.buffer, want.byteOffset, want.byteLength);
    assert.fail(`${what}: first differing byte ${i} of ${b.length} (gpu 0x${a[i]?.toString(16)}, cpu 0x${b[i]?.toString(16)})`);
  }
}

/** layerNormModulate on device vs the twin on the checked rows. */
async function layerNormCase({ rows, dim, rowsPerItem, affine, modulate, seed, label }) {
  const xHost = streamLike(rows, dim, seed);
  const items = rows / rowsPerItem;
  const host = {
    weight: affine ? T.randomF32(dim, seed + 1, 0.5, 1) : null,
    bias: affine ? T.randomF32(dim, seed + 2, 0.5) : null,
    shift: modulate ? T.randomF32(items * dim, seed + 3, 0.5) : null,
    scale: modulate ? T.randomF32(items * dim, seed + 4, 0.5) : null,
  };
  const dev = (a, shape) => (a === null ? null : keep(backend.fromArray(a, shape, 'f32')));
  const x = keep(backend.fromArray(xHost, [rows, dim], 'f32', { name: 'x' }));
  const out = keep(backend.empty([rows, dim], 'bf16').fillBytes(POISON));
  K.layerNormModulate({ x, rowsPerItem, eps: EPS, weight: dev(host.weight, [dim]), bias: dev(host.bias, [dim]), shift: dev(host.shift, [items, dim]), scale: dev(host.scale, [items, dim]), out });
  const got = await out.download();
  assertNoPoison(got, label);
  let differ = 0;
  let worst = 0;
  for (const [start, count] of checkedRows(rows)) {
    // The twin on rows [start, start + count) with one item per row: each row's shift/scale row gathered.
    const perRow = (a) => {
      if (a === null) return null;
      const rowsOf = new Float32Array(count * dim);
      for (let k = 0; k < count; k++) {
        const item = Math.floor((start + k) / rowsPerItem);
        rowsOf.set(a.subarray(item * dim, (item + 1) * dim), k * dim);
      }
      return rowsOf;
    };
    const magnitude = new Float64Array(count * dim);
    const want = K.layerNormModulateCpu({ x: xHost.subarray(start * dim, (start + count) * dim), rows: count, dim, rowsPerItem: 1, eps: EPS, weight: host.weight, bias: host.bias, shift: perRow(host.shift), scale: perRow(host.scale), magnitude });
    const r = assertWithinTolerance(K.layerNormModulate, got.subarray(start * dim, (start + count) * dim), want, magnitude, `${label} rows ${start}..`);
    differ += r.differ;
    worst = Math.max(worst, r.worst);
  }
  console.log(`# ${label}: ${differ} elements differ from the twin (1 BF16 ulp), worst ${worst.toFixed(3)} of the bound`);
}

/** rmsNormRope on device vs the twin on the checked rows (rows are whole items of `tokens` rows when rope is on). */
async function rmsCase({ rows, dim, input, rope, seed, label }) {
  const xF32 = streamLike(rows, dim, seed);
  const xHost = input === 'bf16' ? K.castToBf16Cpu({ src: xF32, dtype: 'f32' }) : xF32;
  const wHost = T.randomF32(dim, seed + 1, 0.5, 1);
  const x = keep(backend.fromArray(xHost, [rows, dim], input, { name: 'q' }));
  const weight = keep(backend.fromArray(wHost, [dim], 'f32'));
  const ropeDev = rope ? { cos: keep(backend.fromArray(rope.cos, [rope.tokens, rope.headDim / 2], 'f32')), sin: keep(backend.fromArray(rope.sin, [rope.tokens, rope.headDim / 2], 'f32')), headDim: rope.headDim } : null;
  const out = keep(backend.empty([rows, dim], 'bf16').fillBytes(POISON));
  K.rmsNormRope({ x, weight, eps: EPS, rope: ropeDev, out });
  const got = await out.download();
  assertNoPoison(got, label);
  let differ = 0;
  let worst = 0;
  for (const [start, count] of checkedRows(rows)) {
    // Twin rows [start, start + count) with the table shifted so that its row 0 is token start % tokens.
    const tokens = rope ? rope.tokens : 1;
    const t0 = start % tokens;
    const half = rope ? rope.headDim / 2 : 0;
    const rot = (a) => {
      const r = new Float32Array(a.length);
      r.set(a.subarray(t0 * half));
      r.set(a.subarray(0, t0 * half), a.length - t0 * half);
      return r;
    };
    const ropeCpu = rope ? { cos: rot(rope.cos), sin: rot(rope.sin), headDim: rope.headDim, tokens } : null;
    const magnitude = new Float64Array(count * dim);
    // The twin wants rows % tokens == 0 only through its indexing (r % tokens): any row count works there.
    const want = K.rmsNormRopeCpu({ x: xHost.subarray(start * dim, (start + count) * dim), rows: count, dim, weight: wHost, eps: EPS, rope: ropeCpu, magnitude });
    const r = assertWithinTolerance(K.rmsNormRope, got.subarray(start * dim, (start + count) * dim), want, magnitude, `${label} rows ${start}..`);
    differ += r.differ;
    worst = Math.max(worst, r.worst);
  }
  console.log(`# ${label}: ${differ} elements differ from the twin (1 BF16 ulp), worst ${worst.toFixed(3)} of the bound`);
}

/** gatedResidual on device vs the twin, bit for bit, every element. */
async function residualCase({ rows, dim, rowsPerItem, yDtype, gated, seed, label }) {
  const xHost = streamLike(rows, dim, seed);
  const yF32 = T.randomF32(rows * dim, seed + 1, 3);
  const yHost = yDtype === 'bf16' ? K.castToBf16Cpu({ src: yF32, dtype: 'f32' }) : yF32;
  const gHost = gated ? T.randomF32((rows / rowsPerItem) * dim, seed + 2, 1.5) : null;
  const x = keep(backend.fromArray(xHost, [rows, dim], 'f32', { name: 'x' }));
  const y = keep(backend.fromArray(yHost, [rows, dim], yDtype));
  const gate = gHost === null ? null : keep(backend.fromArray(gHost, [rows / rowsPerItem, dim], 'f32'));
  K.gatedResidual({ x, y, gate, rowsPerItem });
  const got = await x.download();
  const want = K.gatedResidualCpu({ x: xHost, y: yHost, gate: gHost, rows, dim, rowsPerItem });
  assertBits(got, want, label);
}

/** Random bit patterns of every code (NaN, infinities and subnormals included) for each source dtype. */
function randomCodes(dtype, n, seed) {
  const rnd = T.seededRandom(seed);
  if (dtype === 'e4m3' || dtype === 'e5m2') return Uint8Array.from({ length: n }, () => Math.floor(rnd() * 256));
  if (dtype === 'f16' || dtype === 'bf16') return Uint16Array.from({ length: n }, () => Math.floor(rnd() * 65536));
  const u = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    // Mostly finite values across the float32 range, with NaN/inf/subnormal/overflow-to-BF16-inf patterns mixed in.
    const kind = rnd();
    if (kind < 0.01) u[i] = [0x7f800000, 0xff800000, 0x7fc00001, 0xffbfffff, 0x7f7fffff, 0x00000001, 0x807fffff][Math.floor(rnd() * 7)];
    else u[i] = Math.floor(rnd() * 4294967296);
  }
  return new Float32Array(u.buffer);
}

async function castCase({ dtype, count, scale, seed, label }) {
  const srcHost = randomCodes(dtype, count, seed);
  const src = keep(backend.fromArray(srcHost, [count], dtype));
  const out = keep(backend.empty([count], 'bf16').fillBytes(POISON));
  K.castToBf16({ src, scale, out });
  const got = await out.download();
  assertBits(got, K.castToBf16Cpu({ src: srcHost, dtype, scale: scale ?? null }), label);
}

/** The fused residual (layerNormModulate with `residual`) against gatedResidual then layerNormModulate on CUDA: the
 * updated stream and the normed output bit for bit (the same float32 steps in the same order). */
async function fusedResidualCase({ rows, dim, rowsPerItem, yDtype, gated, seed, label }) {
  const items = rows / rowsPerItem;
  const xHost = streamLike(rows, dim, seed);
  // BF16 y: the top halves of random float32 bit patterns (truncation is fine for inputs).
  const f = T.randomF32(rows * dim, seed + 1, 0.5);
  const yHost = yDtype === 'f32' ? f : Uint16Array.from(new Uint32Array(f.buffer), (u) => u >>> 16);
  const gHost = gated ? T.randomF32(items * dim, seed + 2, 0.5, 1) : null;
  const shift = keep(backend.fromArray(T.randomF32(items * dim, seed + 3, 0.5), [items, dim], 'f32'));
  const scale = keep(backend.fromArray(T.randomF32(items * dim, seed + 4, 0.5), [items, dim], 'f32'));
  const y = keep(backend.fromArray(yHost, [rows, dim], yDtype));
  const gate = gHost === null ? null : keep(backend.fromArray(gHost, [items, dim], 'f32'));
  const [xFused, xRef] = [0, 1].map(() => keep(backend.fromArray(xHost, [rows, dim], 'f32')));
  const [outFused, outRef] = [0, 1].map(() => keep(backend.empty([rows, dim], 'bf16').fillBytes(POISON)));
  K.layerNormModulate({ x: xFused, rowsPerItem, eps: EPS, shift, scale, residual: { y, gate }, out: outFused });
  K.gatedResidual({ x: xRef, y, gate, rowsPerItem });
  K.layerNormModulate({ x: xRef, rowsPerItem, eps: EPS, shift, scale, out: outRef });
  assertBits(await xFused.download(), await xRef.download(), `${label} (stream)`);
  assertBits(await outFused.download(), await outRef.download(), `${label} (normed)`);
}

const opts = { skip: skipReason };
const ROWS = ITEMS * SHAPES.tokens;
const DIM = SHAPES.dim;

describe(`DiT ops on CUDA vs their CPU twins (${SIZE})`, opts, () => {
  test('layerNormModulate: norm1/norm2 (modulated), norm3 (affine), head norm (plain) at the stream shape', async () => {
    await layerNormCase({ rows: ROWS, dim: DIM, rowsPerItem: SHAPES.tokens, affine: false, modulate: true, seed: 101, label: 'LN modulated' });
    await layerNormCase({ rows: ROWS, dim: DIM, rowsPerItem: SHAPES.tokens, affine: true, modulate: false, seed: 102, label: 'LN affine' });
    await layerNormCase({ rows: ROWS, dim: DIM, rowsPerItem: SHAPES.tokens, affine: false, modulate: false, seed: 103, label: 'LN plain' });
  });

  test('layerNormModulate: ragged dims (scalar path), 14B width (4 packs per thread), one row per item', async () => {
    await layerNormCase({ rows: 38, dim: 100, rowsPerItem: 19, affine: true, modulate: true, seed: 104, label: 'LN dim 100' });
    await layerNormCase({ rows: 12, dim: 5120, rowsPerItem: 6, affine: true, modulate: true, seed: 105, label: 'LN dim 5120' });
    await layerNormCase({ rows: 7, dim: 13, rowsPerItem: 1, affine: false, modulate: true, seed: 106, label: 'LN dim 13' });
    await layerNormCase({ rows: 3, dim: 16384, rowsPerItem: 3, affine: true, modulate: false, seed: 107, label: 'LN dim 16384 (the limit)' });
  });

  test('rmsNormRope: q/k with Wan 3D RoPE (bf16 and f32 input), and without rope (cross-attention)', async () => {
    const rope = { ...ropeTables(SHAPES.grid, HEAD_DIM), headDim: HEAD_DIM };
    await rmsCase({ rows: ROWS, dim: DIM, input: 'bf16', rope, seed: 201, label: 'RMS+RoPE bf16' });
    await rmsCase({ rows: ROWS, dim: DIM, input: 'f32', rope, seed: 202, label: 'RMS+RoPE f32' });
    await rmsCase({ rows: ROWS, dim: DIM, input: 'bf16', rope: null, seed: 203, label: 'RMS bf16 (no rope)' });
  });

  test('rmsNormRope: ragged head dim (scalar path), 14B width, odd dim without rope', async () => {
    const r6 = ropeTables([1, 2, 3], 6);
    await rmsCase({ rows: 12, dim: 36, input: 'f32', rope: { ...r6, headDim: 6 }, seed: 204, label: 'RMS+RoPE hd 6' });
    const r128 = ropeTables([2, 2, 2], 128);
    await rmsCase({ rows: 16, dim: 5120, input: 'bf16', rope: { ...r128, headDim: 128 }, seed: 205, label: 'RMS+RoPE dim 5120' });
    await rmsCase({ rows: 5, dim: 77, input: 'bf16', rope: null, seed: 206, label: 'RMS dim 77' });
    const r4 = ropeTables([1, 1, 3], 4);
    await rmsCase({ rows: 6, dim: 12, input: 'f32', rope: { ...r4, headDim: 4 }, seed: 207, label: 'RMS+RoPE hd 4 (pairs across packs)' });
  });

  test('layerNormModulate with the fused residual = gatedResidual then layerNormModulate, bit for bit', async () => {
    await fusedResidualCase({ rows: ROWS, dim: DIM, rowsPerItem: SHAPES.tokens, yDtype: 'bf16', gated: true, seed: 401, label: 'fused gated bf16' });
    await fusedResidualCase({ rows: ROWS, dim: DIM, rowsPerItem: SHAPES.tokens, yDtype: 'bf16', gated: false, seed: 402, label: 'fused ungated bf16' });
    await fusedResidualCase({ rows: 40, dim: 100, rowsPerItem: 8, yDtype: 'f32', gated: true, seed: 403, label: 'fused dim 100 f32' });
  });

  test('gatedResidual: gated with bf16 y, ungated with f32 y, bit for bit', async () => {
    await residualCase({ rows: ROWS, dim: DIM, rowsPerItem: SHAPES.tokens, yDtype: 'bf16', gated: true, seed: 301, label: 'residual gated bf16' });
    await residualCase({ rows: ROWS, dim: DIM, rowsPerItem: SHAPES.tokens, yDtype: 'f32', gated: false, seed: 302, label: 'residual f32' });
  });

  test('gatedResidual: ragged dims (scalar path), rows spanning several blocks per item', async () => {
    await residualCase({ rows: 40, dim: 13, rowsPerItem: 8, yDtype: 'bf16', gated: true, seed: 303, label: 'residual dim 13' });
    await residualCase({ rows: 9, dim: 5120, rowsPerItem: 3, yDtype: 'f32', gated: true, seed: 304, label: 'residual dim 5120' });
    await residualCase({ rows: 1000, dim: 8, rowsPerItem: 250, yDtype: 'bf16', gated: true, seed: 305, label: 'residual dim 8' });
  });

  test('castToBf16: every source dtype, all bit patterns, with and without scale, ragged counts', async () => {
    const n = SIZE === 'small' ? 40_003 : 1_000_003; // not a multiple of 16: the tail path runs
    for (const dtype of ['f32', 'f16', 'bf16', 'e4m3', 'e5m2']) {
      await castCase({ dtype, count: n, seed: 401, label: `cast ${dtype}` });
      await castCase({ dtype, count: n, scale: 0.0371, seed: 402, label: `cast ${dtype} x 0.0371` });
    }
    await castCase({ dtype: 'e4m3', count: 15, scale: 3.5, seed: 403, label: 'cast 15 elements (tail only)' });
    await castCase({ dtype: 'f32', count: 1536 * 8960, seed: 404, label: 'cast f32 FFN weight 1536 x 8960' });
  });

  test('16-byte aligned views: outputs written only inside their rows', async () => {
    const rows = 10;
    const dim = 24; // 48-byte bf16 rows: views start at multiples of 16 bytes that 256 does not divide
    const xHost = streamLike(rows, dim, 501);
    const x = keep(backend.fromArray(xHost, [rows, dim], 'f32'));
    const big = keep(backend.empty([rows + 2, dim], 'bf16').fillBytes(POISON));
    const view = keep(big.sliceRows(1, rows));
    K.layerNormModulate({ x, rowsPerItem: rows, eps: EPS, out: view });
    const all = await big.download();
    assert.ok(all.subarray(0, dim).every((b) => b === BF16_POISON) && all.subarray((rows + 1) * dim).every((b) => b === BF16_POISON), 'wrote outside the view');
    const weight = keep(backend.fromArray(T.randomF32(dim, 502, 0.5, 1), [dim], 'f32'));
    K.rmsNormRope({ x: keep(x.sliceRows(2, 4)), weight, eps: EPS, out: keep(big.sliceRows(2, 4)) });
    const after = await big.download();
    assert.ok(after.subarray(0, dim).every((b) => b === BF16_POISON), 'rmsNormRope wrote outside its view');
  });
});
