import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../cpu/backend';
import { DisposedError } from './errors';
import type { Tensor } from './tensor';

const b = new CpuBackend();

describe('Tensor', () => {
  it('allocates, uploads, downloads, and its reshape and slice views share storage', async () => {
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
    expect(t.numel).toBe(24);
    expect(t.backend).toBe(b);
    expect(t.device).toBe('cpu');
    const r = t.reshape([2, -1]);
    expect(r.shape).toEqual([2, 12]);
    expect(r.name).toBe('a');
    const s = t.sliceRows(1, 2);
    expect(s.byteOffset).toBe(24);
    expect(s.name).toBe('a[1:3]');
    expect(Array.from(await s.download())).toEqual(Array.from(data.subarray(6, 18)));
    s.upload(new Float32Array(12).fill(7));
    expect(t.downloadSync()[6]).toBe(7);
    expect(t.downloadSync()[5]).toBe(6);
    expect(t.downloadSync()[18]).toBe(19);
    t.dispose();
    expect(r.disposed).toBe(false); // views keep the storage alive
    r.dispose();
    expect(s.disposed).toBe(false);
    s.dispose();
    expect(s.disposed).toBe(true);
  });

  it('names itself by dtype and shape unless named, and says where it lives', () => {
    const t = b.empty([2, 8], 'bf16');
    expect(t.name).toBe('bf16[2, 8]');
    expect(String(t)).toBe('Tensor(bf16[2, 8]: [2, 8] bf16 on cpu)');
    t.dispose();
    expect(String(t)).toBe('Tensor(bf16[2, 8]: [2, 8] bf16 on cpu, disposed)');
    expect(b.fromArray(new Int32Array(3), [3], 'i32').name).toBe('i32[3]');
  });

  it('Symbol.dispose frees, and use after dispose is a DisposedError naming the tensor', async () => {
    const t = b.empty([2, 8], 'bf16', { name: 'q' });
    t[Symbol.dispose]();
    expect(() => t.downloadSync()).toThrow(DisposedError);
    expect(() => t.downloadSync()).toThrow(/'q' was used by downloadSync after dispose/);
    expect(() => t.fillBytes(0)).toThrow(/used by fillBytes/);
    expect(() => t.upload(new Uint16Array(16))).toThrow(/used by upload/);
    expect(() => t.reshape([16])).toThrow(/used by reshape/);
    expect(() => t.sliceRows(0, 1)).toThrow(/used by sliceRows/);
    await expect(t.download()).rejects.toThrow(/used by download after/);
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
    expect(() => b.fromArray(new Float32Array(4) as never, [4], 'bf16')).toThrow(/a bf16 tensor is filled from a Uint16Array of bit patterns, got Float32Array/);
    expect(() => b.fromArray(new Uint8Array(4) as never, [4], 'f32')).toThrow(/'f32\[4\]': a f32 tensor is filled from a Float32Array, got Uint8Array$/);
    expect(() => b.fromArray(new Uint8Array(4) as never, [4], 'f16')).toThrow(/a f16 tensor is filled from a Uint16Array of bit patterns, got Uint8Array/);
    expect(() => b.fromArray(null as never, [4], 'f32')).toThrow(/a f32 tensor is filled from a Float32Array, got object/);
    expect(() => b.fromArray(Object.create(null) as never, [4], 'f32')).toThrow(/got object/);
    expect(() => b.fromArray(new Uint16Array(3), [4], 'bf16')).toThrow(ShapeMismatchError);
    expect(() => b.fromArray(new Uint16Array(3), [4], 'bf16')).toThrow(/4 elements for \[4\].*3 elements/);
    expect(() => b.empty([2, -1], 'f32')).toThrow(InvalidArgumentError);
    expect(() => b.empty([2, 1.5], 'f32')).toThrow(/expected an array of non-negative integers/);
    expect(() => b.empty('12' as never, 'f32')).toThrow(/expected an array of non-negative integers/);
    expect(() => b.empty([2], 'f64' as never)).toThrow(/expected one of bf16, f16, f32, e4m3, e5m2, i32, u8/);
    const t = b.empty([4, 6], 'f32');
    expect(() => t.reshape([5, 5])).toThrow(ShapeMismatchError);
    expect(() => t.reshape([5, 5])).toThrow(/a shape of 24 elements \(from \[4, 6\]\)/);
    expect(() => t.upload(new Float32Array(23))).toThrow(/Shape mismatch for 'f32\[4, 6\]': expected 24 elements, got 23 elements/);
    expect(() => t.upload(new Uint16Array(24) as never)).toThrow(InvalidArgumentError);
    expect(() => t.sliceRows(3, 2)).toThrow(InvalidArgumentError);
    expect(() => t.sliceRows(3, 2)).toThrow(/rows \[3, 5\) are outside 0..4/);
    expect(() => t.sliceRows(-1, 1)).toThrow(InvalidArgumentError);
    expect(() => t.sliceRows(0, 0.5)).toThrow(InvalidArgumentError);
    expect(t.sliceRows(4, 0).shape).toEqual([0, 6]);
    expect(() => b.empty([], 'f32').sliceRows(0, 1)).toThrow(/at least 1 dimension/);
  });

  it('frees its storage when the tensor and every view are disposed (dispose twice counts once)', () => {
    const t = b.empty([4, 4], 'f32');
    const view = t.sliceRows(1, 2);
    t.dispose();
    t.dispose();
    expect(t.storage.live).toBe(true); // the view still holds it
    expect(view.disposed).toBe(false);
    view.dispose();
    expect(t.storage.live).toBe(false);
  });

  it('sliceRows checks start and count as integers in range, naming both', () => {
    const t = b.empty([4, 4], 'f32', { name: 't' });
    const e = (() => {
      try {
        t.sliceRows(3, 2);
      } catch (error) {
        return error;
      }
    })();
    expect(e).toMatchObject({ argument: 'start/count', value: [3, 2] });
    expect(() => t.sliceRows(0, -1)).toThrow(/'start\/count'/);
    expect(() => t.sliceRows(0.5, 1)).toThrow(/'start\/count'/);
    expect(() => t.sliceRows(0, 1.5)).toThrow(/'start\/count'/);
    expect(() => b.empty([], 'f32').sliceRows(0, 1)).toThrow(/Shape mismatch for 'f32\[\]': expected at least 1 dimension, got 0 dimensions/);
  });

  it('fillBytes takes byte values only', () => {
    const t = b.empty([4], 'u8');
    expect(Array.from(t.fillBytes(255).downloadSync())).toEqual([255, 255, 255, 255]);
    expect(() => t.fillBytes(256)).toThrow(/Invalid argument 'value': expected a byte value 0..255/);
    expect(() => t.fillBytes(-1)).toThrow(InvalidArgumentError);
    expect(() => t.fillBytes(0.5)).toThrow(InvalidArgumentError);
  });

  it('reshape with -1 says when the known dimensions do not divide the element count', () => {
    expect(() => b.empty([64], 'f32').reshape([-1, 3])).toThrow(/known dimensions divide 64 elements/);
    expect(() => b.empty([64], 'f32').reshape([-1, 0])).toThrow(/known dimensions divide/);
    expect(b.empty([64], 'f32').reshape([4, -1]).shape).toEqual([4, 16]);
    expect(b.empty([64], 'f32').reshape([-1]).shape).toEqual([64]);
  });

  it('a view that would run past its storage is refused', async () => {
    const { Tensor } = await import('./tensor');
    const t = b.empty([4], 'f32');
    expect(() => new Tensor({ storage: t.storage, dtype: 'f32', shape: [4], byteOffset: 4 })).toThrow(/expected at most 12 bytes, got 16 bytes for \[4\] f32/);
  });

  it('host out-of-memory is an OutOfMemoryError, not a crash', () => {
    expect(() => b.empty([2 ** 40], 'u8', { name: 'huge' })).toThrow(
      expect.objectContaining({ code: 'FPSATTN_OUT_OF_MEMORY', name: 'OutOfMemoryError', call: 'allocate huge', requestedBytes: 2 ** 40 }),
    );
    expect(() => b.empty([2 ** 40], 'u8', { name: 'huge' })).toThrow(/^out of host memory: 1099511627776 bytes for 'huge' \(/);
    expect(() => b.empty([2 ** 40], 'u8')).toThrow(/for 'tensor'/);
  });
});

describe('CpuBackend', () => {
  it('has no device memory statistics and synchronizes at once', async () => {
    expect(b.name).toBe('cpu');
    expect(b.memoryStats()).toBeNull();
    b.emptyCache();
    await expect(b.synchronize()).resolves.toBeUndefined();
  });
});
