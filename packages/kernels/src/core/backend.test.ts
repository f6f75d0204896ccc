import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../cpu/backend';
import { channelAmaxCpu } from '../cpu/twins';
import { randomBf16, tileMajorPermutation } from '../testing';
import { MAX_TOKEN_ROWS } from './backend';
import { DisposedError } from './errors';
import type { Tensor } from './tensor';

const b = new CpuBackend();

describe('tensors', () => {
  it('allocate, upload, download, reshape and slice views share storage', async () => {
    const data = Float32Array.from({ length: 24 }, (_, i) => i + 1);
    const t = b.fromArray(data, [4, 6], 'f32', { name: 'a' });
    expect(t.shape).toEqual([4, 6]);
    expect(Object.isFrozen(t.shape)).toBe(true);
    const requested = [4, 6];
    const u = b.empty(requested, 'f32');
    requested[0] = 99; // the tensor keeps its own copy
    expect(u.shape).toEqual([4, 6]);
    expect(t.strides).toEqual([6, 1]);
    expect(t.byteLength).toBe(96);
    const r = t.reshape([2, -1]);
    expect(r.shape).toEqual([2, 12]);
    const s = t.sliceRows(1, 2);
    expect(Array.from(await s.download())).toEqual(Array.from(data.subarray(6, 18)));
    s.upload(new Float32Array(12).fill(7));
    expect(t.downloadSync()[6]).toBe(7);
    t.dispose();
    expect(r.disposed).toBe(false); // views keep the storage alive
    r.dispose();
    s.dispose();
    expect(s.disposed).toBe(true);
  });

  it('Symbol.dispose frees, and use after dispose is a DisposedError naming the tensor', () => {
    const t = b.empty([2, 8], 'bf16', { name: 'q' });
    t[Symbol.dispose]();
    expect(() => t.downloadSync()).toThrow(DisposedError);
    expect(() => t.downloadSync()).toThrow(/'q' was used by downloadSync after dispose/);
    t.dispose(); // idempotent
  });

  it('a `using` declaration disposes the tensor when its block ends, also when the block throws', () => {
    let escaped: Tensor | undefined;
    {
      using t = b.empty([4, 4], 'f32');
      escaped = t;
      expect(t.disposed).toBe(false);
    }
    expect(escaped.disposed).toBe(true);
    expect(() => {
      using t = b.empty([4, 4], 'f32');
      escaped = t;
      throw new Error('step failed');
    }).toThrow('step failed');
    expect(escaped.disposed).toBe(true);
  });

  it('dtype and length mismatches are clear errors', () => {
    expect(() => b.fromArray(new Float32Array(4) as never, [4], 'bf16')).toThrow(InvalidArgumentError);
    expect(() => b.fromArray(new Uint16Array(3), [4], 'bf16')).toThrow(ShapeMismatchError);
    expect(() => b.empty([2, -1], 'f32')).toThrow(InvalidArgumentError);
    expect(() => b.empty([2], 'f64' as never)).toThrow(/expected one of/);
    const t = b.empty([4, 6], 'f32');
    expect(() => t.reshape([5, 5])).toThrow(ShapeMismatchError);
    expect(() => t.sliceRows(3, 2)).toThrow(InvalidArgumentError);
  });

  it('host out-of-memory is an OutOfMemoryError, not a crash', () => {
    expect(() => b.empty([2 ** 40], 'u8')).toThrow(expect.objectContaining({ code: 'FPSATTN_OUT_OF_MEMORY' }));
  });
});

describe('maps and kernels validation (identical on both backends)', () => {
  const rows = 120, cols = 256;
  const x = b.fromArray(randomBf16(rows * cols, 9, { cols }), [rows, cols], 'bf16', { name: 'x' });

  it('row maps reject out-of-range entries and scatter needs an injective map', () => {
    expect(() => b.createRowMap(Int32Array.from([0, 5]), { targetRows: 5 })).toThrow(/entry 1 is 5/);
    expect(() => b.createRowMap(Int32Array.from([0, -2]), { targetRows: 5 })).toThrow(InvalidArgumentError);
    const dup = b.createRowMap(Int32Array.from([0, 0, -1]), { targetRows: 5 });
    expect(dup.injective).toBe(false);
    const src = b.empty([3, 8], 'bf16');
    expect(() => b.scatterRows(src, dup, {})).toThrow(/injective|distinct/);
    const g = b.gatherRows(b.empty([5, 8], 'bf16').fillBytes(1), dup);
    expect(Array.from(g.downloadSync().subarray(16, 24))).toEqual(new Array(8).fill(0));
  });

  it('group maps detect contiguous runs (fused path) and reject bad groups', () => {
    const { tileOfSlot, tileCount } = tileMajorPermutation([3, 5, 8], [3, 5, 8]);
    const g = b.createGroupMap(tileOfSlot, { groupCount: tileCount });
    expect(g.contiguous).toBe(true);
    expect(g.maxGroupRows).toBe(120);
    expect(g.groupStart?.downloadSync()[1]).toBe(120);
    const nc = b.createGroupMap(Int32Array.from([1, 0, 1]));
    expect(nc.contiguous).toBe(false);
    expect(nc.groupCount).toBe(2);
    expect(() => b.createGroupMap(Int32Array.from([0, 3]), { groupCount: 2 })).toThrow(/row 1 maps to group 3/);
    const ncRows = b.createGroupMap(Int32Array.from({ length: rows }, (_, i) => (i * 7) % 3));
    expect(() => b.quantizeQK(x, { groups: ncRows, headDim: 128, format: 'e4m3', path: 'fused' })).toThrow(/fused kernel needs contiguous/);
  });

  it('quantizeQK names the tensor and the expected vs actual shape', () => {
    const groups = b.createGroupMap(new Int32Array(rows));
    expect(() => b.quantizeQK(x, { groups, headDim: 96, format: 'e4m3' })).toThrow(/headDim/);
    expect(() => b.quantizeQK(x, { groups, headDim: 128, format: 'e4m2' as never })).toThrow(/format/);
    const wrongRows = b.createGroupMap(new Int32Array(rows - 1));
    expect(() => b.quantizeQK(x, { groups: wrongRows, headDim: 128, format: 'e4m3' })).toThrow(ShapeMismatchError);
    const f32 = b.empty([rows, cols], 'f32', { name: 'k32' });
    expect(() => b.quantizeQK(f32 as never, { groups, headDim: 128, format: 'e4m3' })).toThrow(/dtype bf16.*'k32'/);
    const mean = b.empty([cols + 1], 'f32');
    expect(() => b.quantizeQK(x, { groups, headDim: 128, format: 'e4m3', mean })).toThrow(/Shape mismatch for 'mean'/);
    const q = b.quantizeQK(x, { groups, headDim: 128, format: 'e4m3' });
    expect(q.codes.dtype).toBe('e4m3');
    expect(q.scales.shape).toEqual([1, 2]);
    expect(() => b.quantizeQK(x, { groups, headDim: 128, format: 'e4m3', out: { codes: q.codes, scales: b.empty([2, 2], 'f32') } })).toThrow(/out.scales/);
    q.codes.dispose();
    expect(() => b.dequantizeQK(q, { groups, headDim: 128 })).toThrow(DisposedError);
  });

  it('quantizeV validates token stride and column multiple', () => {
    expect(() => b.quantizeV(x, { format: 'e4m3', tokenStride: 100 })).toThrow(/tokenStride/);
    const v = b.quantizeV(x, { format: 'e5m2' });
    expect(v.codesT.shape).toEqual([cols, 128]);
    expect(v.codesT.dtype).toBe('e5m2');
    const back = b.dequantizeV(v, { rows });
    expect(back.shape).toEqual([rows, cols]);
    expect(() => b.quantizeV(b.empty([4, 32], 'bf16'), { format: 'e4m3' })).toThrow(/multiple of 64/);
  });

  it('tensors of another device are rejected by name', () => {
    const foreign = Object.create(x, { device: { value: 'cuda' } });
    expect(() => b.channelMean(foreign)).toThrow();
  });

  it('rejects tensors with no head (zero columns) instead of launching an empty grid', () => {
    const empty = b.empty([32, 0], 'bf16');
    const groups = b.createGroupMap(Int32Array.from({ length: 32 }, (_, i) => i % 2));
    expect(() => b.quantizeQK(empty, { groups, headDim: 128, format: 'e4m3' })).toThrow(/at least one head/);
  });

  it('rejects views that do not start on a 16-byte boundary, on every backend', () => {
    const scales = b.empty([8], 'f32');
    const mean = b.empty([129], 'f32').sliceRows(1, 128);
    const x = b.fromArray(randomBf16(4 * 128, 9), [4, 128], 'bf16');
    const groups = b.createGroupMap(new Int32Array(4));
    expect(() => b.quantizeQK(x, { groups, headDim: 128, format: 'e4m3', mean })).toThrow(/starts at byte 4 of its storage; quantizeQK needs 16-byte aligned tensors/);
    const vScales = b.empty([65], 'f32').sliceRows(1, 64); // byte offset 4
    expect(() => b.dequantizeV({ codesT: b.empty([64, 16], 'e4m3'), scales: vScales }, { rows: 16 })).toThrow(/'scales'|starts at byte 4/);
    expect(scales.byteOffset).toBe(0);
  });

  it('accepts only maps made by a backend, and maps cannot be altered after validation', () => {
    const x = b.fromArray(randomBf16(4 * 128, 10), [4, 128], 'bf16');
    const groups = b.createGroupMap(Int32Array.of(0, 0, 1, 1));
    expect(Object.isFrozen(groups)).toBe(true);
    expect(() => {
      (groups as { maxGroupRows: number }).maxGroupRows = 1;
    }).toThrow(TypeError);
    const forged = { ...groups };
    expect(() => b.quantizeQK(x, { groups: forged, headDim: 128, format: 'e4m3' })).toThrow(/expects a GroupMap from backend.createGroupMap/);
    const rowMap = b.createRowMap(Int32Array.of(3, 2, 1, 0), { targetRows: 4 });
    expect(() => b.gatherRows(x, { ...rowMap })).toThrow(/expects a RowMap from backend.createRowMap/);
    rowMap.dispose();
    expect(() => b.gatherRows(x, rowMap)).toThrow(DisposedError);
  });

  it('reshape with -1 says when the known dimensions do not divide the element count', () => {
    expect(() => b.empty([64], 'f32').reshape([-1, 3])).toThrow(/known dimensions divide 64 elements/);
  });

  it('quantizeV and channelMean refuse token counts beyond the kernels\' grid limit', () => {
    const v = b.empty([16, 64], 'bf16');
    expect(() => b.quantizeV(v, { format: 'e4m3', tokenStride: MAX_TOKEN_ROWS + 16 })).toThrow(/expected a multiple of 16 in 16\.\.16776960/);
  });

  it('gathers V with its per-channel amax, and quantizes it in one pass to the same bits', async () => {
    const rows = 96;
    const cols = 128;
    const v = b.fromArray(randomBf16(rows * cols, 11, { cols }), [rows, cols], 'bf16', { name: 'v' });
    const perm = Int32Array.from({ length: rows + 4 }, (_, i) => (i < rows ? (i * 37) % rows : -1)); // 4 padding rows
    const map = b.createRowMap(perm, { targetRows: rows });
    const amax = b.empty([cols], 'f32', { name: 'amax' }).fillBytes(0xff); // poisoned: every channel must be written
    const vt = b.gatherRows(v, map, { amax });
    const expected = channelAmaxCpu(await vt.download(), rows + 4, cols);
    expect(Array.from(await amax.download())).toEqual(Array.from(expected));
    const twoPass = b.quantizeV(vt, { format: 'e4m3' });
    const onePass = b.quantizeV(vt, { format: 'e4m3', amax });
    expect(Buffer.compare(Buffer.from(await onePass.codesT.download()), Buffer.from(await twoPass.codesT.download()))).toBe(0);
    expect(Array.from(await onePass.scales.download())).toEqual(Array.from(await twoPass.scales.download()));
    expect(() => b.gatherRows(b.empty([rows, 64], 'f32'), map, { amax })).toThrow(/dtype bf16/);
    expect(() => b.gatherRows(v, map, { amax: b.empty([64], 'f32') })).toThrow(/Shape mismatch for 'amax'/);
    expect(() => b.quantizeV(vt, { format: 'e4m3', amax: b.empty([64], 'f32') })).toThrow(/Shape mismatch for 'amax'/);
  });
});
