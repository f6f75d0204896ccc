import { describe, expect, it } from 'vitest';
import { WanInputError } from '../model/errors';
import { padContext } from './pad-context';

describe('padContext', () => {
  it('keeps the rows and zero-fills up to textLen', () => {
    const context = Float32Array.from([1, 2, 3, 4, 5, 6]);
    expect(Array.from(padContext({ context, length: 3, dim: 2, textLen: 5 }))).toEqual([1, 2, 3, 4, 5, 6, 0, 0, 0, 0]);
  });

  it('takes a full or an empty context', () => {
    expect(padContext({ context: new Float32Array(4), length: 2, dim: 2, textLen: 2 })).toHaveLength(4);
    expect(Array.from(padContext({ context: new Float32Array(0), length: 0, dim: 2, textLen: 2 }))).toEqual([0, 0, 0, 0]);
  });

  it('refuses more rows than textLen and a context of the wrong size', () => {
    expect(() => padContext({ context: new Float32Array(6), length: 3, dim: 2, textLen: 2 })).toThrow(/padContext: length is 3: expected an integer in \[0, textLen = 2\]/);
    expect(() => padContext({ context: new Float32Array(5), length: 3, dim: 2, textLen: 4 })).toThrow(WanInputError);
    expect(() => padContext({ context: new Float32Array(5), length: 3, dim: 2, textLen: 4 })).toThrow(/expected length \* dim = 3 \* 2 = 6 values/);
  });
});
