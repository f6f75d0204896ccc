// The native boundary without a GPU: the addon's op descriptions (the binding's field tables, native/src/ops/) against
// the TypeScript declarations (each op file's defineNativeOp), and the params each op's CUDA side sends, checked
// against the same declarations on a CUDA backend over a fake addon.
import { existsSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fakeCudaBackend } from '../_test/fake-addon';
import { channelMean } from '../ops/channel-mean';
import { createGroupMap } from '../ops/create-group-map';
import { createRowMap } from '../ops/create-row-map';
import { dequantizeRows } from '../ops/dequantize-rows';
import { dequantizeV } from '../ops/dequantize-v';
import { gemm } from '../ops/gemm';
import { nativeOpsOf } from '../ops/index';
import { gatherRows, scatterRows } from '../ops/permute-rows';
import { QUANTIZE_ROWS, quantizeRows } from '../ops/quantize-rows';
import { quantizeV } from '../ops/quantize-v';
import { CudaError } from './errors';
import { loadAddon } from './loader';
import { type NativeOp, defineNativeOp, describeNativeOp } from './native-op';

const load = loadAddon();
const addon = load.addon;
/** native/ (the addon is native/build/Release/fpsattn.node in the monorepo). */
const nativeDir = load.path === null ? '' : resolve(dirname(load.path), '..', '..');
const pascal = (name: string) => name[0]!.toUpperCase() + name.slice(1);
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

describe('native op descriptions', () => {
  it.runIf(addon !== null)('the addon describes exactly the ops the TypeScript side declares, field by field', () => {
    const described = addon!.opDescriptions();
    const strip = (f: { name: string; type: string; values?: string[] }) => (f.values ? { name: f.name, type: f.type, values: f.values } : { name: f.name, type: f.type });
    expect(described.map((d) => ({ name: d.name, fields: d.fields.map(strip), result: d.result?.map(strip) ?? null }))).toEqual(nativeOpsOf().map(describeNativeOp));
  });

  it.runIf(addon !== null && existsSync(join(nativeDir, 'src', 'ops')))('one name end to end: export, params struct, launcher and kernel file', () => {
    for (const d of addon!.opDescriptions()) {
      expect(d.params).toBe(`${pascal(d.name)}Params`);
      expect(d.launcher).toBe(`launch${pascal(d.name)}`);
      expect(basename(d.kernelFile)).toBe(`${snake(d.name)}.cu`); // in src/kernels/, a family folder below it, or ../blas/ (cuBLASLt)
      expect(existsSync(join(nativeDir, 'src', 'kernels', d.kernelFile)), d.kernelFile).toBe(true);
      expect(existsSync(join(nativeDir, 'src', 'ops', `${snake(d.name)}.cpp`)), `${d.name} binding`).toBe(true);
      expect(typeof (addon as unknown as Record<string, unknown>)[d.name]).toBe('function');
    }
  });

  it('describes enum fields by their strings (no magic integers)', () => {
    expect(describeNativeOp(QUANTIZE_ROWS).fields.find((f) => f.name === 'path')).toEqual({ name: 'path', type: 'enum', values: ['auto', 'two-pass', 'fused'] });
    expect(describeNativeOp(QUANTIZE_ROWS).result).toEqual([{ name: 'path', type: 'enum', values: ['fused', 'two-pass'] }]);
    expect(describeNativeOp(defineNativeOp({ name: 'x', fields: { t: 'tensor?', f: 'float', b: 'bool' }, result: null }))).toEqual({
      name: 'x',
      fields: [
        { name: 't', type: 'tensor?' },
        { name: 'f', type: 'float' },
        { name: 'b', type: 'bool' },
      ],
      result: null,
    });
  });
});

/** Checks one recorded native call against its declaration: the same keys in order, values of the declared types. */
function expectParamsMatch(op: NativeOp, params: Record<string, unknown>): void {
  expect(Object.keys(params)).toEqual(Object.keys(op.fields));
  for (const [name, type] of Object.entries(op.fields)) {
    const v = params[name];
    const ref = (r: unknown) => typeof r === 'object' && r !== null && Object.keys(r).join() === 'handle,byteOffset,byteLength';
    if (type === 'tensor') expect(ref(v), name).toBe(true);
    else if (type === 'tensor?') expect(v === null || ref(v), name).toBe(true);
    else if (type === 'int') expect(Number.isSafeInteger(v), name).toBe(true);
    else if (type === 'float') expect(typeof v, name).toBe('number');
    else if (type === 'bool') expect(typeof v, name).toBe('boolean');
    else expect(type, name).toContain(v);
  }
}

describe('the CUDA side of each op (fake addon)', () => {
  it('sends params of the declared fields and types, with tensor references to the right blocks', () => {
    const { backend, opCalls } = fakeCudaBackend({ opResults: { quantizeRows: { path: 'fused' } } });
    const rows = 32;
    const cols = 128;
    const x = backend.empty([rows, cols], 'bf16', { name: 'x' });
    const map = createRowMap({ backend, indices: Int32Array.from({ length: rows }, (_, i) => rows - 1 - i), targetRows: rows });
    const amax = backend.empty([cols], 'f32');
    const xt = gatherRows({ src: x, map, amax });
    scatterRows({ src: xt, map });
    const mean = channelMean({ x: xt });
    const groups = createGroupMap({ backend, groupOfRow: Int32Array.from({ length: rows }, (_, i) => i >> 4) });
    const q = quantizeRows({ x: xt, groups, headDim: 64, format: 'e5m2', mean, path: 'fused' });
    expect(q.path).toBe('fused');
    const v = quantizeV({ v: xt, format: 'e4m3', amax });
    dequantizeRows({ ...q, groups });
    dequantizeV({ ...v });
    const byName = new Map(nativeOpsOf().map((op) => [op.name, op]));
    expect(opCalls.map((c) => c.name)).toEqual(['permuteRows', 'permuteRows', 'channelMean', 'quantizeRows', 'quantizeV', 'dequantizeRows', 'dequantizeV']);
    for (const call of opCalls) expectParamsMatch(byName.get(call.name)!, call.params);
    const handle = (t: { storage: unknown }) => (t.storage as { handle: number }).handle;
    expect(opCalls[0]!.params).toMatchObject({ src: { handle: handle(x), byteOffset: 0, byteLength: rows * cols * 2 }, rowMap: { handle: handle(map.tensor) }, srcRows: rows, dstRows: rows, mapLen: rows, rowBytes: cols * 2, scatter: false, amax: { handle: handle(amax) } });
    expect(opCalls[1]!.params).toMatchObject({ src: { handle: handle(xt) }, scatter: true, amax: null });
    expect(opCalls[2]!.params).toMatchObject({ x: { handle: handle(xt) }, mean: { handle: handle(mean) }, rows, cols });
    expect(opCalls[3]!.params).toMatchObject({ groupOfRow: { handle: handle(groups.groupOfRow) }, groupStart: { handle: handle(groups.groupStart!) }, mean: { handle: handle(mean) }, codes: { handle: handle(q.codes) }, scales: { handle: handle(q.scales) }, rows, cols, headDim: 64, heads: 2, groupCount: 2, maxGroupRows: 16, format: 'e5m2', path: 'fused' });
    expect(opCalls[4]!.params).toMatchObject({ v: { handle: handle(xt) }, codesT: { handle: handle(v.codesT) }, scales: { handle: handle(v.scales) }, amax: { handle: handle(amax) }, rows, cols, tokenStride: 32, format: 'e4m3' });
    expect(opCalls[5]!.params).toMatchObject({ codes: { handle: handle(q.codes) }, scales: { handle: handle(q.scales) }, groupOfRow: { handle: handle(groups.groupOfRow) }, rows, cols, headDim: 64, heads: 2, groupCount: 2, format: 'e5m2' });
    expect(opCalls[6]!.params).toMatchObject({ codesT: { handle: handle(v.codesT) }, scales: { handle: handle(v.scales) }, rows, cols, tokenStride: 32, format: 'e4m3' });
  });

  it('optional tensors go as null, the default path as \'auto\', and a view as its byte range', () => {
    const { backend, opCalls } = fakeCudaBackend({ opResults: { quantizeRows: { path: 'two-pass' } } });
    const x = backend.empty([48, 64], 'bf16');
    const groups = createGroupMap({ backend, groupOfRow: Int32Array.of(...new Array(16).fill(1), ...new Array(32).fill(0)) });
    const view = x.sliceRows(16, 32);
    const g2 = createGroupMap({ backend, groupOfRow: new Int32Array(32) });
    expect(quantizeRows({ x, groups, headDim: 64, format: 'e4m3' }).path).toBe('two-pass');
    quantizeRows({ x: view, groups: g2, headDim: 64, format: 'e4m3' });
    quantizeV({ v: x, format: 'e4m3' });
    expect(opCalls[0]!.params).toMatchObject({ groupStart: null, mean: null, path: 'auto', maxGroupRows: 32 });
    expect(opCalls[1]!.params).toMatchObject({ x: { byteOffset: 16 * 64 * 2, byteLength: 32 * 64 * 2 }, rows: 32 });
    expect(opCalls[2]!.params).toMatchObject({ amax: null, tokenStride: 48 });
  });

  it('gemm sends its epilogue, types and scales as declared (cuBLASLt: bias and GELU fused)', () => {
    const { backend, opCalls } = fakeCudaBackend();
    const x = backend.empty([2, 5, 32], 'bf16', { name: 'x' });
    const w = backend.empty([16, 32], 'bf16');
    const bias = backend.empty([16], 'f32');
    const y = gemm({ x, w, bias, activation: 'gelu', outDtype: 'f32' });
    gemm({ x, w });
    const x8 = backend.empty([3, 32], 'e4m3');
    const w8 = backend.empty([16, 32], 'e4m3');
    const xScale = backend.empty([1], 'f32');
    const wScale = backend.empty([1], 'f32');
    const b8 = backend.empty([16], 'bf16');
    gemm({ x: x8, w: w8, xScale, wScale, bias: b8, fastAccum: true });
    gemm({ x: backend.empty([0, 32], 'bf16'), w }); // no rows: no native call
    const xb = backend.empty([4, 24, 64], 'bf16');
    const yb = gemm({ x: xb, w: backend.empty([4, 24, 64], 'bf16'), outDtype: 'f32' }); // a batch of 4 products
    expect(opCalls.map((c) => c.name)).toEqual(['gemm', 'gemm', 'gemm', 'gemm']);
    const byName = new Map(nativeOpsOf().map((op) => [op.name, op]));
    for (const call of opCalls) expectParamsMatch(byName.get(call.name)!, call.params);
    const handle = (t: { storage: unknown }) => (t.storage as { handle: number }).handle;
    expect(opCalls[0]!.params).toMatchObject({ x: { handle: handle(x), byteLength: 10 * 32 * 2 }, w: { handle: handle(w) }, bias: { handle: handle(bias) }, xScale: null, wScale: null, y: { handle: handle(y), byteLength: 10 * 16 * 4 }, m: 10, n: 16, k: 32, batch: 1, input: 'bf16', output: 'f32', epilogue: 'gelu-bias', fastAccum: false });
    expect(opCalls[1]!.params).toMatchObject({ bias: null, output: 'bf16', epilogue: 'none' });
    expect(opCalls[2]!.params).toMatchObject({ xScale: { handle: handle(xScale) }, wScale: { handle: handle(wScale) }, bias: { handle: handle(b8) }, m: 3, input: 'e4m3', output: 'bf16', epilogue: 'bias', fastAccum: true });
    expect(opCalls[3]!.params).toMatchObject({ x: { handle: handle(xb), byteLength: 4 * 24 * 64 * 2 }, y: { handle: handle(yb), byteLength: 4 * 24 * 24 * 4 }, m: 24, n: 24, k: 64, batch: 4, output: 'f32', epilogue: 'none' });
  });

  it('native failures come back as fpsattn errors named after the op, and outputs are freed', () => {
    const { backend, addon } = fakeCudaBackend();
    (addon as unknown as Record<string, unknown>).channelMean = () => {
      throw Object.assign(new Error('fpsattn.channelMean: kernel launch failed: cudaErrorInvalidValue'), { code: 'FPSATTN_CUDA_ERROR' });
    };
    const x = backend.empty([16, 64], 'bf16');
    let error: unknown;
    try {
      channelMean({ x });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CudaError);
    expect(error).toMatchObject({ call: 'channelMean', code: 'FPSATTN_CUDA_ERROR' });
    expect(backend.memoryStats().pooledStorages).toBe(1); // the mean tensor it allocated went back to the pool
    delete (addon as unknown as Record<string, unknown>).channelMean;
    expect(() => channelMean({ x })).toThrow(/the addon has no 'channelMean' export: rebuild native\//);
  });
});
