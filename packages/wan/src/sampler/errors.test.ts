import { FpsAttnError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { SAMPLER_ERROR_CODES, SamplerAbortedError, SamplerNonFiniteError, SamplerOptionError, SamplerTensorError } from './errors';

describe('sampler errors', () => {
  it('lists exactly the codes of its four error classes, frozen', () => {
    expect(SAMPLER_ERROR_CODES).toEqual({
      INVALID_OPTION: 'FPSATTN_WAN_SAMPLER_INVALID_OPTION',
      INVALID_TENSOR: 'FPSATTN_WAN_SAMPLER_INVALID_TENSOR',
      NON_FINITE: 'FPSATTN_WAN_SAMPLER_NON_FINITE',
      ABORTED: 'FPSATTN_WAN_SAMPLER_ABORTED',
    });
    expect(Object.isFrozen(SAMPLER_ERROR_CODES)).toBe(true);
  });

  it('builds each error as an FpsAttnError with its code, name, fields and message', () => {
    const option = new SamplerOptionError({ option: 'steps', value: 0, rule: 'expected an integer >= 1' });
    expect(option).toMatchObject({ name: 'SamplerOptionError', code: SAMPLER_ERROR_CODES.INVALID_OPTION, option: 'steps', value: 0 });
    expect(option.message).toBe('sampler: steps is 0: expected an integer >= 1');

    const tensor = new SamplerTensorError({ tensor: 'noise', actual: 'has 3 values', rule: 'expected 4' });
    expect(tensor).toMatchObject({ name: 'SamplerTensorError', code: SAMPLER_ERROR_CODES.INVALID_TENSOR, tensor: 'noise', rule: 'expected 4' });
    expect(tensor.message).toBe('sampler: noise has 3 values: expected 4');

    const nonFinite = new SamplerNonFiniteError({ tensor: 'modelOutput', stepIndex: 1, steps: 2, index: 0, value: -Infinity });
    expect(nonFinite).toMatchObject({ name: 'SamplerNonFiniteError', code: SAMPLER_ERROR_CODES.NON_FINITE, stepIndex: 1, index: 0, value: -Infinity });
    expect(nonFinite.message).toBe(
      'sampler: modelOutput holds -Infinity at flat index 0 at step 1 of 2: a velocity must be finite; the model diverged or returned memory it never wrote',
    );

    const reason = new Error('stop');
    const aborted = new SamplerAbortedError({ stepIndex: 0, steps: 50, reason });
    expect(aborted).toMatchObject({ name: 'SamplerAbortedError', code: SAMPLER_ERROR_CODES.ABORTED, stepIndex: 0, steps: 50, cause: reason });
    expect(aborted.message).toBe('sampler: aborted before step 0 of 50 (0 done); no latents are returned');

    for (const error of [option, tensor, nonFinite, aborted]) {
      expect(error).toBeInstanceOf(FpsAttnError);
      expect(FpsAttnError.isInstance(error)).toBe(true);
    }
  });

  it.each([
    [7n, '7n'],
    [Number.NaN, 'NaN'],
    [() => 1, 'a function'],
    [new Float64Array(2), 'a Float64Array'],
    ['a', '"a"'],
    [[1, 2], '[1,2]'],
    [undefined, 'undefined'],
  ])('shows the value %s as %s', (value, shown) => {
    expect(new SamplerOptionError({ option: 'x', value, rule: 'r' }).message).toBe(`sampler: x is ${shown}: r`);
  });
});
