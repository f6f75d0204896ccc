// emulate Hopper FP8 WGMMA reduced-precision accumulation on the GPU suite's fp8-dense inputs.
// node bench/attention/fp22-accumulator-emulation.mjs [batch...]
import { CpuBackend } from '@fpsattn/kernels';
import { randomBf16 } from '@fpsattn/kernels/testing';
import { encodeFp8, encodeFp8Array, fp8DecodeTable } from '@fpsattn/fp8';
import { AttentionGeometryCache, attention } from '../../packages/attention/dist/index.js';
import { attentionErrorStats, rasterAttentionReference, unitBf16 } from '../../packages/attention/dist/testing.js';

const GRID = [3, 10, 16];
const HEAD_DIM = 128, HEADS = 2, COLS = HEADS * HEAD_DIM, N = GRID[0] * GRID[1] * GRID[2];
const tile = [3, 5, 8];
const CASES = [
  ['fp8-dense per tensor', { plan: { mode: 'fp8-dense', granularity: { kind: 'tensor' } } }],
  ['fp8-dense per token', { plan: { mode: 'fp8-dense', granularity: { kind: 'token' } } }],
  ['fp8-dense per tile', { plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile } }, kSmoothing: true }],
];

function inputs(batch, seed) { // the committed suite's inputs (HEAD of gpu-test/attention.test.mjs)
  const length = batch * N * COLS;
  if (process.env.INPUTS === 'unit') return { q: unitBf16({ length, seed, cols: COLS }), k: unitBf16({ length, seed: seed + 1, cols: COLS, kLike: true }), v: unitBf16({ length, seed: seed + 2, cols: COLS }) };
  const q = randomBf16(length, seed, { cols: COLS });
  const k = randomBf16(length, seed + 1, { cols: COLS, offset: 2 });
  const v = randomBf16(length, seed + 2, { cols: COLS });
  for (const c of [5, 77, 130]) {
    for (let r = 0; r < batch * N; r++) {
      const i = r * COLS + c;
      const f = new Float32Array(new Uint32Array([k[i] << 16]).buffer)[0] * (20 + (c % 31));
      k[i] = new Uint32Array(new Float32Array([f]).buffer)[0] >>> 16;
    }
  }
  return { q, k, v };
}

// ---------------------------------------------------------------- capture attentionForward's operands
class CaptureBackend extends CpuBackend {
  dispatch(op, impl) {
    if (op === 'attentionForward' || op?.name === 'attentionForward') {
      const dev = { ref: (t) => t, optionalRef: (t) => t, call: (_d, params) => {
        const c = {};
        for (const [key, val] of Object.entries(params)) c[key] = val && typeof val.downloadSync === 'function' ? val.downloadSync().slice() : val;
        this.captured = c;
        this.outTensor = params.out;
      } };
      impl.cuda(dev);
      const r = impl.cpu();
      if (this.replace) this.outTensor.upload(this.replace(this.captured));
      return r;
    }
    return impl.cpu();
  }
}

const dec = fp8DecodeTable('e4m3');
const f32 = (x) => Math.fround(x);

// ---------------------------------------------------------------- accumulation models
// exponent of |x| (x != 0, finite): floor(log2|x|)
function expo(a) {
  let e = Math.floor(Math.log2(a));
  const p = 2 ** e;
  if (p > a) e--; else if (2 * p <= a) e++;
  return e;
}
// Truncate x toward zero to F fraction bits below its leading bit.
function truncBits(x, F) {
  if (x === 0) return 0;
  const u = 2 ** (expo(Math.abs(x)) - F);
  return Math.trunc(x / u) * u;
}
function rne32(x) { return Math.fround(x); }

/**
 * dot of a[aOff + t*aS] and b[bOff + t*bS], t < K, as an FP8 WGMMA accumulates: chunks of `chunk` products (k32 per
 * instruction) are added to the running accumulator c (zero at t=0). Per chunk: emax = max exponent over the chunk's
 * nonzero products and c (if includeAcc); every term (and c) truncated toward zero to a multiple of 2^(emax - F);
 * exact sum; then the new c is rounded by `store` (F bits truncation for 'fp22', fp32 RNE for 'fp32').
 */
function makeDot({ F = 13, chunk = 32, includeAcc = true, store = 'fp22', mode = 'trunc' }) {
  const prods = new Float64Array(chunk);
  return function dot(a, aOff, aS, b, bOff, bS, K) {
    let c = 0;
    for (let t0 = 0; t0 < K; t0 += chunk) {
      const n = Math.min(chunk, K - t0);
      let mx = includeAcc ? Math.abs(c) : 0;
      for (let t = 0; t < n; t++) {
        const p = a[aOff + (t0 + t) * aS] * b[bOff + (t0 + t) * bS];
        prods[t] = p;
        const ap = Math.abs(p);
        if (ap > mx) mx = ap;
      }
      if (mx === 0) continue;
      const u = 2 ** (expo(mx) - F);
      let s = 0;
      if (mode === 'trunc') {
        for (let t = 0; t < n; t++) s += Math.trunc(prods[t] / u) * u;
        s += includeAcc ? Math.trunc(c / u) * u : c;
      } else { // floor (two's complement shift)
        for (let t = 0; t < n; t++) s += Math.floor(prods[t] / u) * u;
        s += includeAcc ? Math.floor(c / u) * u : c;
      }
      c = store === 'fp22' ? truncBits(s, F) : rne32(s);
    }
    return c;
  };
}
function exactDot(a, aOff, aS, b, bOff, bS, K) {
  let s = 0;
  for (let t = 0; t < K; t++) s += a[aOff + t * aS] * b[bOff + t * bS];
  return s;
}

// ---------------------------------------------------------------- the twin with pluggable products
/**
 * ops: { qk: dot for S (on decoded codes), pv: dot for one block's P V (into a zeroed temp), fp32Softmax: kernel's
 * fp32 score/exp2 path, harnessP: encode p*448 from double (harness.cu) instead of through float32 (twin) }
 */
function twin(C, ops = {}) {
  const qk = ops.qk ?? exactDot, pv = ops.pv ?? exactDot;
  const { batch, heads, headDim: D, numBlocks, npad, vTokenStride, softmaxScale } = C;
  const R = 128, HD = heads * D;
  const q = C.q, k = C.k, vt = C.v; // decoded q,k: [B, npad, HD]; v^T decoded [B, HD, stride]
  const qs = C.qScale, ks = C.kScale, vs = C.vScale, valid = C.blockValidRows;
  const out = new Float64Array(batch * npad * HD);
  const S = new Float64Array(R), P = new Float64Array(R * R);
  const pScaled = new Float32Array(R), codes = new Uint8Array(R);
  const LOG2E = f32(1.4426950408889634), LOG2P = f32(8.807354922057604);
  for (let b = 0; b < batch; b++) for (let h = 0; h < heads; h++) {
    const sb = (b * heads + h) * npad;
    for (let qb = 0; qb < numBlocks; qb++) {
      const rq = valid[qb]; if (!rq) continue;
      const m = new Float64Array(rq).fill(-Infinity), l = new Float64Array(rq), acc = new Float64Array(rq * D);
      const alpha = new Float64Array(rq);
      for (let kb = 0; kb < numBlocks; kb++) {
        const rk = valid[kb]; if (!rk) continue;
        for (let i = 0; i < rq; i++) {
          const qo = (b * npad + qb * R + i) * HD + h * D;
          const qsc = qs[sb + qb * R + i];
          let bmax = -Infinity;
          for (let j = 0; j < rk; j++) {
            const ko = (b * npad + kb * R + j) * HD + h * D;
            const raw = qk(q, qo, 1, k, ko, 1, D);
            let sj;
            if (ops.fp32Softmax) { // log2 domain, as softmax.cuh: rowFactor * (f32(raw) * f32(kScale*colMul))
              const colMul = f32(f32(softmaxScale) * LOG2E);
              const c = f32(ks[sb + kb * R + j] * colMul);
              sj = f32(f32(raw) * c); // s *= c
              sj = f32(qsc * sj);     // pre-bias part of FFMA (bias added below)
            } else sj = raw * qsc * ks[sb + kb * R + j] * softmaxScale;
            S[j] = sj; if (sj > bmax) bmax = sj;
          }
          const mOld = m[i], mNew = bmax > mOld ? bmax : mOld;
          m[i] = mNew;
          let rowSum = 0;
          if (ops.fp32Softmax) {
            alpha[i] = mOld === -Infinity ? 0 : f32(2 ** f32(mOld - mNew));
            const bias = f32(LOG2P - mNew);
            for (let j = 0; j < rk; j++) {
              const x = f32(S[j] + bias); // FFMA rowFactor*s + bias: one rounding (S[j] already = qsc*s rounded; close enough)
              const p = f32(2 ** x);       // = 448 p
              pScaled[j] = p; rowSum += p / 448;
            }
          } else {
            alpha[i] = mOld === -Infinity ? 0 : Math.exp(mOld - mNew);
            for (let j = 0; j < rk; j++) {
              const p = Math.exp(S[j] - mNew);
              rowSum += p;
              pScaled[j] = p * 448;
            }
          }
          l[i] = l[i] * alpha[i] + rowSum;
          if (ops.harnessP) for (let j = 0; j < rk; j++) codes[j] = encodeFp8({ value: Math.exp(S[j] - mNew) * 448, format: 'e4m3', saturate: true });
          else encodeFp8Array({ input: pScaled.subarray(0, rk), format: 'e4m3', saturate: true, out: codes.subarray(0, rk) });
          for (let j = 0; j < rk; j++) P[i * R + j] = dec[codes[j]];
          for (let j = rk; j < R; j++) P[i * R + j] = 0;
        }
        // P V of this block into a zeroed temp (pv), then acc = acc*alpha + tmp (fp32 FFMA in the kernel; float64 here)
        for (let i = 0; i < rq; i++) {
          for (let c = 0; c < D; c++) {
            const vo = (b * HD + h * D + c) * vTokenStride + kb * R;
            const t = pv(P, i * R, 1, vt, vo, 1, rk);
            acc[i * D + c] = acc[i * D + c] * alpha[i] + t;
          }
        }
      }
      for (let i = 0; i < rq; i++) {
        if (l[i] === 0) continue;
        const oo = (b * npad + qb * R + i) * HD + h * D;
        for (let c = 0; c < D; c++) out[oo + c] = (acc[i * D + c] / (448 * l[i])) * vs[b * HD + h * D + c];
      }
    }
  }
  return out;
}

const toBf16F64 = (x) => {
  const o = new Float64Array(x.length), fa = new Float32Array(1), ua = new Uint32Array(fa.buffer);
  for (let i = 0; i < x.length; i++) {
    fa[0] = x[i]; const bits = ua[0];
    ua[0] = (((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16) << 16) >>> 0; o[i] = fa[0];
  }
  return o;
};
const bitsToF64 = (bits) => Float64Array.from(bits, (b) => new Float32Array(new Uint32Array([b << 16]).buffer)[0]);
const fmt = (s) => `relL2 ${s.relL2.toExponential(2)} cos ${s.cosine.toFixed(6)} maxAbs ${s.maxAbs.toExponential(2)}`;

const batches = process.argv.slice(2).length ? process.argv.slice(2).map(Number) : [1];
const variantsArg = process.env.VARIANTS;
for (const batch of batches) {
  const bits = inputs(batch, 100 + batch);
  for (const [name, options] of CASES) {
    const be = new CaptureBackend();
    const t = (bb, n) => be.fromArray(bb, [batch, N, COLS], 'bf16', { name: n });
    const outT = attention({ q: t(bits.q, 'q'), k: t(bits.k, 'k'), v: t(bits.v, 'v'), grid: GRID, headDim: HEAD_DIM, cache: new AttentionGeometryCache(), ...options });
    const opOut = outT.downloadSync();
    const P = be.captured;
    if (process.env.RASTER) { suiteMetrics(bits, batch, name, options, opOut); continue; }
    const C = {
      batch: P.batch, heads: P.heads, headDim: P.headDim, numBlocks: P.numBlocks, npad: P.npad, vTokenStride: P.vTokenStride,
      softmaxScale: P.softmaxScale,
      q: Float64Array.from(P.q, (c) => dec[c]), k: Float64Array.from(P.k, (c) => dec[c]),
      v: Float64Array.from(P.v, (c) => dec[c]),
      qScale: Float64Array.from(P.qScale), kScale: Float64Array.from(P.kScale),
      vScale: Float64Array.from(P.vScale), blockValidRows: P.blockValidRows,
    };
    if (P.rowPtr) throw new Error('expected dense');
    // score magnitudes (natural-log units) and the raw dot magnitudes
    const exact = twin(C);
    const exactB = toBf16F64(exact);
    // sanity: my twin vs the op's CPU output (bf16, padded order vs raster: compare sorted sums of squares instead)
    const opF = bitsToF64(opOut);
    let n1 = 0, n2 = 0; for (const x of exactB) n1 += x * x; for (const x of opF) n2 += x * x;
    console.log(`\n## ${name}, batch ${batch}: npad ${C.npad} blocks ${C.numBlocks} valid [${Array.from(C.blockValidRows)}] stride ${C.vTokenStride}; |twin|^2 ${n1.toExponential(6)} op CPU |out|^2 ${n2.toExponential(6)}`);
    if (process.env.HADAMARD) {
      const C2 = hadamardRequant(C);
      const e2 = toBf16F64(twin(C2));
      const d13h = makeDot({});
      const y = toBf16F64(twin(C2, { qk: d13h, pv: makeDot({}) }));
      console.log(`Hadamard-rotated Q,K (per-row requant): fp22 vs its twin ${fmt(attentionErrorStats(y, e2))}; rotated twin vs unrotated twin ${fmt(attentionErrorStats(e2, exactB))}`);
      const yNo = toBf16F64(twin({ ...C, ...requantOnly(C) }, { qk: d13h, pv: makeDot({}) }));
      const eNo = toBf16F64(twin({ ...C, ...requantOnly(C) }));
      console.log(`same per-row requant without rotation: fp22 vs its twin ${fmt(attentionErrorStats(yNo, eNo))}`);
      continue;
    }
    if (process.env.STATS) { stats(C); continue; }
    if (process.env.ROWS) {
      const y = toBf16F64(twin(C, { qk: makeDot({}), pv: makeDot({}) }));
      const rowsE = [];
      let tot = 0, ref2 = 0;
      for (let r = 0; r < y.length / 128; r++) { let e = 0; for (let c = 0; c < 128; c++) { const d = y[r * 128 + c] - exactB[r * 128 + c]; e += d * d; ref2 += exactB[r * 128 + c] ** 2; } rowsE.push(e); tot += e; }
      rowsE.sort((a, b) => b - a);
      const cum = (n) => rowsE.slice(0, n).reduce((a, b) => a + b, 0) / tot;
      console.log(`rows(x heads) ${rowsE.length}: error energy share of top 1/5/20 rows ${cum(1).toFixed(3)} / ${cum(5).toFixed(3)} / ${cum(20).toFixed(3)}; rows with any error ${rowsE.filter((e) => e > 0).length}; relL2 without top 20 rows ${Math.sqrt((tot - cum(20) * tot) / ref2).toExponential(2)}`);
      continue;
    }
    const variants = {
      'harness.cu P convention (encode p*448 from double)': { harnessP: true },
      'QK fp22 (F13,k32,trunc)': { qk: makeDot({}) },
      'PV fp22 (F13,k32,trunc)': { pv: makeDot({}) },
      'QK+PV fp22 (F13,k32,trunc)': { qk: makeDot({}), pv: makeDot({}) },
      'QK+PV fp22 +fp32 softmax': { qk: makeDot({}), pv: makeDot({}), fp32Softmax: true },
      'fp32 softmax only': { fp32Softmax: true },
      'QK fp22 store fp32 (align only)': { qk: makeDot({ store: 'fp32' }) },
      'QK fp22 floor (2s-compl)': { qk: makeDot({ mode: 'floor' }) },
      'QK F13 chunk 16': { qk: makeDot({ chunk: 16 }) },
      'QK F13 chunk 64 (two k64 halves in fp32 → emulate split)': null,
      'QK fp22 per-k32 then fp32 sum (fix)': null,
      'QK F10 (pessimistic)': { qk: makeDot({ F: 10 }) },
      'QK fp32 RNE seq (ideal fp32)': { qk: (a, ao, as, b, bo, bs, K) => { let s = 0; for (let t = 0; t < K; t++) s = f32(s + f32(a[ao + t * as] * b[bo + t * bs])); return s; } },
    };
    // fixes: S = two k64 halves each accumulated in fp22, added in fp32; per-k32 chunks added in fp32
    const d13 = makeDot({});
    variants['QK F13 chunk 64 (two k64 halves in fp32 → emulate split)'] = { qk: (a, ao, as, b, bo, bs, K) => f32(d13(a, ao, as, b, bo, bs, 64) + d13(a, ao + 64 * as, as, b, bo + 64 * bs, bs, K - 64)) };
    variants['QK fp22 per-k32 then fp32 sum (fix)'] = { qk: (a, ao, as, b, bo, bs, K) => { let s = 0; for (let t = 0; t < K; t += 32) s = f32(s + d13(a, ao + t * as, as, b, bo + t * bs, bs, 32)); return s; } };
    for (const [vn, ops] of Object.entries(variants)) {
      if (variantsArg && !variantsArg.split(',').some((x) => vn.includes(x))) continue;
      const y = toBf16F64(twin(C, ops));
      console.log(`${vn.padEnd(58)} vs twin: ${fmt(attentionErrorStats(y, exactB))}`);
    }
    globalThis.lastC = C;
  }
}

function stats(C) {
  const { batch, heads, headDim: D, numBlocks, npad, softmaxScale } = C;
  const HD = heads * D, d13 = makeDot({});
  const errs = [], spans = [], sMax = [];
  let moved = 0, rows = 0;
  for (let b = 0; b < batch; b++) for (let h = 0; h < heads; h++) {
    const sb = (b * heads + h) * npad;
    for (let i = 0; i < npad; i++) {
      if (i % 128 >= C.blockValidRows[i >> 7]) continue;
      const qo = (b * npad + i) * HD + h * D;
      let mx = -Infinity, mn = Infinity, mxE = -Infinity, am = -1, amE = -1;
      const sx = [], se = [];
      for (let j = 0; j < npad; j++) {
        if (j % 128 >= C.blockValidRows[j >> 7]) continue;
        const ko = (b * npad + j) * HD + h * D;
        const f = C.qScale[sb + i] * C.kScale[sb + j] * softmaxScale;
        const a = exactDot(C.q, qo, 1, C.k, ko, 1, D) * f, e = d13(C.q, qo, 1, C.k, ko, 1, D) * f;
        errs.push(Math.abs(e - a));
        if (a > mx) { mx = a; am = j; } if (a < mn) mn = a; if (e > mxE) { mxE = e; amE = j; }
        sx.push(a); se.push(e);
      }
      // total variation distance between the softmax rows
      const pa = sx.map((x) => Math.exp(x - mx)), pe = se.map((x) => Math.exp(x - mxE));
      const za = pa.reduce((u, v) => u + v), ze = pe.reduce((u, v) => u + v);
      let tv = 0; for (let j = 0; j < pa.length; j++) tv += Math.abs(pa[j] / za - pe[j] / ze);
      spans.push(tv / 2); sMax.push(mx - mn);
      rows++; if (am !== amE) moved++;
    }
  }
  const q = (arr, f) => { const a = Float64Array.from(arr).sort(); return a[Math.min(a.length - 1, Math.floor(f * a.length))]; };
  console.log(`|dS| (natural-log units) median ${q(errs, 0.5).toExponential(2)} p90 ${q(errs, 0.9).toExponential(2)} p99 ${q(errs, 0.99).toExponential(2)} max ${q(errs, 1).toExponential(2)}`);
  console.log(`score range per row (max-min) median ${q(sMax, 0.5).toExponential(2)} p90 ${q(sMax, 0.9).toExponential(2)}; softmax TV distance exact-vs-fp22 median ${q(spans, 0.5).toExponential(2)} p90 ${q(spans, 0.9).toExponential(2)} max ${q(spans, 1).toExponential(2)}; argmax key changed in ${moved}/${rows} rows`);
}

function toBits(x) {
  const o = new Uint16Array(x.length), fa = new Float32Array(1), ua = new Uint32Array(fa.buffer);
  for (let i = 0; i < x.length; i++) { fa[0] = x[i]; const b = ua[0]; o[i] = ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff; }
  return o;
}
function capToC(P) {
  return {
    batch: P.batch, heads: P.heads, headDim: P.headDim, numBlocks: P.numBlocks, npad: P.npad, vTokenStride: P.vTokenStride,
    softmaxScale: P.softmaxScale, q: Float64Array.from(P.q, (c) => dec[c]), k: Float64Array.from(P.k, (c) => dec[c]),
    v: Float64Array.from(P.v, (c) => dec[c]), qScale: Float64Array.from(P.qScale), kScale: Float64Array.from(P.kScale),
    vScale: Float64Array.from(P.vScale), blockValidRows: P.blockValidRows,
  };
}
// The suite's own metrics with the emulated kernel in place of the GPU: gpu vs raster, twin vs raster, gpu vs twin.
function suiteMetrics(bits, batch, name, options, twinBits) {
  const ref = rasterAttentionReference({ q: bits.q, k: bits.k, v: bits.v, batch, grid: GRID, headDim: HEAD_DIM, ...options });
  const cpuErr = attentionErrorStats(twinBits, ref);
  const twinF = bitsToF64(twinBits);
  const d13 = makeDot({});
  const models = {
    'fp22 S+PV (k32 chunks, F13, trunc)': { qk: d13, pv: makeDot({}) },
    'fix: S per k32 into zeroed temp, fp32 add': { qk: (a, ao, as, b, bo, bs, K) => { let s = 0; for (let t = 0; t < K; t += 32) s = f32(s + d13(a, ao + t * as, as, b, bo + t * bs, bs, 32)); return s; }, pv: makeDot({}) },
  };
  for (const [mn, ops] of Object.entries(models)) {
    const be = new CaptureBackend();
    be.replace = (cap) => toBits(twin(capToC(cap), ops));
    const t = (bb, n) => be.fromArray(bb, [batch, N, COLS], 'bf16', { name: n });
    const emu = attention({ q: t(bits.q, 'q'), k: t(bits.k, 'k'), v: t(bits.v, 'v'), grid: GRID, headDim: HEAD_DIM, cache: new AttentionGeometryCache(), ...options }).downloadSync();
    const gpuErr = attentionErrorStats(emu, ref), agree = attentionErrorStats(emu, twinF);
    const pass = gpuErr.relL2 <= 2 * cpuErr.relL2 + 1e-4 && agree.cosine > 0.9999;
    console.log(`# ${name}, batch ${batch} [${mn}]: vs float64 relL2 gpu ${gpuErr.relL2.toExponential(2)} cpu twin ${cpuErr.relL2.toExponential(2)}; gpu vs twin relL2 ${agree.relL2.toExponential(2)} cosine ${agree.cosine.toFixed(7)} maxAbs ${agree.maxAbs.toExponential(2)} -> ${pass ? 'PASS' : 'FAIL'}`);
  }
}

function fwht(x, off) { // in place, orthonormal, length 128
  for (let h = 1; h < 128; h *= 2) for (let i = 0; i < 128; i += 2 * h) for (let j = i; j < i + h; j++) {
    const a = x[off + j], b = x[off + j + h]; x[off + j] = a + b; x[off + j + h] = a - b;
  }
  for (let j = 0; j < 128; j++) x[off + j] /= Math.sqrt(128);
}
function requantRows(vals, scalesOut, C, rotate) { // vals: dequantized [B, npad, HD]; per (row, head) amax/448
  const { batch, heads, npad } = C, HD = heads * 128;
  const codesF = new Float64Array(vals.length), buf = new Float32Array(128), cb = new Uint8Array(128);
  for (let b = 0; b < batch; b++) for (let r = 0; r < npad; r++) for (let h = 0; h < heads; h++) {
    const o = (b * npad + r) * HD + h * 128;
    if (rotate) fwht(vals, o);
    let amax = 0; for (let c = 0; c < 128; c++) amax = Math.max(amax, Math.abs(vals[o + c]));
    const sc = amax > 0 ? Math.fround(amax / 448) : 1;
    for (let c = 0; c < 128; c++) buf[c] = vals[o + c] / sc;
    encodeFp8Array({ input: buf, format: 'e4m3', saturate: true, out: cb });
    for (let c = 0; c < 128; c++) codesF[o + c] = dec[cb[c]];
    scalesOut[(b * heads + h) * npad + r] = sc;
  }
  return codesF;
}
function dequant(C, x, sc) {
  const { batch, heads, npad } = C, HD = heads * 128, out = new Float64Array(x.length);
  for (let b = 0; b < batch; b++) for (let r = 0; r < npad; r++) for (let h = 0; h < heads; h++) {
    const o = (b * npad + r) * HD + h * 128, s = sc[(b * heads + h) * npad + r];
    for (let c = 0; c < 128; c++) out[o + c] = x[o + c] * s;
  }
  return out;
}
function hadamardRequant(C) {
  const qS = new Float64Array(C.qScale.length), kS = new Float64Array(C.kScale.length);
  const q = requantRows(dequant(C, C.q, C.qScale), qS, C, true), k = requantRows(dequant(C, C.k, C.kScale), kS, C, true);
  return { ...C, q, k, qScale: qS, kScale: kS };
}
function requantOnly(C) {
  const qS = new Float64Array(C.qScale.length), kS = new Float64Array(C.kScale.length);
  const q = requantRows(dequant(C, C.q, C.qScale), qS, C, false), k = requantRows(dequant(C, C.k, C.kScale), kS, C, false);
  return { q, k, qScale: qS, kScale: kS };
}
