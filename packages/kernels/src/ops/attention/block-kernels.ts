/**
 * The loops of the attention twin that do nearly all of its work, on one float64 heap: the two block products
 * (S = Q K^T; acc = acc * alpha + P V), the scaling of the scores with their running max, the exponentials of the
 * softmax, and the rounding of P. Two implementations with one contract: WebAssembly SIMD (f64x2: about 3x the
 * multiply-adds per second of the best plain JavaScript loop, whose every typed-array load pays a bounds check) and
 * plain JavaScript (where WebAssembly is unavailable, e.g. --jitless; also the tests' second opinion).
 *
 * Both are float64 to the bit in every operation: f64x2.mul/add/sub/div round each lane exactly as the scalar
 * operations do, no fused multiply-add is used, the exponential is Math.exp's own algorithm (fdlibm, below) and the
 * roundings of P are encodeFp8Array's and the kernel's BF16 conversion, bit for bit. They differ only in the order of
 * the sums (two interleaved partial sums in the SIMD kernels), which the twin's tolerance allows.
 */
import { E4M3, InvalidArgumentError, encodeFp8Array, fp8DecodeTable } from '@fpsattn/fp8';
import { type Bytes, ConstPool, F64, Frame, assembleModule, op } from './wasm-asm';

export type BlockKernelsKind = 'wasm-simd' | 'js';

/**
 * All offsets and strides are in float64 elements of `heap`; S and P are rows of a block at `s` with stride `stride`.
 *
 * - `dots`: C[c + i*cStride + j] = sum_{t<k} A[a + i*aStride + t] * B[b + j*bStride + t] for i < rows, j < cols.
 * - `dotsAccumulate`: the same with C[...] = C[...] * alpha[i] + sum (alpha at `alpha + i`), the sum first.
 * - `scaleRows`: S[i][j] = ((S[i][j] * rowScale[i]) * colScale[j]) * factor in place for i < rows, j < n, and
 *   maxOut[i] = the largest of them, NaN ignored (-inf when there is none), like the kernel's fmaxf.
 * - `expRows`: S[i][j] = exp(S[i][j] - shift[i]) in place, and sums[i] = the sum over j of the new values.
 * - `roundE4m3`: P[i][j] = decode(encode_e4m3_satfinite_rne(f32(P[i][j] * scale))), as @fpsattn/fp8 encodes.
 * - `roundBf16`: P[i][j] = bf16_rne(f32(P[i][j])), NaN kept: the kernel's conversion of P for a BF16 P*V.
 *
 * Room the callers leave (the SIMD kernels work in whole tiles and lane pairs): `k` is even (pad rows with one zero);
 * `dots` and `dotsAccumulate` may read the rows of A up to roundUp(rows, 2) and of B up to roundUp(cols, 4) and write
 * (garbage) C entries of those rows and columns, so C's stride and rows must leave room and those entries must be
 * ignored; the row kernels may read S[i][n] when n is odd (stride > n).
 */
export interface BlockKernels {
  readonly kind: BlockKernelsKind;
  readonly heap: Float64Array;
  dots(a: number, aStride: number, b: number, bStride: number, rows: number, cols: number, k: number, c: number, cStride: number): void;
  dotsAccumulate(a: number, aStride: number, b: number, bStride: number, rows: number, cols: number, k: number, c: number, cStride: number, alpha: number): void;
  scaleRows(s: number, stride: number, rows: number, n: number, rowScale: number, colScale: number, factor: number, maxOut: number): void;
  expRows(s: number, stride: number, rows: number, n: number, shift: number, sums: number): void;
  roundE4m3(s: number, stride: number, rows: number, n: number, scale: number): void;
  roundBf16(s: number, stride: number, rows: number, n: number): void;
}

// ------------------------------------------------------------------------------------------------- JavaScript
function jsKernels(heap: Float64Array): BlockKernels {
  const dot = (a: number, b: number, k: number): number => {
    let sum = 0;
    for (let t = 0; t < k; t++) sum += (heap[a + t] as number) * (heap[b + t] as number);
    return sum;
  };
  let f32 = new Float32Array(0); // one block of P on its way through float32
  const staged = (s: number, stride: number, rows: number, n: number, scale: number): Float32Array => {
    if (f32.length < rows * n) f32 = new Float32Array(rows * n);
    let e = 0;
    for (let i = 0; i < rows; i++) for (let j = s + i * stride, end = j + n; j < end; j++) f32[e++] = (heap[j] as number) * scale;
    return f32.subarray(0, e);
  };
  const unstage = (s: number, stride: number, rows: number, n: number, value: (e: number) => number): void => {
    let e = 0;
    for (let i = 0; i < rows; i++) for (let j = s + i * stride, end = j + n; j < end; j++) heap[j] = value(e++);
  };
  const decodeE4m3 = fp8DecodeTable('e4m3');
  return {
    kind: 'js',
    heap,
    dots(a, aStride, b, bStride, rows, cols, k, c, cStride) {
      for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) heap[c + i * cStride + j] = dot(a + i * aStride, b + j * bStride, k);
    },
    dotsAccumulate(a, aStride, b, bStride, rows, cols, k, c, cStride, alpha) {
      for (let i = 0; i < rows; i++) {
        const ai = heap[alpha + i] as number;
        for (let j = 0; j < cols; j++) {
          const at = c + i * cStride + j;
          heap[at] = (heap[at] as number) * ai + dot(a + i * aStride, b + j * bStride, k);
        }
      }
    },
    scaleRows(s, stride, rows, n, rowScale, colScale, factor, maxOut) {
      for (let i = 0; i < rows; i++) {
        const rs = heap[rowScale + i] as number;
        let best = Number.NEGATIVE_INFINITY;
        for (let j = 0; j < n; j++) {
          const at = s + i * stride + j;
          const v = (heap[at] as number) * rs * (heap[colScale + j] as number) * factor;
          heap[at] = v;
          if (v > best) best = v;
        }
        heap[maxOut + i] = best;
      }
    },
    expRows(s, stride, rows, n, shift, sums) {
      for (let i = 0; i < rows; i++) {
        const m = heap[shift + i] as number;
        let sum = 0;
        for (let j = s + i * stride, end = j + n; j < end; j++) {
          const p = Math.exp((heap[j] as number) - m);
          heap[j] = p;
          sum += p;
        }
        heap[sums + i] = sum;
      }
    },
    roundE4m3(s, stride, rows, n, scale) {
      const input = staged(s, stride, rows, n, scale);
      const codes = encodeFp8Array({ input, format: 'e4m3', saturate: true });
      unstage(s, stride, rows, n, (e) => decodeE4m3[codes[e] as number] as number);
    },
    roundBf16(s, stride, rows, n) {
      const bits = new Uint32Array(staged(s, stride, rows, n, 1).slice().buffer);
      const out = new Float32Array(bits.buffer);
      for (let e = 0; e < bits.length; e++) {
        const b = bits[e] as number;
        bits[e] = (b & 0x7fffffff) > 0x7f800000 ? 0x7fc00000 : ((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) << 16;
      }
      unstage(s, stride, rows, n, (e) => out[e] as number);
    },
  };
}

// ------------------------------------------------------------------------------------------------- WebAssembly
/**
 * The block product, in byte addresses: a 2-row x 4-column register tile of f64x2 accumulators (8 of the 16 SIMD
 * registers, the rest for the operands), lanes over t, whole tiles only (see the BlockKernels contract). Each
 * output is lane0 + lane1 of its accumulator; `accumulate` turns the store into C = C * alpha[i] + that.
 */
function dotsFunction(name: string, accumulate: boolean) {
  const f = new Frame({
    params: ['a', 'aStride', 'b', 'bStride', 'rows', 'cols', 'kBytes', 'c', 'cStride', ...(accumulate ? ['alpha'] : [])],
    i32: ['i', 'j', 't', 'a0', 'a1', 'b0', 'b1', 'b2', 'b3', 'cRow', 'cAt'],
    f64: ['alpha0', 'alpha1'],
    v128: ['s00', 's01', 's02', 's03', 's10', 's11', 's12', 's13', 'y0', 'y1', 'x'],
  });
  const acc = (r: number, q: number) => `s${r}${q}`;
  // acc(r, q) += y_r * x for both rows, x = B row q at t.
  const step: Bytes = [
    ...f.get('a0'), ...f.get('t'), ...op.i32Add, ...op.v128Load(), ...f.set('y0'),
    ...f.get('a1'), ...f.get('t'), ...op.i32Add, ...op.v128Load(), ...f.set('y1'),
  ]; // prettier-ignore
  for (let q = 0; q < 4; q++) {
    step.push(...f.get(`b${q}`), ...f.get('t'), ...op.i32Add, ...op.v128Load(), ...f.set('x'));
    for (let r = 0; r < 2; r++) {
      step.push(...f.get(acc(r, q)), ...f.get(`y${r}`), ...f.get('x'), ...op.f64x2Mul, ...op.f64x2Add, ...f.set(acc(r, q)));
    }
  }
  const tile: Bytes = [
    ...f.get('b'), ...f.get('j'), ...f.get('bStride'), ...op.i32Mul, ...op.i32Add, ...f.tee('b0'),
    ...f.get('bStride'), ...op.i32Add, ...f.tee('b1'), ...f.get('bStride'), ...op.i32Add, ...f.tee('b2'),
    ...f.get('bStride'), ...op.i32Add, ...f.set('b3'),
  ]; // prettier-ignore
  for (let r = 0; r < 2; r++) for (let q = 0; q < 4; q++) tile.push(...op.f64x2Const(0), ...f.set(acc(r, q)));
  tile.push(...f.forUp('t', 'kBytes', 16, step));
  for (let r = 0; r < 2; r++) {
    // cAt = &C[i + r][j]; C[i + r][j + q] at offset 8q.
    tile.push(...f.get('cRow'), ...f.get('j'), ...op.i32Const(8), ...op.i32Mul, ...op.i32Add);
    if (r === 1) tile.push(...f.get('cStride'), ...op.i32Add);
    tile.push(...f.set('cAt'));
    for (let q = 0; q < 4; q++) {
      tile.push(...f.get('cAt'));
      if (accumulate) tile.push(...f.get('cAt'), ...op.f64Load(8 * q), ...f.get(`alpha${r}`), ...op.f64Mul);
      tile.push(...f.get(acc(r, q)), ...op.f64x2ExtractLane(0), ...f.get(acc(r, q)), ...op.f64x2ExtractLane(1), ...op.f64Add);
      if (accumulate) tile.push(...op.f64Add);
      tile.push(...op.f64Store(8 * q));
    }
  }
  const rowPair: Bytes = [
    ...f.get('a'), ...f.get('i'), ...f.get('aStride'), ...op.i32Mul, ...op.i32Add, ...f.tee('a0'),
    ...f.get('aStride'), ...op.i32Add, ...f.set('a1'),
    ...f.get('c'), ...f.get('i'), ...f.get('cStride'), ...op.i32Mul, ...op.i32Add, ...f.set('cRow'),
  ]; // prettier-ignore
  if (accumulate) {
    rowPair.push(...f.get('alpha'), ...f.get('i'), ...op.i32Const(8), ...op.i32Mul, ...op.i32Add, ...op.f64Load(0), ...f.set('alpha0'));
    rowPair.push(...f.get('alpha'), ...f.get('i'), ...op.i32Const(8), ...op.i32Mul, ...op.i32Add, ...op.f64Load(8), ...f.set('alpha1'));
  }
  rowPair.push(...f.forUp('j', 'cols', 4, tile));
  return { name, frame: f, results: [], body: f.forUp('i', 'rows', 2, rowPair) };
}

// fdlibm's e_exp.c, which is V8's Math.exp (src/base/ieee754.cc): its constants, and the range where the SIMD
// kernel evaluates its general branch (|x| > 0.5 ln 2 reduced by k = (int)(x / ln 2 - 0.5), 2^k a normal number).
const INV_LN2 = 1.4426950408889634; // 0x3FF71547 652B82FE
const LN2_HI = 6.93147180369123816490e-1; // 0x3FE62E42 FEE00000
const LN2_LO = 1.90821492927058770002e-10; // 0x3DEA39EF 35793C76
const P1 = 1.66666666666666019037e-1;
const P2 = -2.77777777770155933842e-3;
const P3 = 6.61375632143793436117e-5;
const P4 = -1.65339022054652515390e-6;
const P5 = 4.13813679705723846039e-8;
/** x in [SIMD_EXP_MIN, SIMD_EXP_MAX]: fdlibm's general branch for negative x, with k >= -1020 (2^k normal). Outside
 * (x > -0.35 near the running max, deep underflow, NaN, infinities), each lane calls the imported Math.exp. */
export const SIMD_EXP_MIN = -707;
export const SIMD_EXP_MAX = -0.35;

/**
 * expRows in byte addresses. `pairBytes` = 16 * floor(n / 2) covers the lane pairs; `odd` = n % 2 the last element.
 * Per pair: both lanes in range -> fdlibm's general branch in f64x2 (the same operations in the same order, so the
 * same bits); else two calls of Math.exp. The row sum is lane0 + lane1 (+ the odd element).
 */
function expRowsFunction(K: ConstPool) {
  const f = new Frame({
    params: ['s', 'stride', 'rows', 'pairBytes', 'odd', 'shift', 'sums'],
    i32: ['i', 'j', 'row', 'ki'],
    f64: ['m', 'total', 'last'],
    v128: ['vm', 'sum', 'x', 'y', 'k', 't', 'hi', 'lo', 'r', 'rr', 'c'],
  });
  const EXP = 0; // the imported Math.exp
  const vexp: Bytes = [
    // k = (int)(invln2 * x - 0.5); t = k
    ...f.get('x'), ...K.f64x2(INV_LN2), ...op.f64x2Mul, ...K.f64x2(-0.5), ...op.f64x2Add,
    ...op.i32x4TruncSatF64x2SZero, ...f.tee('k'), ...op.f64x2ConvertLowI32x4S, ...f.set('t'),
    // hi = x - t * ln2HI; lo = t * ln2LO; r = hi - lo; rr = r * r
    ...f.get('x'), ...f.get('t'), ...K.f64x2(LN2_HI), ...op.f64x2Mul, ...op.f64x2Sub, ...f.set('hi'),
    ...f.get('t'), ...K.f64x2(LN2_LO), ...op.f64x2Mul, ...f.set('lo'),
    ...f.get('hi'), ...f.get('lo'), ...op.f64x2Sub, ...f.tee('r'), ...f.get('r'), ...op.f64x2Mul, ...f.set('rr'),
    // c = r - rr * (P1 + rr * (P2 + rr * (P3 + rr * (P4 + rr * P5))))
    ...f.get('r'), ...f.get('rr'),
    ...K.f64x2(P1), ...f.get('rr'), ...K.f64x2(P2), ...f.get('rr'), ...K.f64x2(P3), ...f.get('rr'),
    ...K.f64x2(P4), ...f.get('rr'), ...K.f64x2(P5),
    ...op.f64x2Mul, ...op.f64x2Add, ...op.f64x2Mul, ...op.f64x2Add, ...op.f64x2Mul, ...op.f64x2Add, ...op.f64x2Mul, ...op.f64x2Add,
    ...op.f64x2Mul, ...op.f64x2Sub, ...f.set('c'),
    // y = 1 - ((lo - (r * c) / (2 - c)) - hi), times 2^k built from k's bits
    ...K.f64x2(1), ...f.get('lo'), ...f.get('r'), ...f.get('c'), ...op.f64x2Mul,
    ...K.f64x2(2), ...f.get('c'), ...op.f64x2Sub, ...op.f64x2Div, ...op.f64x2Sub, ...f.get('hi'), ...op.f64x2Sub, ...op.f64x2Sub,
    ...f.get('k'), ...op.i64x2ExtendLowI32x4S, ...K.i64x2(0, 1023), ...op.i64x2Add, ...op.i32Const(52), ...op.i64x2Shl,
    ...op.f64x2Mul, ...f.set('y'),
  ]; // prettier-ignore
  const scalarPair: Bytes = [
    ...f.get('x'),
    ...f.get('x'), ...op.f64x2ExtractLane(0), ...op.call(EXP), ...op.f64x2ReplaceLane(0),
    ...f.get('x'), ...op.f64x2ExtractLane(1), ...op.call(EXP), ...op.f64x2ReplaceLane(1),
    ...f.set('y'),
  ]; // prettier-ignore
  const pair: Bytes = [
    ...f.get('row'), ...f.get('j'), ...op.i32Add, ...op.v128Load(), ...f.get('vm'), ...op.f64x2Sub, ...f.set('x'),
    ...f.get('x'), ...K.f64x2(SIMD_EXP_MIN), ...op.f64x2Ge, ...f.get('x'), ...K.f64x2(SIMD_EXP_MAX), ...op.f64x2Le,
    ...op.v128And, ...op.i64x2AllTrue,
    ...op.if, ...vexp, ...op.else, ...scalarPair, ...op.end,
    ...f.get('row'), ...f.get('j'), ...op.i32Add, ...f.get('y'), ...op.v128Store(),
    ...f.get('sum'), ...f.get('y'), ...op.f64x2Add, ...f.set('sum'),
  ]; // prettier-ignore
  const row: Bytes = [
    ...f.get('s'), ...f.get('i'), ...f.get('stride'), ...op.i32Mul, ...op.i32Add, ...f.set('row'),
    ...f.get('shift'), ...f.get('i'), ...op.i32Const(8), ...op.i32Mul, ...op.i32Add, ...op.f64Load(), ...f.tee('m'),
    ...op.f64x2Splat, ...f.set('vm'),
    ...op.f64x2Const(0), ...f.set('sum'),
    ...f.forUp('j', 'pairBytes', 16, pair),
    ...f.get('sum'), ...op.f64x2ExtractLane(0), ...f.get('sum'), ...op.f64x2ExtractLane(1), ...op.f64Add, ...f.set('total'),
    ...f.get('odd'), ...op.if,
    ...f.get('row'), ...f.get('pairBytes'), ...op.i32Add, ...op.f64Load(), ...f.get('m'), ...op.f64Sub, ...op.call(EXP), ...f.set('last'),
    ...f.get('row'), ...f.get('pairBytes'), ...op.i32Add, ...f.get('last'), ...op.f64Store(),
    ...f.get('total'), ...f.get('last'), ...op.f64Add, ...f.set('total'),
    ...op.end,
    ...f.get('sums'), ...f.get('i'), ...op.i32Const(8), ...op.i32Mul, ...op.i32Add, ...f.get('total'), ...op.f64Store(),
  ]; // prettier-ignore
  return { name: 'expRows', frame: f, results: [], body: f.forUp('i', 'rows', 1, row) };
}

/**
 * scaleRows in byte addresses (`pairBytes` = 16 * floor(n / 2), `odd` = n % 2): lane pairs of the products in the
 * header's order, a running max per lane (a NaN never compares greater, so it is skipped as fmaxf skips it), then the
 * larger lane and the odd element. Which of two equal maxima (+0, -0) wins does not matter: only s - max reaches exp.
 */
function scaleRowsFunction(K: ConstPool) {
  const f = new Frame({
    params: ['s', 'stride', 'rows', 'pairBytes', 'odd', 'rowScale', 'colScale', 'maxOut'],
    f64Params: ['factor'],
    i32: ['i', 'j', 'row'],
    f64: ['rs', 'best', 'v'],
    v128: ['vrs', 'vf', 'mx', 'x'],
  });
  const pair: Bytes = [
    ...f.get('row'), ...f.get('j'), ...op.i32Add,
    ...f.get('row'), ...f.get('j'), ...op.i32Add, ...op.v128Load(), ...f.get('vrs'), ...op.f64x2Mul,
    ...f.get('colScale'), ...f.get('j'), ...op.i32Add, ...op.v128Load(), ...op.f64x2Mul, ...f.get('vf'), ...op.f64x2Mul,
    ...f.tee('x'), ...op.v128Store(),
    ...f.get('x'), ...f.get('mx'), ...f.get('x'), ...f.get('mx'), ...op.f64x2Gt, ...op.v128Bitselect, ...f.set('mx'),
  ]; // prettier-ignore
  const row: Bytes = [
    ...f.get('s'), ...f.get('i'), ...f.get('stride'), ...op.i32Mul, ...op.i32Add, ...f.set('row'),
    ...f.get('rowScale'), ...f.get('i'), ...op.i32Const(8), ...op.i32Mul, ...op.i32Add, ...op.f64Load(), ...f.tee('rs'),
    ...op.f64x2Splat, ...f.set('vrs'),
    ...K.f64x2(Number.NEGATIVE_INFINITY), ...f.set('mx'),
    ...f.forUp('j', 'pairBytes', 16, pair),
    ...f.get('mx'), ...op.f64x2ExtractLane(1), ...f.get('mx'), ...op.f64x2ExtractLane(0),
    ...f.get('mx'), ...op.f64x2ExtractLane(1), ...f.get('mx'), ...op.f64x2ExtractLane(0), ...op.f64Gt, ...op.select, ...f.set('best'),
    ...f.get('odd'), ...op.if,
    ...f.get('row'), ...f.get('pairBytes'), ...op.i32Add, ...op.f64Load(), ...f.get('rs'), ...op.f64Mul,
    ...f.get('colScale'), ...f.get('pairBytes'), ...op.i32Add, ...op.f64Load(), ...op.f64Mul, ...f.get('factor'), ...op.f64Mul, ...f.set('v'),
    ...f.get('row'), ...f.get('pairBytes'), ...op.i32Add, ...f.get('v'), ...op.f64Store(),
    ...f.get('v'), ...f.get('best'), ...f.get('v'), ...f.get('best'), ...op.f64Gt, ...op.select, ...f.set('best'),
    ...op.end,
    ...f.get('maxOut'), ...f.get('i'), ...op.i32Const(8), ...op.i32Mul, ...op.i32Add, ...f.get('best'), ...op.f64Store(),
  ]; // prettier-ignore
  return { name: 'scaleRows', frame: f, results: [], body: [...f.get('factor'), ...op.f64x2Splat, ...f.set('vf'), ...f.forUp('i', 'rows', 1, row)] };
}

/**
 * A row kernel that rewrites each value through `round` (local 'x' in, f64x2 on the stack out), in byte addresses:
 * lane pairs, then for an odd n the last pair including the element after the row's end, of which only lane 0 is
 * stored. `prologue` runs once per call.
 */
function roundRowsFunction(name: string, f: Frame, prologue: Bytes, round: Bytes) {
  const at = (off: string): Bytes => [...f.get('row'), ...f.get(off), ...op.i32Add];
  const row: Bytes = [
    ...f.get('s'), ...f.get('i'), ...f.get('stride'), ...op.i32Mul, ...op.i32Add, ...f.set('row'),
    ...f.forUp('j', 'pairBytes', 16, [...at('j'), ...at('j'), ...op.v128Load(), ...f.set('x'), ...round, ...op.v128Store()]),
    ...f.get('odd'), ...op.if,
    ...at('pairBytes'), ...at('pairBytes'), ...op.v128Load(), ...f.set('x'), ...round, ...op.f64x2ExtractLane(0), ...op.f64Store(),
    ...op.end,
  ]; // prettier-ignore
  return { name, frame: f, results: [], body: [...prologue, ...f.forUp('i', 'rows', 1, row)] };
}

/** bf16_rne(f32(p)) on the float32 bits, as the JavaScript twin and the kernel do: NaN stays NaN. */
function roundBf16Function(K: ConstPool) {
  const f = new Frame({ params: ['s', 'stride', 'rows', 'pairBytes', 'odd'], i32: ['i', 'j', 'row'], v128: ['x', 'b'] });
  const round: Bytes = [
    ...K.i32x4(0x7fc00000),
    ...f.get('x'), ...op.f32x4DemoteF64x2Zero, ...f.tee('b'), ...K.i32x4(0x7fff), ...op.i32x4Add,
    ...f.get('b'), ...op.i32Const(16), ...op.i32x4ShrU, ...K.i32x4(1), ...op.v128And, ...op.i32x4Add,
    ...K.i32x4(0xffff0000), ...op.v128And,
    ...f.get('b'), ...K.i32x4(0x7fffffff), ...op.v128And, ...K.i32x4(0x7f800000), ...op.i32x4GtU,
    ...op.v128Bitselect, ...op.f64x2PromoteLowF32x4,
  ]; // prettier-ignore
  return roundRowsFunction('roundBf16', f, [], round);
}

// encodeFp8Array's constants for E4M3, and the bits of its results as float32 values: a normal code is its float32
// value's bits rounded to the format's mantissa (round to nearest even, a carry moving into the exponent), a
// subnormal one RNE(|x| * 2^9) * 2^-9 in float64, anything above the largest finite value (infinity included)
// that value (satfinite), NaN NaN; the sign is the input's.
const E4M3_SHIFT = 23 - E4M3.mantissaBits;
const E4M3_ROUND_BIAS = (1 << (E4M3_SHIFT - 1)) - 1;
const E4M3_KEEP = ~((1 << E4M3_SHIFT) - 1) >>> 0;
const E4M3_MIN_NORMAL_BITS = (127 + 1 - E4M3.bias) << 23;
const E4M3_MAX_BITS = new Uint32Array(Float32Array.of(E4M3.maxFinite).buffer)[0] as number;
const E4M3_SUBNORMAL_SCALE = 2 ** (E4M3.bias - 1 + E4M3.mantissaBits);
const ROUND_MAGIC = 6755399441055744; // 1.5 * 2^52: x + magic - magic rounds x to an integer, ties to even

/** decode(encode_e4m3_satfinite_rne(f32(p * scale))), on the float32 bits (see the constants above). */
function roundE4m3Function(K: ConstPool) {
  const f = new Frame({
    params: ['s', 'stride', 'rows', 'pairBytes', 'odd'],
    f64Params: ['scale'],
    i32: ['i', 'j', 'row'],
    v128: ['x', 'vscale', 'y', 'a', 'rn'],
  });
  const round: Bytes = [
    ...f.get('x'), ...f.get('vscale'), ...op.f64x2Mul, ...f.tee('y'),
    ...op.f32x4DemoteF64x2Zero, ...K.i32x4(0x7fffffff), ...op.v128And, ...f.set('a'),
    // normal codes: round the mantissa, then saturate
    ...f.get('a'), ...K.i32x4(E4M3_ROUND_BIAS), ...op.i32x4Add,
    ...f.get('a'), ...op.i32Const(E4M3_SHIFT), ...op.i32x4ShrU, ...K.i32x4(1), ...op.v128And, ...op.i32x4Add,
    ...K.i32x4(E4M3_KEEP), ...op.v128And, ...f.set('rn'),
    ...K.i32x4(E4M3_MAX_BITS), ...f.get('rn'), ...f.get('rn'), ...K.i32x4(E4M3_MAX_BITS), ...op.i32x4GtU, ...op.v128Bitselect, ...f.set('rn'),
    // NaN ? NaN : (subnormal ? RNE(|x| * 2^9) * 2^-9 : normal), then the sign
    ...K.i64x2(0x7ff80000, 0),
    ...f.get('a'), ...op.f64x2PromoteLowF32x4, ...K.f64x2(E4M3_SUBNORMAL_SCALE), ...op.f64x2Mul,
    ...K.f64x2(ROUND_MAGIC), ...op.f64x2Add, ...K.f64x2(ROUND_MAGIC), ...op.f64x2Sub, ...K.f64x2(1 / E4M3_SUBNORMAL_SCALE), ...op.f64x2Mul,
    ...f.get('rn'), ...op.f64x2PromoteLowF32x4,
    ...f.get('a'), ...K.i32x4(E4M3_MIN_NORMAL_BITS), ...op.i32x4LtU, ...op.i64x2ExtendLowI32x4S,
    ...op.v128Bitselect,
    ...f.get('a'), ...K.i32x4(0x7f800000), ...op.i32x4GtU, ...op.i64x2ExtendLowI32x4S,
    ...op.v128Bitselect,
    ...f.get('y'), ...K.i64x2(0x80000000, 0), ...op.v128And, ...op.v128Or,
  ]; // prettier-ignore
  return roundRowsFunction('roundE4m3', f, [...f.get('scale'), ...op.f64x2Splat, ...f.set('vscale')], round);
}

interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: Record<string, unknown> };
  Memory: new (descriptor: { initial: number }) => { buffer: ArrayBuffer };
}

/** The heap starts after the constant pool's bytes. */
const HEAP_BASE = 1024;
let compiled: object | null | undefined; // undefined: not tried yet; null: no WebAssembly SIMD here

/** The compiled module (once per process), or null where WebAssembly or its SIMD is unavailable. */
function simdModule(): object | null {
  if (compiled !== undefined) return compiled;
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  try {
    const pool = new ConstPool(HEAP_BASE);
    const functions = [
      dotsFunction('dots', false),
      dotsFunction('dotsAccumulate', true),
      scaleRowsFunction(pool),
      expRowsFunction(pool),
      roundE4m3Function(pool),
      roundBf16Function(pool),
    ];
    const bytes = assembleModule({ imports: [{ module: 'env', name: 'exp', params: [F64], results: [F64] }], functions, data: pool.segment() });
    compiled = wasm ? new wasm.Module(bytes) : null;
  } catch {
    compiled = null; // e.g. a runtime without SIMD: the JavaScript kernels do the same work
  }
  return compiled;
}

/** Heaps under 2 GiB: byte addresses stay positive i32. */
const MAX_WASM_HEAP_ELEMENTS = Math.floor((2 ** 31 - HEAP_BASE) / 8);

function wasmKernels(module: object, elements: number): BlockKernels {
  const wasm = (globalThis as { WebAssembly?: WasmApi }).WebAssembly as WasmApi;
  const memory = new wasm.Memory({ initial: Math.ceil((HEAP_BASE + elements * 8) / 65536) });
  const instance = new wasm.Instance(module, { env: { memory, exp: Math.exp } });
  const e = instance.exports as {
    dots: (...args: number[]) => void;
    dotsAccumulate: (...args: number[]) => void;
    scaleRows: (...args: number[]) => void;
    expRows: (...args: number[]) => void;
    roundE4m3: (...args: number[]) => void;
    roundBf16: (...args: number[]) => void;
  };
  const A = (element: number) => HEAP_BASE + 8 * element; // byte address of a heap element
  return {
    kind: 'wasm-simd',
    heap: new Float64Array(memory.buffer, HEAP_BASE, elements),
    dots: (a, aStride, b, bStride, rows, cols, k, c, cStride) => e.dots(A(a), 8 * aStride, A(b), 8 * bStride, rows, cols, 8 * k, A(c), 8 * cStride),
    dotsAccumulate: (a, aStride, b, bStride, rows, cols, k, c, cStride, alpha) =>
      e.dotsAccumulate(A(a), 8 * aStride, A(b), 8 * bStride, rows, cols, 8 * k, A(c), 8 * cStride, A(alpha)),
    scaleRows: (s, stride, rows, n, rowScale, colScale, factor, maxOut) =>
      e.scaleRows(A(s), 8 * stride, rows, 16 * (n >> 1), n & 1, A(rowScale), A(colScale), A(maxOut), factor),
    expRows: (s, stride, rows, n, shift, sums) => e.expRows(A(s), 8 * stride, rows, 16 * (n >> 1), n & 1, A(shift), A(sums)),
    roundE4m3: (s, stride, rows, n, scale) => e.roundE4m3(A(s), 8 * stride, rows, 16 * (n >> 1), n & 1, scale),
    roundBf16: (s, stride, rows, n) => e.roundBf16(A(s), 8 * stride, rows, 16 * (n >> 1), n & 1),
  };
}

/**
 * Kernels on a fresh zeroed heap of `elements` float64 values: WebAssembly SIMD where available ('auto', the default)
 * and the heap fits in 2 GiB, else JavaScript. One heap per call of the twin: nothing is kept between calls but the
 * compiled module (a few KiB of code).
 */
export function createBlockKernels(elements: number, kind: 'auto' | BlockKernelsKind = 'auto'): BlockKernels {
  if (kind !== 'js' && elements <= MAX_WASM_HEAP_ELEMENTS) {
    const module = simdModule();
    if (module !== null) return wasmKernels(module, elements);
  }
  if (kind === 'wasm-simd') {
    throw new InvalidArgumentError({ argument: 'kernels', value: kind, message: `WebAssembly SIMD is unavailable in this runtime (or ${elements} float64 values exceed 2 GiB): use 'auto' or 'js'` });
  }
  return jsKernels(new Float64Array(elements));
}
