import { InvalidArgumentError, ShapeMismatchError, dequantize, quantize } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { thrown } from '../_test/thrown';
import { bf16BitsToFloat32Array } from '../cpu/bf16';
import { CpuBackend } from '../cpu/backend';
import { DisposedError } from '../core/errors';
import { tileMajor } from '../_test/tiling';
import { bitsEqual, randomBf16 } from '../testing';
import { channelMeanCpu } from './channel-mean';
import { createGroupMap } from './create-group-map';
import { createRowMap } from './create-row-map';
import { dequantizeRows, dequantizeRowsCpu } from './dequantize-rows';
import { gatherRows } from './permute-rows';
import { FUSED_MAX_STAGING_BYTES, quantizeRows, quantizeRowsCpu } from './quantize-rows';

const ROWS = 600; // grid 3 x 10 x 20
const HEAD_DIM = 128;
const COLS = 2 * HEAD_DIM;
const GRID = [3, 10, 20] as const;

describe('quantizeRowsCpu is bit-exact with @fpsattn/fp8 quantize', () => {
  const x = randomBf16(ROWS * COLS, 3, { cols: COLS, offset: 1 });
  const f = bf16BitsToFloat32Array(x);
  const tiles = tileMajor(GRID, [3, 5, 8]);
  const cases: [string, Int32Array, number][] = [
    ['per-tensor', new Int32Array(ROWS), 1],
    ['per-token', Int32Array.from({ length: ROWS }, (_, i) => i), ROWS],
    ['raster 3D tiles', tiles.rasterGroups, tiles.tileCount],
  ];
  for (const format of ['e4m3', 'e5m2'] as const) {
    for (const [label, groupOfRow, groupCount] of cases) {
      it(`${label}, ${format}`, () => {
        const twin = quantizeRowsCpu({ x, rows: ROWS, cols: COLS, headDim: HEAD_DIM, groupOfRow, groupCount, format });
        const ref = quantize({ data: f, rows: ROWS, cols: COLS, format, granularity: { kind: 'group', groupOfRow, groupCount, columnsPerScale: HEAD_DIM } });
        expect(bitsEqual(twin.scales, ref.scales)).toBe(-1);
        expect(bitsEqual(twin.codes, ref.codes)).toBe(-1);
        const deq = dequantizeRowsCpu({ ...twin, groupOfRow, rows: ROWS, cols: COLS, headDim: HEAD_DIM, format });
        expect(bitsEqual(deq, dequantize({ quantized: ref }))).toBe(-1);
      });
    }
  }

  it('K smoothing subtracts the mean in float32 before quantizing (equals fp8 quantize of the smoothed values)', () => {
    const groupOfRow = Int32Array.from({ length: ROWS }, (_, i) => Math.floor(i / 120));
    const mean = channelMeanCpu(x, ROWS, COLS);
    const smoothed = new Float32Array(f.length);
    for (let i = 0; i < f.length; i++) smoothed[i] = (f[i] as number) - (mean[i % COLS] as number);
    const twin = quantizeRowsCpu({ x, rows: ROWS, cols: COLS, headDim: HEAD_DIM, groupOfRow, groupCount: 5, format: 'e4m3', mean });
    const ref = quantize({ data: smoothed, rows: ROWS, cols: COLS, format: 'e4m3', granularity: { kind: 'group', groupOfRow, groupCount: 5, columnsPerScale: HEAD_DIM } });
    expect(bitsEqual(twin.codes, ref.codes)).toBe(-1);
    expect(bitsEqual(twin.scales, ref.scales)).toBe(-1);
  });

  it('special values: NaN -> NaN code, inf saturates and is excluded from amax; tiny groups get the 2^-126 scale floor', () => {
    const bits = new Uint16Array(4 * COLS).fill(0x3f80); // 1.0
    bits[0] = 0x7fc0; // NaN
    bits[1] = 0x7f80; // +inf
    bits[2] = 0xff80; // -inf
    for (let c = 0; c < COLS; c++) bits[3 * COLS + c] = 0x0001; // the smallest bf16 subnormal
    const groupOfRow = Int32Array.from([0, 1, 2, 3]);
    const twin = quantizeRowsCpu({ x: bits, rows: 4, cols: COLS, headDim: HEAD_DIM, groupOfRow, groupCount: 4, format: 'e4m3' });
    expect(twin.codes[0]).toBe(0x7f);
    expect(twin.codes[1]).toBe(0x7e);
    expect(twin.codes[2]).toBe(0xfe);
    expect(twin.codes[3]).toBe(0x7e); // 1.0 with amax 1.0 (inf excluded) -> 448
    expect(twin.scales[0]).toBe(Math.fround(1 / 448));
    expect(twin.scales[6]).toBe(2 ** -126); // amax 2^-133: amax / 448 is below the floor that keeps 1 / scale finite
    expect(twin.codes[3 * COLS]).toBe(0x04); // 2^-133 * 2^126 = 2^-7 = 4 E4M3 subnormal steps
    const ref = quantize({ data: bf16BitsToFloat32Array(bits), rows: 4, cols: COLS, format: 'e4m3', nonFinite: 'ignore', granularity: { kind: 'group', groupOfRow, groupCount: 4, columnsPerScale: HEAD_DIM } });
    expect(bitsEqual(twin.codes, ref.codes)).toBe(-1);
  });

  it('a head of one group takes its scale from its own channels only', () => {
    const bits = new Uint16Array(2 * COLS).fill(0x3f80); // 1.0
    bits[HEAD_DIM] = 0x4100; // 8.0 in the first channel of head 1 (next to head 0's last)
    const twin = quantizeRowsCpu({ x: bits, rows: 2, cols: COLS, headDim: HEAD_DIM, groupOfRow: Int32Array.of(0, 0), groupCount: 1, format: 'e4m3' });
    expect(Array.from(twin.scales)).toEqual([Math.fround(1 / 448), Math.fround(8 / 448)]);
  });
});

describe('quantizeRows', () => {
  const backend = new CpuBackend();
  const rows = 120;
  const cols = 256;
  const xHost = randomBf16(rows * cols, 9, { cols });
  const x = backend.fromArray(xHost, [rows, cols], 'bf16', { name: 'x' });
  const groups = createGroupMap({ backend, groupOfRow: Int32Array.from({ length: rows }, (_, i) => Math.floor(i / 40)) });

  it('runs the twin: codes [rows, cols] and scales [groups, heads], named after x or name', () => {
    const q = quantizeRows({ x, groups, headDim: 128, format: 'e4m3' });
    expect(q).toMatchObject({ path: 'cpu', headDim: 128, format: 'e4m3' });
    expect(q.codes.shape).toEqual([rows, cols]);
    expect(q.codes.dtype).toBe('e4m3');
    expect(q.codes.name).toBe('x.codes');
    expect(q.scales.shape).toEqual([3, 2]);
    expect(q.scales.name).toBe('x.scales');
    const twin = quantizeRowsCpu({ x: xHost, rows, cols, headDim: 128, groupOfRow: Int32Array.from({ length: rows }, (_, i) => Math.floor(i / 40)), groupCount: 3, format: 'e4m3' });
    expect(bitsEqual(q.codes.downloadSync(), twin.codes)).toBe(-1);
    expect(bitsEqual(q.scales.downloadSync(), twin.scales)).toBe(-1);
    const named = quantizeRows({ x, groups, headDim: 64, format: 'e5m2', name: 'k', path: 'two-pass' });
    expect(named.codes.name).toBe('k.codes');
    expect(named.scales.shape).toEqual([3, 4]);
    const back = dequantizeRows({ ...q, groups });
    expect(back.name).toBe('x.codes.dequantized');
    expect(bitsEqual(back.downloadSync(), dequantizeRowsCpu({ ...twin, groupOfRow: Int32Array.from({ length: rows }, (_, i) => Math.floor(i / 40)), rows, cols, headDim: 128, format: 'e4m3' }))).toBe(-1);
  });

  it('smooths with a mean and writes into out', () => {
    const mean = backend.fromArray(channelMeanCpu(xHost, rows, cols), [cols], 'f32');
    const out = { codes: backend.empty([rows, cols], 'e4m3'), scales: backend.empty([3, 2], 'f32') };
    const q = quantizeRows({ x, groups, headDim: 128, format: 'e4m3', mean, out });
    expect(q.codes).toBe(out.codes);
    expect(q.scales).toBe(out.scales);
    const twin = quantizeRowsCpu({ x: xHost, rows, cols, headDim: 128, groupOfRow: Int32Array.from({ length: rows }, (_, i) => Math.floor(i / 40)), groupCount: 3, format: 'e4m3', mean: mean.downloadSync() });
    expect(bitsEqual(out.codes.downloadSync(), twin.codes)).toBe(-1);
  });

  it('checks headDim: a power of two in [16, 256] (96 divides 192 columns and is still refused)', () => {
    const x192 = backend.empty([rows, 192], 'bf16');
    const err = (() => {
      try {
        quantizeRows({ x: x192, groups, headDim: 96, format: 'e4m3' });
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(InvalidArgumentError);
    expect(err).toMatchObject({ argument: 'headDim', value: 96, message: "Invalid argument 'headDim': expected a power of two in [16, 256]" });
    for (const headDim of [8, 512, 64.5, '128']) expect(() => quantizeRows({ x, groups, headDim: headDim as number, format: 'e4m3' })).toThrow(/'headDim': expected a power of two/);
    expect(quantizeRows({ x, groups, headDim: 16, format: 'e4m3' }).scales.shape).toEqual([3, 16]);
    expect(quantizeRows({ x, groups, headDim: 256, format: 'e4m3' }).scales.shape).toEqual([3, 1]);
  });

  it('checks that headDim divides the columns, separately: 128 on 192 columns is a shape error', () => {
    const x192 = backend.empty([rows, 192], 'bf16');
    expect(() => quantizeRows({ x: x192, groups, headDim: 128, format: 'e4m3' })).toThrow(ShapeMismatchError);
    expect(() => quantizeRows({ x: x192, groups, headDim: 128, format: 'e4m3' })).toThrow(/a positive multiple of headDim 128 columns \(at least one head\).*192 columns/);
    const empty = backend.empty([32, 0], 'bf16');
    const g32 = createGroupMap({ backend, groupOfRow: Int32Array.from({ length: 32 }, (_, i) => i % 2) });
    expect(() => quantizeRows({ x: empty, groups: g32, headDim: 128, format: 'e4m3' })).toThrow(/at least one head/);
  });

  it('names the argument each check is about', () => {
    expect(thrown(() => quantizeRows({ x: backend.empty([rows, cols], 'f32') as never, groups, headDim: 128, format: 'e4m3' }))).toMatchObject({ tensor: 'x', expected: 'dtype bf16' });
    expect(thrown(() => quantizeRows({ x: backend.empty([rows * cols], 'bf16'), groups, headDim: 128, format: 'e4m3' }))).toMatchObject({ tensor: 'x' });
    expect(thrown(() => quantizeRows({ x: backend.empty([rows, 192], 'bf16'), groups, headDim: 128, format: 'e4m3' }))).toMatchObject({ tensor: 'x', actual: '192 columns' });
    expect(thrown(() => quantizeRows({ x, groups: {} as never, headDim: 128, format: 'e4m3' }))).toMatchObject({ argument: 'groups', message: "Invalid argument 'groups': quantizeRows expects a GroupMap from createGroupMap" });
    expect(thrown(() => quantizeRows({ x, groups: undefined as never, headDim: 128, format: 'e4m3' }))).toMatchObject({ argument: 'groups' });
    expect(thrown(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', mean: backend.empty([], 'f32') }))).toMatchObject({ tensor: 'mean', expected: '[256]', actual: '[]' });
    const descending = createGroupMap({ backend, groupOfRow: Int32Array.of(...new Array(60).fill(1), ...new Array(60).fill(0)) });
    expect(thrown(() => quantizeRows({ x, groups: descending, headDim: 128, format: 'e4m3', path: 'fused' }))).toMatchObject({ argument: 'path', value: 'fused' });
  });

  it('names the tensor and the expected vs actual shape', () => {
    expect(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m2' as never })).toThrow(/'format': expected 'e4m3' or 'e5m2'/);
    const wrongRows = createGroupMap({ backend, groupOfRow: new Int32Array(rows - 1) });
    expect(() => quantizeRows({ x, groups: wrongRows, headDim: 128, format: 'e4m3' })).toThrow(/Shape mismatch for 'groups'.*120 rows \(one group per row of x\).*119 rows/);
    const f32 = backend.empty([rows, cols], 'f32', { name: 'k32' });
    expect(() => quantizeRows({ x: f32 as never, groups, headDim: 128, format: 'e4m3' })).toThrow(/dtype bf16.*'k32'/);
    expect(() => quantizeRows({ x: backend.empty([rows * cols], 'bf16'), groups, headDim: 128, format: 'e4m3' })).toThrow(/a 2-D/);
    expect(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', mean: backend.empty([cols + 1], 'f32') })).toThrow(/Shape mismatch for 'mean'/);
    expect(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', mean: backend.empty([cols], 'bf16') as never })).toThrow(/Shape mismatch for 'mean'.*dtype f32/);
    expect(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', mean: 'mu' as never })).toThrow(/'mean': quantizeRows expects a Tensor/);
    expect(() => quantizeRows({ x: {} as never, groups, headDim: 128, format: 'e4m3' })).toThrow(/'x': quantizeRows expects a Tensor/);
  });

  it('checks out: each tensor, its dtype and shape, and that it does not alias x', () => {
    const scales = backend.empty([3, 2], 'f32');
    const codes = backend.empty([rows, cols], 'e4m3');
    expect(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', out: { codes, scales: backend.empty([2, 2], 'f32') } })).toThrow(/Shape mismatch for 'out.scales'/);
    expect(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', out: { codes: backend.empty([rows, cols], 'e5m2') as never, scales } })).toThrow(/'out.codes'.*dtype e4m3/);
    expect(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', out: { codes, scales: backend.empty([3, 2], 'i32') as never } })).toThrow(/'out.scales'.*dtype f32/);
    expect(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', out: { scales } as never })).toThrow(/'out.codes': quantizeRows expects a Tensor/);
    const xScales = new (x.constructor as never as typeof import('../core/tensor').Tensor)({ storage: x.storage, dtype: 'f32', shape: [3, 2] });
    expect(thrown(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', out: { codes, scales: xScales } }))).toMatchObject({ argument: 'out.scales', message: /cannot write into storage it reads/ });
    const aliased = x.reshape([-1]).reshape([rows, cols]);
    expect(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', out: { codes: new (x.constructor as never as typeof import('../core/tensor').Tensor)({ storage: aliased.storage, dtype: 'e4m3', shape: [rows, cols] }), scales } })).toThrow(/cannot write into storage it reads \('x'\)/);
  });

  it('checks the path: a string, and fused only for contiguous groups that fit the staging buffer', () => {
    expect(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', path: 2 as never })).toThrow(/'path': expected 'auto', 'two-pass' or 'fused'/);
    expect(quantizeRows({ x, groups, headDim: 128, format: 'e4m3', path: 'fused' }).path).toBe('cpu');
    const nc = createGroupMap({ backend, groupOfRow: Int32Array.from({ length: rows }, (_, i) => (i * 7) % 3) });
    expect(() => quantizeRows({ x, groups: nc, headDim: 128, format: 'e4m3', path: 'fused' })).toThrow(/fused kernel needs contiguous groups of at most 640 rows \(contiguous: false, largest group 40 rows\)/);
    expect(quantizeRows({ x, groups: nc, headDim: 128, format: 'e4m3', path: 'two-pass' }).path).toBe('cpu');
    const maxRows = FUSED_MAX_STAGING_BYTES / (2 * 128);
    const fits = backend.empty([maxRows, 128], 'bf16');
    expect(quantizeRows({ x: fits, groups: createGroupMap({ backend, groupOfRow: new Int32Array(maxRows) }), headDim: 128, format: 'e4m3', path: 'fused' }).path).toBe('cpu');
    const big = backend.empty([maxRows + 1, 128], 'bf16');
    expect(() => quantizeRows({ x: big, groups: createGroupMap({ backend, groupOfRow: new Int32Array(maxRows + 1) }), headDim: 128, format: 'e4m3', path: 'fused' })).toThrow(/largest group 641 rows/);
  });

  it('accepts only maps made by createGroupMap, and not after dispose', () => {
    expect(() => quantizeRows({ x, groups: { ...groups }, headDim: 128, format: 'e4m3' })).toThrow(/expects a GroupMap from createGroupMap/);
    const rowMap = createRowMap({ backend, indices: new Int32Array(rows), targetRows: 1 });
    expect(() => quantizeRows({ x, groups: rowMap as never, headDim: 128, format: 'e4m3' })).toThrow(/expects a GroupMap/);
    expect(() => quantizeRows({ x, groups: null as never, headDim: 128, format: 'e4m3' })).toThrow(/expects a GroupMap/);
    const g = createGroupMap({ backend, groupOfRow: new Int32Array(rows) });
    g.dispose();
    expect(() => quantizeRows({ x, groups: g, headDim: 128, format: 'e4m3' })).toThrow(DisposedError);
  });

  it('dequantizeRows checks codes, scales and groups', () => {
    const q = quantizeRows({ x, groups, headDim: 128, format: 'e4m3' });
    expect(() => dequantizeRows({ ...q, groups, headDim: 96 })).toThrow(/'headDim': expected a power of two/);
    expect(() => dequantizeRows({ ...q, groups, headDim: 64 })).toThrow(/Shape mismatch for 'scales'.*\[3, 4\].*\[3, 2\]/);
    expect(thrown(() => dequantizeRows({ ...q, codes: q.codes.reshape([-1]) as never, groups }))).toMatchObject({ tensor: 'codes', expected: 'a 2-D [tokens, heads * headDim] tensor' });
    expect(thrown(() => dequantizeRows({ ...q, codes: backend.empty([rows, 192], 'e4m3'), groups }))).toMatchObject({ tensor: 'codes', actual: '192 columns' });
    expect(thrown(() => dequantizeRows({ ...q, groups: { ...groups } }))).toMatchObject({ argument: 'groups', message: /dequantizeRows expects a GroupMap/ });
    expect(thrown(() => dequantizeRows({ ...q, codes: 'c' as never, groups }))).toMatchObject({ argument: 'codes', message: /dequantizeRows expects a Tensor/ });
    expect(() => dequantizeRows({ ...q, groups: createGroupMap({ backend, groupOfRow: new Int32Array(rows + 1) }) })).toThrow(/Shape mismatch for 'groups'.*120 rows.*121 rows/);
    expect(() => dequantizeRows({ codes: x as never, scales: q.scales, groups, headDim: 128 })).toThrow(/'codes'.*dtype e4m3 or e5m2/);
    expect(() => dequantizeRows({ codes: q.codes, scales: q.codes as never, groups, headDim: 128 })).toThrow(/'scales'.*dtype f32/);
    expect(() => dequantizeRows({ codes: q.codes, scales: 1 as never, groups, headDim: 128 })).toThrow(/'scales': dequantizeRows expects a Tensor/);
    expect(dequantizeRows({ ...q, groups, name: 'back' }).name).toBe('back');
    q.codes.dispose();
    expect(() => dequantizeRows({ ...q, groups })).toThrow(DisposedError);
  });

  it('quantizes tile-major rows gathered with tiling\'s permutation like raster rows with raster tile groups', () => {
    const grid = [3, 5, 16] as const;
    const t = tileMajor(grid, [3, 5, 8]);
    const n = 240;
    const raster = backend.fromArray(randomBf16(n * 128, 5, { cols: 128 }), [n, 128], 'bf16');
    const tiled = gatherRows({ src: raster, map: createRowMap({ backend, indices: t.perm, targetRows: n }) });
    const a = quantizeRows({ x: tiled, groups: createGroupMap({ backend, groupOfRow: t.tileOfSlot }), headDim: 128, format: 'e4m3' });
    const b = quantizeRows({ x: raster, groups: createGroupMap({ backend, groupOfRow: t.rasterGroups }), headDim: 128, format: 'e4m3' });
    expect(bitsEqual(a.scales.downloadSync(), b.scales.downloadSync())).toBe(-1);
  });
});
