import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { permuteRows } from './permute-rows';
import { bruteForceGatherRows } from './testing';
import { runs } from './_arbitraries.test-helpers';

const ctors = [Float32Array, Float64Array, Uint16Array, Uint8Array, Int8Array, Int32Array] as const;

describe('permuteRows', () => {
  it.each(ctors.map((c) => [c.name, c] as const))('gathers rows of a %s and keeps the type', (_name, Ctor) => {
    const src = new Ctor([1, 2, 3, 4, 5, 6]);
    const out = permuteRows({ src, rowWidth: 2, index: [2, 0, 1] });
    expect(out).toBeInstanceOf(Ctor);
    expect([...out]).toEqual([5, 6, 1, 2, 3, 4]);
  });

  it('fills rows whose index is -1', () => {
    const out = permuteRows({ src: new Float32Array([1, 2, 3, 4]), rowWidth: 2, index: [1, -1, 0], fill: 7 });
    expect([...out]).toEqual([3, 4, 7, 7, 1, 2]);
  });

  it('writes into a caller-provided out', () => {
    const out = new Uint8Array(4);
    const result = permuteRows({ src: new Uint8Array([9, 8, 7, 6]), rowWidth: 2, index: [1, 0], out });
    expect(result).toBe(out);
    expect([...out]).toEqual([7, 6, 9, 8]);
  });

  it('matches a plain-array gather for any row width (narrow, medium and wide rows)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 1, max: 70 }),
        fc.integer({ min: 0, max: 30 }),
        fc.nat(),
        (rows, rowWidth, outRows, seed) => {
          const src = Float32Array.from({ length: rows * rowWidth }, (_, i) => i * 0.5 + seed);
          const index = Int32Array.from({ length: outRows }, (_, i) => ((i * 7919 + seed) % (rows + 1)) - 1);
          const out = permuteRows({ src, rowWidth, index, fill: -2 });
          expect([...out]).toEqual(bruteForceGatherRows({ src, rowWidth, index, fill: -2 }));
        },
      ),
      { numRuns: runs(200) },
    );
  });

  it('rejects a src that is not whole rows', () => {
    expect(() => permuteRows({ src: new Float32Array(5), rowWidth: 2, index: [0] })).toThrow(ShapeMismatchError);
  });

  it('rejects an out of the wrong length', () => {
    expect(() => permuteRows({ src: new Float32Array(4), rowWidth: 2, index: [0], out: new Float32Array(3) })).toThrow(
      /'out'/,
    );
  });

  it.each([
    [[0, 2], 'index[1]', 2],
    [[-2], 'index[0]', -2],
    [[0.5], 'index[0]', 0.5],
  ])('rejects index %o naming %s', (index, argument, value) => {
    try {
      permuteRows({ src: new Float32Array(4), rowWidth: 2, index });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).argument).toBe(argument);
      expect((e as InvalidArgumentError).value).toBe(value);
    }
  });

  it.each([0, -1, 2.5])('rejects rowWidth %s', (rowWidth) => {
    expect(() => permuteRows({ src: new Float32Array(4), rowWidth, index: [0] })).toThrow(/rowWidth/);
  });

  it('rejects an out that overlaps src', () => {
    const buffer = new Float32Array(8);
    expect(() => permuteRows({ src: buffer.subarray(0, 4), rowWidth: 2, index: [1, 0], out: buffer.subarray(2, 6) })).toThrow(
      /overlap/,
    );
  });
});
