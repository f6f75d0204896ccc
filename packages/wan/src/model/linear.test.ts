import { describe, expect, it } from 'vitest';
import { referenceLinear } from './_linear-reference.test-helpers';
import { linear } from './linear';

/** Deterministic values in about [-1, 1] (a 32-bit LCG), with a few exact zeros and large magnitudes mixed in. */
function values(length: number, seed: number): Float32Array {
  const out = new Float32Array(length);
  let state = seed >>> 0;
  for (let k = 0; k < length; k++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    out[k] = k % 97 === 5 ? 0 : k % 89 === 3 ? (state / 2 ** 32 - 0.5) * 1e4 : state / 2 ** 31 - 1;
  }
  return out;
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('linear', () => {
  it.each([
    // rows, inFeatures, outFeatures: outputs not a multiple of 4, odd and tiny input widths, several rows
    [1, 256, 1536],
    [1, 1536, 9216],
    [1, 1, 1],
    [1, 3, 5],
    [1, 7, 4],
    [3, 17, 11],
    [2, 64, 130],
    [5, 33, 7],
  ])('gives the bits of the one-output-at-a-time loop for %i x %i -> %i', (rows, inFeatures, outFeatures) => {
    const options = {
      input: values(rows * inFeatures, rows + inFeatures),
      rows, inFeatures, outFeatures,
      weight: values(outFeatures * inFeatures, outFeatures),
      bias: values(outFeatures, 7),
    };
    expect(bits(linear(options))).toEqual(bits(referenceLinear(options)));
  });

  it('computes bias + weight x input', () => {
    const out = linear({ input: Float32Array.of(1, 2, 3), rows: 1, inFeatures: 3, outFeatures: 5,
      weight: Float32Array.of(1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 2, -1, 0.5), bias: Float32Array.of(0, 10, 0, 0, -1) });
    expect(Array.from(out)).toEqual([1, 12, 3, 6, 0.5]);
  });
});
