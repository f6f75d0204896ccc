// GPU suite of attentionForward with a separate key geometry (cross-attention: Lq != Lk, `keyBlockValidRows`): the
// CUDA kernel against the same call on the CPU backend (the float64 twin of the kernel's math, reference.ts), for BF16
// and E4M3 with per-row and per-block K scales, dense and per-head block lists over the key blocks. Outputs are
// poisoned (0xff bytes = BF16 NaN) before every run; padding query rows must be exactly 0 and no NaN may remain.
// Tolerance: the harness's (native/test/attention/harness.cu) relative L2 against the twin, 2e-2 for E4M3 (the FP8
// WGMMA accumulator of S = Q K^T; attentionForward.info.exactness) and 1e-2 for BF16. Also: keys given with the queries'
// own geometry run the self-attention path and give its output bit for bit.
// Needs the built dist/ of fp8 and kernels and the .node. Run: node --test gpu-test/attention-keys.test.mjs
// FPSATTN_GPU_TEST_SIZE=small (default) | medium (adds 4,000 queries x 512 keys); without a usable CUDA device every
// test is skipped with the reason; FPSATTN_GPU_TEST_ON_CPU=1 dry-runs the suite's logic on the CPU backend.
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { encodeFp8Array, float32ToBf16Bits } from '@fpsattn/fp8';
import * as K from '../dist/index.js';
import * as T from '../dist/testing.js';

const ON_CPU = process.env.FPSATTN_GPU_TEST_ON_CPU === '1';
const SIZE = process.env.FPSATTN_GPU_TEST_SIZE ?? 'small';
if (SIZE !== 'small' && SIZE !== 'medium') throw new Error(`FPSATTN_GPU_TEST_SIZE must be small or medium, got ${SIZE}`);
const R = 128;
const HEAD_DIM = 128;

const { backend: gpu, skipReason } = T.gpuTestBackend({ suite: 'attention-keys GPU suite', dryRun: true });
const cpu = new K.CpuBackend();
const tracked = [];
const keep = (t) => (tracked.push(t), t);
after(() => {
  for (const t of tracked) t.dispose();
});

const packed = (n) => Array.from({ length: Math.ceil(n / R) }, (_, b) => Math.min(R, n - b * R));

/** N(0, 1) rows [batch, blocks * 128, cols]; padding rows hold large garbage (the kernel must mask padded keys). K
 * gets 20-50x outlier channels. */
function floatRows(batch, valid, cols, seed, { outliers = false, garbage = 50 } = {}) {
  const rnd = T.seededRandom(seed);
  const gauss = () => Math.sqrt(-2 * Math.log(Math.max(rnd(), 1e-300))) * Math.cos(2 * Math.PI * rnd());
  const npad = valid.length * R;
  const x = new Float32Array(batch * npad * cols);
  for (let b = 0; b < batch; b++)
    for (let r = 0; r < npad; r++) {
      const pad = r % R >= valid[Math.floor(r / R)];
      for (let c = 0; c < cols; c++) {
        let v = gauss() * (pad ? garbage : 1);
        if (outliers && !pad && c % HEAD_DIM === 5) v = v * 25 + 20;
        if (outliers && !pad && c % HEAD_DIM === 101) v *= 50;
        x[(b * npad + r) * cols + c] = v;
      }
    }
  return x;
}

/** E4M3 codes of x with one scale per (batch, head, row) (`perBlock`: per (batch, head, 128-row block), max over the
 * block's valid rows); scales as [batch, heads, npad] or [batch, heads, blocks]. */
function quantizeRowsHost(x, batch, heads, valid, perBlock) {
  const npad = valid.length * R;
  const cols = heads * HEAD_DIM;
  const codes = new Uint8Array(x.length);
  const scales = new Float32Array(batch * heads * (perBlock ? valid.length : npad));
  const amaxRow = (b, h, r) => {
    let m = 0;
    for (let c = 0; c < HEAD_DIM; c++) m = Math.max(m, Math.abs(x[(b * npad + r) * cols + h * HEAD_DIM + c]));
    return m;
  };
  for (let b = 0; b < batch; b++)
    for (let h = 0; h < heads; h++)
      for (let blk = 0; blk < valid.length; blk++) {
        let blockAmax = 0;
        for (let i = 0; i < valid[blk]; i++) blockAmax = Math.max(blockAmax, amaxRow(b, h, blk * R + i));
        if (perBlock) scales[(b * heads + h) * valid.length + blk] = blockAmax > 0 ? blockAmax / 448 : 1;
        for (let i = 0; i < R; i++) {
          const r = blk * R + i;
          const amax = perBlock ? blockAmax : amaxRow(b, h, r);
          const s = Math.fround(amax > 0 ? amax / 448 : 1);
          if (!perBlock) scales[(b * heads + h) * npad + r] = s;
          const at = (b * npad + r) * cols + h * HEAD_DIM;
          const row = new Float32Array(HEAD_DIM);
          for (let c = 0; c < HEAD_DIM; c++) row[c] = x[at + c] / s;
          codes.set(encodeFp8Array({ input: row, format: 'e4m3' }), at);
        }
      }
  return { codes, scales };
}

/** V^T E4M3 codes [batch, cols, stride] with per-channel scales [batch, cols] over the valid key rows. */
function quantizeVHost(v, batch, cols, valid, stride) {
  const npad = valid.length * R;
  const codes = new Uint8Array(batch * cols * stride).fill(0x7e); // garbage past the key rows
  const scales = new Float32Array(batch * cols);
  for (let b = 0; b < batch; b++)
    for (let c = 0; c < cols; c++) {
      let m = 0;
      for (let r = 0; r < npad; r++) if (r % R < valid[Math.floor(r / R)]) m = Math.max(m, Math.abs(v[(b * npad + r) * cols + c]));
      const s = Math.fround(m > 0 ? m / 448 : 1);
      scales[b * cols + c] = s;
      const col = new Float32Array(npad);
      for (let r = 0; r < npad; r++) col[r] = v[(b * npad + r) * cols + c] / s;
      codes.set(encodeFp8Array({ input: col, format: 'e4m3' }), (b * cols + c) * stride);
    }
  return { codes, scales };
}

const bf16Bits = (x) => Uint16Array.from(x, (v) => float32ToBf16Bits(v));

/** Host operands of one case, uploaded per backend by `tensors(be)`. */
function makeCase(c) {
  const cols = c.heads * HEAD_DIM;
  const q = floatRows(c.batch, c.queries, cols, c.seed);
  const k = floatRows(c.batch, c.keys, cols, c.seed + 1, { outliers: true });
  const v = floatRows(c.batch, c.keys, cols, c.seed + 2, { garbage: 100 });
  const npad = c.queries.length * R;
  const keyNpad = c.keys.length * R;
  const fp8 = c.dtype === 'e4m3';
  const stride = keyNpad + 16;
  const host = fp8
    ? {
        q: quantizeRowsHost(q, c.batch, c.heads, c.queries, false),
        k: quantizeRowsHost(k, c.batch, c.heads, c.keys, c.kScales === 'block'),
        v: quantizeVHost(v, c.batch, cols, c.keys, stride),
      }
    : { q: bf16Bits(q), k: bf16Bits(k), v: bf16Bits(v) };
  const tensors = (be, { separateKeys = true } = {}) => {
    const t = (a, shape, dtype) => keep(be.fromArray(a, shape, dtype));
    const common = {
      blockValidRows: t(Int32Array.from(c.queries), [c.queries.length], 'i32'),
      ...(separateKeys ? { keyBlockValidRows: t(Int32Array.from(c.keys), [c.keys.length], 'i32') } : {}),
      ...(c.lists
        ? {
            rowPtr: t(Int32Array.from(c.lists.rowPtr), [c.lists.rowPtr.length / (c.queries.length + 1), c.queries.length + 1], 'i32'),
            colIdx: t(Int32Array.from(c.lists.colIdx), [c.lists.colIdx.length], 'i32'),
          }
        : {}),
      headDim: HEAD_DIM,
      out: keep(be.fromArray(new Uint16Array(c.batch * npad * cols).fill(0xffff), [c.batch, npad, cols], 'bf16')),
    };
    if (!fp8) return { ...common, q: t(host.q, [c.batch, npad, cols], 'bf16'), k: t(host.k, [c.batch, keyNpad, cols], 'bf16'), v: t(host.v, [c.batch, keyNpad, cols], 'bf16') };
    return {
      ...common,
      q: t(host.q.codes, [c.batch, npad, cols], 'e4m3'),
      k: t(host.k.codes, [c.batch, keyNpad, cols], 'e4m3'),
      v: t(host.v.codes, [c.batch, cols, stride], 'e4m3'),
      qScale: t(host.q.scales, [c.batch, c.heads, npad], 'f32'),
      ...(c.kScales === 'block' ? { kBlockScale: t(host.k.scales, [c.batch, c.heads, c.keys.length], 'f32') } : { kScale: t(host.k.scales, [c.batch, c.heads, keyNpad], 'f32') }),
      vScale: t(host.v.scales, [c.batch, cols], 'f32'),
    };
  };
  return { cols, npad, keyNpad, tensors };
}

const CASES = [
  { label: 'bf16 B2 H2 300q x 16k dense', dtype: 'bf16', batch: 2, heads: 2, queries: packed(300), keys: packed(16), seed: 10 },
  { label: 'e4m3 per-row K B2 H2 300q x 16k dense', dtype: 'e4m3', kScales: 'row', batch: 2, heads: 2, queries: packed(300), keys: packed(16), seed: 20 },
  { label: 'e4m3 per-row K B2 H2 1000q x 200k dense', dtype: 'e4m3', kScales: 'row', batch: 2, heads: 2, queries: packed(1000), keys: packed(200), seed: 30 },
  { label: 'e4m3 per-block K B2 H2 1000q x 200k dense', dtype: 'e4m3', kScales: 'block', batch: 2, heads: 2, queries: packed(1000), keys: packed(200), seed: 40 },
  { label: 'bf16 B2 H2 1000q x 200k dense', dtype: 'bf16', batch: 2, heads: 2, queries: packed(1000), keys: packed(200), seed: 50 },
  {
    // 2 query blocks, 5 key blocks (one without a valid row, a ragged and a short one); per-head lists, one empty
    label: 'e4m3 per-block K B1 H2 200q x 5 key blocks, per-head lists',
    dtype: 'e4m3',
    kScales: 'block',
    batch: 1,
    heads: 2,
    queries: packed(200),
    keys: [128, 0, 77, 16, 128],
    lists: { rowPtr: [0, 3, 5, 5, 5, 9], colIdx: [0, 1, 4, 2, 3, 0, 1, 2, 4] }, // head 0: [0,1,4] [2,3]; head 1: [] [0,1,2,4]
    seed: 60,
  },
  { label: 'bf16 B1 H2 200q x 5 key blocks, per-head lists', dtype: 'bf16', batch: 1, heads: 2, queries: packed(200), keys: [128, 0, 77, 16, 128], lists: { rowPtr: [0, 3, 5, 5, 5, 9], colIdx: [0, 1, 4, 2, 3, 0, 1, 2, 4] }, seed: 70 },
  ...(SIZE === 'medium'
    ? [
        { label: 'e4m3 per-block K B1 H2 4000q x 512k dense', dtype: 'e4m3', kScales: 'block', batch: 1, heads: 2, queries: packed(4000), keys: packed(512), seed: 80 },
        { label: 'bf16 B1 H2 4000q x 512k dense', dtype: 'bf16', batch: 1, heads: 2, queries: packed(4000), keys: packed(512), seed: 90 },
      ]
    : []),
];

const opts = { skip: skipReason };

describe(`attentionForward with separate keys on CUDA vs the float64 twin (${SIZE})`, opts, () => {
  for (const c of CASES) {
    test(c.label, async () => {
      const k = makeCase(c);
      const got = K.bf16BitsToFloat32Array(await K.attentionForward(k.tensors(gpu)).download());
      const want = K.bf16BitsToFloat32Array(await K.attentionForward(k.tensors(cpu)).download());
      let nan = 0;
      let badPad = 0;
      let errSq = 0;
      let refSq = 0;
      for (let i = 0; i < got.length; i++) {
        const row = Math.floor(i / k.cols) % k.npad;
        const pad = row % R >= c.queries[Math.floor(row / R)];
        if (Number.isNaN(got[i])) nan++;
        if (pad && !Object.is(got[i], 0)) badPad++;
        errSq += (got[i] - want[i]) ** 2;
        refSq += want[i] ** 2;
      }
      const relL2 = Math.sqrt(errSq / refSq);
      const tol = c.dtype === 'e4m3' ? 2e-2 : 1e-2;
      console.log(`# ${c.label}: relative L2 vs twin ${relL2.toExponential(3)} (tol ${tol}), nan ${nan}, bad padding ${badPad}`);
      assert.equal(nan, 0, 'NaN left in the output (poisoned before the run)');
      assert.equal(badPad, 0, 'padding query rows must be exactly 0');
      assert.ok(refSq > 0, 'the twin gave an all-zero output');
      assert.ok(relL2 <= tol, `relative L2 ${relL2.toExponential(3)} > ${tol}`);
    });
  }

  test('keys given with the queries\' own geometry give the self-attention output bit for bit', async () => {
    for (const dtype of ['bf16', 'e4m3']) {
      const c = { dtype, kScales: 'row', batch: 2, heads: 2, queries: packed(300), keys: packed(300), seed: 100 };
      const k = makeCase(c);
      const explicit = await K.attentionForward(k.tensors(gpu)).download();
      const self = await K.attentionForward(k.tensors(gpu, { separateKeys: false })).download();
      assert.deepEqual(explicit, self, `${dtype}: separate keys equal to the queries' geometry changed the output`);
    }
  });
});
