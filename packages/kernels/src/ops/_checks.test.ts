import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../cpu/backend';
import { fakeCudaBackend } from '../_test/fake-addon';
import { randomBf16 } from '../testing';
import { TENSOR_ALIGNMENT_BYTES } from './_checks';
import { channelMean } from './channel-mean';
import { createGroupMap } from './create-group-map';
import { createRowMap } from './create-row-map';
import { dequantizeV } from './dequantize-v';
import { gatherRows } from './permute-rows';
import { quantizeRows } from './quantize-rows';

const backend = new CpuBackend();

/** The error `fn` throws (fails the test if it throws nothing). */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  throw new Error('expected a throw');
}

describe('tensors of another backend', () => {
  const x = backend.fromArray(randomBf16(4 * 128, 9), [4, 128], 'bf16', { name: 'x' });
  const groups = createGroupMap({ backend, groupOfRow: new Int32Array(4) });

  it('a tensor on the CUDA device is rejected by name, as an InvalidArgumentError naming both devices', () => {
    const { backend: cuda } = fakeCudaBackend();
    const mean = cuda.empty([128], 'f32', { name: 'mean' }); // a real device tensor (fake addon, no GPU needed)
    expect(mean.device).toBe('cuda');
    const e = thrown(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', mean }));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e).toMatchObject({ argument: 'mean', value: 'cuda', message: "Invalid argument 'mean': quantizeRows runs on cpu; 'mean' lives on cuda" });
  });

  it('the backend is the one of the first tensor: CUDA inputs with a CPU map are refused the other way round', () => {
    const { backend: cuda } = fakeCudaBackend();
    const src = cuda.empty([4, 128], 'bf16', { name: 'src' });
    const map = createRowMap({ backend, indices: Int32Array.of(0, 1, 2, 3), targetRows: 4, name: 'perm' });
    const e = thrown(() => gatherRows({ src, map }));
    expect(e).toMatchObject({ argument: 'map', message: "Invalid argument 'map': gatherRows runs on cuda; 'perm' lives on cpu" });
  });

  it('a tensor of another backend instance of the same device is refused too (its memory is not this backend\'s)', () => {
    const other = new CpuBackend();
    const mean = other.empty([128], 'f32', { name: 'mean' });
    const e = thrown(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', mean }));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect((e as Error).message).toBe("Invalid argument 'mean': quantizeRows runs on the cpu backend of its first tensor; 'mean' was made by another cpu backend instance");
  });
});

describe('alignment', () => {
  it('rejects a real misaligned view (sliced one f32 into its storage) on every op, and accepts an aligned slice', () => {
    const x = backend.fromArray(randomBf16(4 * 128, 9), [4, 128], 'bf16');
    const groups = createGroupMap({ backend, groupOfRow: new Int32Array(4) });
    const storage = backend.empty([132], 'f32', { name: 'means' });
    const misaligned = storage.sliceRows(1, 128);
    expect(misaligned.byteOffset).toBe(4);
    const e = thrown(() => quantizeRows({ x, groups, headDim: 128, format: 'e4m3', mean: misaligned }));
    expect(e).toBeInstanceOf(InvalidArgumentError);
    expect(e).toMatchObject({ argument: 'mean', value: 4 });
    expect((e as Error).message).toMatch(/'means\[1:129\]' starts at byte 4 of its storage; quantizeRows needs 16-byte aligned tensors/);
    const aligned = storage.sliceRows(TENSOR_ALIGNMENT_BYTES / 4, 128);
    expect(aligned.byteOffset).toBe(16);
    expect(quantizeRows({ x, groups, headDim: 128, format: 'e4m3', mean: aligned }).codes.shape).toEqual([4, 128]);

    const vScales = backend.empty([65], 'f32').sliceRows(1, 64);
    expect(vScales.byteOffset).toBe(4);
    expect(() => dequantizeV({ codesT: backend.empty([64, 16], 'e4m3'), scales: vScales, rows: 16 })).toThrow(/'scales': .*starts at byte 4 of its storage; dequantizeV needs 16-byte aligned/);
    // The first tensor (which picks the backend) is checked like the others.
    const rowsOf8 = backend.empty([3 * 8], 'bf16').reshape([3, 8]).sliceRows(1, 2); // byte offset 16: aligned
    expect(channelMean({ x: rowsOf8 }).shape).toEqual([8]);
    const odd = backend.empty([40], 'bf16').sliceRows(4, 32).reshape([4, 8]); // byte offset 8
    expect(odd.byteOffset).toBe(8);
    expect(() => channelMean({ x: odd })).toThrow(/'x': .*starts at byte 8/);
  });
});

describe('options objects', () => {
  it('every op takes one options object and says so otherwise', () => {
    expect(() => (channelMean as (o?: unknown) => unknown)()).toThrow(/channelMean takes one options object/);
    expect(() => (gatherRows as (o: unknown) => unknown)(null)).toThrow(InvalidArgumentError);
    expect(() => (quantizeRows as (o: unknown) => unknown)('x')).toThrow(/'options': quantizeRows takes one options object/);
  });
});
