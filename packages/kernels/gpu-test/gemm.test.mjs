// GPU suite of gemm (cuBLASLt, loaded by the addon at run time): the CUDA op against its float64 CPU twin, per element
// within the op's declared tolerance (gemm.info.exactness: |cuda - twin| <= atol * magnitude * slope + rtol * |twin|),
// plus a relative-L2 sanity bound per case. Outputs are poisoned first, so an element cuBLASLt never writes fails.
// M is ragged on purpose (1000, 334, 38: not multiples of 16, 64 or 128, so every kernel cuBLASLt picks has partial
// tiles; even, so that the batched case can split it in two).
// The twin runs on a subset of rows (head, middle, tail) to keep the CPU side to seconds at the real size. The strided
// batch (w [B, N, K]) runs at the umT5 encoder's per-head shapes (64 heads of 64 at 512 tokens at the real size).
// Sizes: FPSATTN_GPU_TEST_SIZE=real (M 1000, K 1536, N 8960: Wan-1.3B's FFN up; and its FFN down) | medium | small.
// Without a usable CUDA device every test is skipped with the reason; without cuBLASLt the suite fails, saying where
// the addon looked. FPSATTN_GPU_TEST_ON_CPU=1 dry-runs the suite's logic on the CPU backend (small unless set).
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import * as K from '../dist/index.js';
import * as T from '../dist/testing.js';

const ON_CPU = process.env.FPSATTN_GPU_TEST_ON_CPU === '1';
const SIZE = process.env.FPSATTN_GPU_TEST_SIZE ?? (ON_CPU ? 'small' : 'real');
const SHAPES = {
  real: { m: 1000, k: 1536, n: 8960 },
  medium: { m: 334, k: 256, n: 512 },
  small: { m: 38, k: 64, n: 48 },
}[SIZE];
if (!SHAPES) throw new Error(`FPSATTN_GPU_TEST_SIZE must be real, medium or small, got ${SIZE}`);
const { m: M, k: KDIM, n: N } = SHAPES;

const { backend, skipReason } = T.gpuTestBackend({ suite: 'gemm GPU suite', dryRun: { device: { name: 'CPU (dry run)', major: 0, minor: 0 } } });
if (!skipReason) {
  console.log(`# gemm GPU suite on ${backend.device.name}, size ${SIZE}: M ${M}, K ${KDIM}, N ${N}`);
  if (!ON_CPU) {
    const lt = K.cublasLtStatus();
    console.log(`# cuBLASLt: ${lt?.loaded ? `${lt.versionString} from ${lt.path} (${lt.source})` : `not loaded: ${lt?.error ?? 'no loader in the addon'}`}`);
  }
}

const POISON = 0xab;
const GELU_SLOPE = 1.13; // the largest slope of tanh-GELU (about 1.129 at v = 2.4): errors before it grow at most that much
const tracked = [];
const keep = (t) => (tracked.push(t), t);
after(() => {
  for (const t of tracked) t.dispose();
});

/** Random E4M3 codes: every finite nonzero magnitude, random sign (no NaN 0x7f/0xff, no zero). */
function randomE4m3(length, seed) {
  const rnd = T.seededRandom(seed);
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    let c = Math.floor(rnd() * 256);
    if ((c & 0x7f) === 0x7f || (c & 0x7f) === 0) c = 0x38;
    out[i] = c;
  }
  return out;
}

/** The rows the twin checks: head, middle and the ragged tail (all rows when there are few). */
function checkedRows(m) {
  if (m <= 96) return [[0, m]];
  const mid = Math.floor(m / 2) - 8;
  return [[0, 32], [mid, 16], [m - 40, 40]];
}

const values = (a, dtype) => (dtype === 'bf16' ? K.bf16BitsToFloat32Array(a) : a);

/**
 * Runs the twin on `rows` of x and compares the device output there: per element within the declared tolerance, and
 * the relative L2 error of the block within `relL2`.
 */
function assertWithinTolerance(c, yHost, what) {
  const { atol, rtol } = K.gemm.info.exactness.tolerance;
  const slope = c.activation === 'gelu' ? GELU_SLOPE : 1;
  let errSq = 0;
  let refSq = 0;
  for (const [start, count] of checkedRows(c.m)) {
    const magnitude = new Float64Array(count * c.n);
    const want = K.gemmCpu({
      x: c.xHost.subarray(start * c.k, (start + count) * c.k),
      w: c.wHost, m: count, n: c.n, k: c.k, input: c.input, output: c.output,
      bias: c.biasHost ?? null, activation: c.activation, xScale: c.xScaleValue, wScale: c.wScaleValue, magnitude,
    });
    const got = values(yHost.subarray(start * c.n, (start + count) * c.n), c.output);
    const ref = values(want, c.output);
    for (let i = 0; i < ref.length; i++) {
      const g = got[i];
      const r = ref[i];
      const err = Math.abs(g - r);
      const bound = atol * magnitude[i] * slope + rtol * Math.abs(r);
      if (!(err <= bound)) {
        const row = start + Math.floor(i / c.n);
        assert.fail(`${what}: y[${row}, ${i % c.n}] = ${g}, twin ${r}, |diff| ${err} > bound ${bound} (magnitude ${magnitude[i]})`);
      }
      errSq += err * err;
      refSq += r * r;
    }
  }
  const relL2 = Math.sqrt(errSq / refSq);
  assert.ok(relL2 <= c.relL2, `${what}: relative L2 ${relL2.toExponential(3)} > ${c.relL2.toExponential(3)}`);
  return relL2;
}

/** One case: inputs uploaded, output poisoned, gemm run, compared; returns the output tensor (kept). */
async function runCase(c) {
  const lead = c.lead ?? [c.m];
  const x = keep(backend.fromArray(c.xHost, [...lead, c.k], c.input, { name: 'x' }));
  const w = keep(backend.fromArray(c.wHost, [c.n, c.k], c.input, { name: 'w' }));
  const bias = c.biasHost ? keep(backend.fromArray(c.biasHost, [c.n], c.biasHost instanceof Float32Array ? 'f32' : 'bf16', { name: 'bias' })) : null;
  const fp8 = c.input === 'e4m3';
  const xScale = fp8 ? keep(backend.fromArray(Float32Array.of(c.xScaleValue), [1], 'f32')) : null;
  const wScale = fp8 ? keep(backend.fromArray(Float32Array.of(c.wScaleValue), [1], 'f32')) : null;
  const out = keep(backend.empty([...lead, c.n], c.output, { name: 'y' }).fillBytes(POISON));
  K.gemm({ x, w, bias, activation: c.activation, xScale, wScale, outDtype: c.output, fastAccum: c.fastAccum ?? false, out });
  const yHost = await out.download();
  if (c.compare === false) return yHost;
  const relL2 = assertWithinTolerance(c, yHost, c.label);
  console.log(`# ${c.label}: relative L2 vs float64 twin ${relL2.toExponential(3)}`);
  return yHost;
}

const opts = { skip: skipReason };

describe(`gemm on CUDA vs its float64 twin (${SIZE})`, opts, () => {
  const bf16X = skipReason ? null : T.randomBf16(M * KDIM, 101, { cols: KDIM });
  const bf16W = skipReason ? null : T.randomBf16(N * KDIM, 102, { cols: KDIM });
  const biasBf16 = skipReason ? null : T.randomBf16(N, 103);
  const biasF32 = skipReason ? null : K.bf16BitsToFloat32Array(T.randomBf16(N, 104)).map((v) => v * 3.1);
  const fp8X = skipReason ? null : randomE4m3(M * KDIM, 105);
  const fp8W = skipReason ? null : randomE4m3(N * KDIM, 106);
  const base = { m: M, k: KDIM, n: N };
  const bf16 = { ...base, input: 'bf16', xHost: bf16X, wHost: bf16W };
  const fp8 = { ...base, input: 'e4m3', xHost: fp8X, wHost: fp8W, xScaleValue: 2 ** -6, wScaleValue: Math.fround(0.0037) };

  test('cuBLASLt is loaded (the addon found it)', { skip: ON_CPU && 'CPU dry run' }, () => {
    const lt = K.cublasLtStatus();
    assert.ok(lt?.loaded, `cuBLASLt not loaded:\n${lt?.error ?? 'the addon has no cuBLASLt loader: rebuild native/'}`);
  });

  test('bf16 -> bf16, bias (q/k/v/o-style epilogue) at a ragged M', async () => {
    await runCase({ ...bf16, output: 'bf16', biasHost: biasBf16, activation: 'none', relL2: 2 ** -7, label: 'bf16->bf16 bias' });
  });

  test('bf16 -> bf16, bias + GELU fused (FFN up)', async () => {
    await runCase({ ...bf16, output: 'bf16', biasHost: biasBf16, activation: 'gelu', relL2: 2 ** -7, label: 'bf16->bf16 gelu-bias' });
  });

  test('bf16 -> f32, f32 bias (residual-stream output)', async () => {
    await runCase({ ...bf16, output: 'f32', biasHost: biasF32, activation: 'none', relL2: 2 ** -11, label: 'bf16->f32 bias' });
  });

  test('bf16 -> f32, GELU without bias; no epilogue', async () => {
    await runCase({ ...bf16, output: 'f32', activation: 'gelu', relL2: 2 ** -11, label: 'bf16->f32 gelu' });
    await runCase({ ...bf16, output: 'bf16', activation: 'none', relL2: 2 ** -7, label: 'bf16->bf16 plain' });
  });

  test('FFN down shape (K and N swapped: K = N of the up projection)', async () => {
    const down = { m: M, k: N, n: KDIM, input: 'bf16', xHost: T.randomBf16(M * N, 107, { cols: N }), wHost: T.randomBf16(KDIM * N, 108, { cols: N }) };
    await runCase({ ...down, output: 'bf16', biasHost: T.randomBf16(KDIM, 109), activation: 'none', relL2: 2 ** -7, label: 'down bf16->bf16 bias' });
  });

  test('batched x [2, M/2, K] flattens to M rows: the same bits as the 2-D call', async () => {
    const c = { ...bf16, output: 'bf16', biasHost: biasBf16, activation: 'gelu', relL2: 2 ** -7 };
    const flat = await runCase({ ...c, label: 'flat [M, K]' });
    const batched = await runCase({ ...c, lead: [2, M / 2], compare: false, label: 'batched [2, M/2, K]' });
    assert.equal(T.bitsEqual(batched, flat), -1, 'batched and flat calls differ');
  });

  test('strided batch: w [B, N, K] with x [B, M, K], each item against its own w (umT5 per-head scores and P . V)', async () => {
    // real: 64 heads of 64 at 512 tokens, the umT5-XXL encoder's two batched products; smaller sizes keep the shapes'
    // roles. Every item is checked for poison; the twin runs on the first, a middle and the last item.
    const B = { real: 64, medium: 16, small: 3 }[SIZE];
    const T_ = { real: 512, medium: 136, small: 40 }[SIZE];
    const D = 64;
    const cases = [
      { label: 'batched scores q k^T -> f32', m: T_, n: T_, k: D, output: 'f32', activation: 'none', relL2: 2 ** -11 },
      { label: 'batched P v -> bf16', m: T_, n: D, k: T_, output: 'bf16', activation: 'none', relL2: 2 ** -7 },
      { label: 'batched ragged M, GELU -> bf16', m: T_ - 3, n: 48, k: D, output: 'bf16', activation: 'gelu', relL2: 2 ** -7 },
      // 16-byte batch strides (x: 5 x 24 x 2 = 240 bytes, y: 5 x 8 x 2 = 80): not 256-aligned items
      { label: 'batched 16-byte strides', m: 5, n: 8, k: 24, output: 'bf16', activation: 'none', relL2: 2 ** -7 },
    ];
    let seed = 120;
    for (const c of cases) {
      const xHost = T.randomBf16(B * c.m * c.k, seed++, { cols: c.k });
      const wHost = T.randomBf16(B * c.n * c.k, seed++, { cols: c.k });
      const x = keep(backend.fromArray(xHost, [B, c.m, c.k], 'bf16', { name: 'x' }));
      const w = keep(backend.fromArray(wHost, [B, c.n, c.k], 'bf16', { name: 'w' }));
      const out = keep(backend.empty([B, c.m, c.n], c.output, { name: 'y' }).fillBytes(POISON));
      assert.equal(K.gemm({ x, w, outDtype: c.output, activation: c.activation, out }), out);
      const yHost = await out.download();
      const poison = c.output === 'f32' ? new Float32Array(new Uint32Array([0xabababab]).buffer)[0] : 0xabab;
      const untouched = yHost.findIndex((v) => Object.is(v, poison));
      assert.equal(untouched, -1, `${c.label}: y element ${untouched} (item ${Math.floor(untouched / (c.m * c.n))}) still holds the poison`);
      let worst = 0;
      for (const b of [...new Set([0, Math.floor(B / 2), B - 1])]) {
        const item = { ...c, input: 'bf16', xHost: xHost.subarray(b * c.m * c.k, (b + 1) * c.m * c.k), wHost: wHost.subarray(b * c.n * c.k, (b + 1) * c.n * c.k) };
        worst = Math.max(worst, assertWithinTolerance(item, yHost.subarray(b * c.m * c.n, (b + 1) * c.m * c.n), `${c.label} item ${b}`));
      }
      console.log(`# ${c.label} (B ${B}, M ${c.m}, N ${c.n}, K ${c.k}): worst relative L2 vs float64 twin ${worst.toExponential(3)}`);
    }
  });

  test('16-byte aligned views (not 256): x, w and y are row slices of larger tensors', async () => {
    // K = 24 (48-byte rows) puts every slice start at a multiple of 16 bytes that 256 does not divide.
    const m = 77, k = 24, n = 40;
    const xAll = T.randomBf16((m + 1) * k, 110, { cols: k });
    const wAll = T.randomBf16((n + 1) * k, 111, { cols: k });
    const xBig = keep(backend.fromArray(xAll, [m + 1, k], 'bf16'));
    const wBig = keep(backend.fromArray(wAll, [n + 1, k], 'bf16'));
    const yBig = keep(backend.empty([m + 1, n], 'bf16').fillBytes(POISON));
    const x = keep(xBig.sliceRows(1, m));
    const w = keep(wBig.sliceRows(1, n));
    const y = keep(yBig.sliceRows(1, m));
    assert.ok(x.byteOffset % 256 !== 0 && y.byteOffset % 16 === 0);
    K.gemm({ x, w, out: y });
    const yHost = await y.download();
    assertWithinTolerance({ m, k, n, input: 'bf16', output: 'bf16', activation: 'none', xHost: xAll.subarray(k), wHost: wAll.subarray(k), relL2: 2 ** -7 }, yHost, 'aligned-16 views');
    const row0 = (await yBig.download()).subarray(0, n);
    assert.ok(row0.every((b) => b === 0xabab), 'gemm wrote outside its output view');
  });

  test('e4m3 -> bf16 with scales, bias + GELU', async () => {
    await runCase({ ...fp8, output: 'bf16', biasHost: biasBf16, activation: 'gelu', relL2: 2 ** -7, label: 'e4m3->bf16 gelu-bias' });
  });

  test('e4m3 -> f32 with scales, no epilogue; e4m3 -> bf16 bias', async () => {
    await runCase({ ...fp8, output: 'f32', activation: 'none', relL2: 2 ** -8, label: 'e4m3->f32' });
    await runCase({ ...fp8, output: 'bf16', biasHost: biasBf16, activation: 'none', relL2: 2 ** -7, label: 'e4m3->bf16 bias' });
  });

  test('e4m3 fast accumulation runs (outside the declared tolerance: relative L2 only)', { skip: ON_CPU && 'CPU dry run' }, async () => {
    const x = keep(backend.fromArray(fp8X, [M, KDIM], 'e4m3'));
    const w = keep(backend.fromArray(fp8W, [N, KDIM], 'e4m3'));
    const s = (v) => keep(backend.fromArray(Float32Array.of(v), [1], 'f32'));
    const y = keep(K.gemm({ x, w, xScale: s(fp8.xScaleValue), wScale: s(fp8.wScaleValue), outDtype: 'f32', fastAccum: true }));
    const yHost = await y.download();
    const rows = Math.min(M, 32);
    const want = K.gemmCpu({ x: fp8X.subarray(0, rows * KDIM), w: fp8W, m: rows, n: N, k: KDIM, input: 'e4m3', output: 'f32', xScale: fp8.xScaleValue, wScale: fp8.wScaleValue });
    let e = 0, r = 0;
    for (let i = 0; i < want.length; i++) {
      e += (yHost[i] - want[i]) ** 2;
      r += want[i] ** 2;
    }
    const relL2 = Math.sqrt(e / r);
    console.log(`# e4m3->f32 fastAccum: relative L2 vs float64 twin ${relL2.toExponential(3)}`);
    assert.ok(relL2 < 2 ** -5, `fast accumulation relative L2 ${relL2}`);
  });

  test('errors: a missing bias for the epilogue and shape mismatches are refused before the device', () => {
    const x = keep(backend.fromArray(bf16X.subarray(0, 16 * KDIM), [16, KDIM], 'bf16'));
    const w = keep(backend.fromArray(bf16W.subarray(0, 16 * KDIM), [16, KDIM], 'bf16'));
    assert.throws(() => K.gemm({ x, w: keep(backend.empty([16, KDIM + 8], 'bf16')) }), (e) => e.code === 'FPSATTN_SHAPE_MISMATCH' && e.tensor === 'w');
    assert.throws(() => K.gemm({ x, w, bias: keep(backend.empty([8], 'bf16')) }), (e) => e.code === 'FPSATTN_SHAPE_MISMATCH' && e.tensor === 'bias');
    const y = keep(K.gemm({ x, w }));
    assert.deepEqual(y.shape, [16, 16]);
  });
});
