import { describe, expect, it } from 'vitest';
import { FP8_ERROR_CODES } from './fp8-error-codes';
import { FpsAttnError, type FpsAttnErrorCode } from './fpsattn-error';
import { InvalidArgumentError } from './invalid-argument-error';
import { NonFiniteValueError } from './non-finite-value-error';
import { ShapeMismatchError } from './shape-mismatch-error';
import { UnknownFormatError } from './unknown-format-error';

describe('FpsAttnError', () => {
  it('takes any FPSATTN_ code, also one fp8 does not list (a kernels code)', () => {
    const cause = new Error('driver');
    const error = new FpsAttnError({ code: 'FPSATTN_CUDA_ERROR', message: 'launch failed', cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.code).toBe('FPSATTN_CUDA_ERROR');
    expect(error.message).toBe('launch failed');
    expect(error.name).toBe('FpsAttnError');
    expect(error.cause).toBe(cause);
    expect('cause' in new FpsAttnError({ code: 'FPSATTN_X', message: 'no cause' })).toBe(false);
    expect(FpsAttnError.isInstance(error)).toBe(true);
  });

  it.each(['CUDA_ERROR', 'FPSATTN_', 'FPSATTN_cuda', 'fpsattn_CUDA', ' FPSATTN_X', 'FPSATTN_X ', 42])(
    'rejects the code %j with a TypeError naming the pattern',
    (code) => {
      expect(() => new FpsAttnError({ code: code as FpsAttnErrorCode, message: 'x' })).toThrow(
        new TypeError(`FpsAttnError code must match FPSATTN_[A-Z0-9_]+, got ${JSON.stringify(code)}`),
      );
    },
  );
});

describe('fp8 errors', () => {
  it('lists exactly the codes of its four error classes', () => {
    expect(FP8_ERROR_CODES).toEqual({
      INVALID_ARGUMENT: 'FPSATTN_INVALID_ARGUMENT',
      SHAPE_MISMATCH: 'FPSATTN_SHAPE_MISMATCH',
      NON_FINITE_VALUE: 'FPSATTN_NON_FINITE_VALUE',
      UNKNOWN_FORMAT: 'FPSATTN_UNKNOWN_FORMAT',
    });
    expect(Object.isFrozen(FP8_ERROR_CODES)).toBe(true);
  });

  it('builds each error with its code, name, fields and message', () => {
    const invalid = new InvalidArgumentError({ argument: 'rows', value: 0, message: 'expected a positive integer' });
    expect(invalid).toMatchObject({ name: 'InvalidArgumentError', code: FP8_ERROR_CODES.INVALID_ARGUMENT, argument: 'rows', value: 0 });
    expect(invalid.message).toBe("Invalid argument 'rows': expected a positive integer");

    const shape = new ShapeMismatchError({ tensor: 'q', expected: 4, actual: 3 });
    expect(shape).toMatchObject({ name: 'ShapeMismatchError', code: FP8_ERROR_CODES.SHAPE_MISMATCH, tensor: 'q', expected: '4', actual: '3' });
    expect(shape.message).toBe("Shape mismatch for 'q': expected 4, got 3");
    expect(new ShapeMismatchError({ tensor: 'q', expected: 4, actual: 3, hint: 'rows' }).message).toBe("Shape mismatch for 'q': expected 4, got 3 (rows)");

    const nonFinite = new NonFiniteValueError({ tensor: 'k', index: 7, value: Number.NaN });
    expect(nonFinite).toMatchObject({ name: 'NonFiniteValueError', code: FP8_ERROR_CODES.NON_FINITE_VALUE, tensor: 'k', index: 7 });
    expect(nonFinite.value).toBeNaN();
    expect(nonFinite.message).toBe("'k' holds NaN at flat index 7");
    expect(new NonFiniteValueError({ tensor: 'k', index: 7, value: Infinity, hint: 'row 0' }).message).toBe("'k' holds Infinity at flat index 7; row 0");

    const format = new UnknownFormatError({ format: 'e3m4', allowed: ['e4m3', 'e5m2'] });
    expect(format).toMatchObject({ name: 'UnknownFormatError', code: FP8_ERROR_CODES.UNKNOWN_FORMAT, format: 'e3m4', allowed: ['e4m3', 'e5m2'] });
    expect(format.message).toBe(`Unknown format "e3m4": expected one of 'e4m3', 'e5m2'`);
  });

  it('passes the cause of an InvalidArgumentError on', () => {
    const cause = new RangeError('inner');
    expect(new InvalidArgumentError({ argument: 'x', value: 1, message: 'm', cause }).cause).toBe(cause);
  });
});
