import { FpsAttnError, InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { BackendUnavailableError, CublasLtError, CudaError, DisposedError, KERNELS_ERROR_CODES, OutOfMemoryError, callNative, fromNativeError } from './errors';

describe('kernels errors', () => {
  it('carry their own codes, names and fields', () => {
    expect(KERNELS_ERROR_CODES).toEqual({
      CUDA_ERROR: 'FPSATTN_CUDA_ERROR',
      OUT_OF_MEMORY: 'FPSATTN_OUT_OF_MEMORY',
      DISPOSED: 'FPSATTN_DISPOSED',
      BACKEND_UNAVAILABLE: 'FPSATTN_BACKEND_UNAVAILABLE',
      CUBLASLT_NOT_FOUND: 'FPSATTN_CUBLASLT_NOT_FOUND',
      CUBLASLT_ERROR: 'FPSATTN_CUBLASLT_ERROR',
    });
    const cause = new Error('native');
    expect(new CudaError({ call: 'quantizeRows', message: 'm', cause })).toMatchObject({ name: 'CudaError', code: 'FPSATTN_CUDA_ERROR', call: 'quantizeRows', message: 'm', cause });
    expect(new OutOfMemoryError({ call: 'alloc', message: 'm', requestedBytes: 64 })).toMatchObject({ name: 'OutOfMemoryError', code: 'FPSATTN_OUT_OF_MEMORY', call: 'alloc', requestedBytes: 64 });
    expect(new DisposedError({ tensor: 'q', operation: 'gatherRows' })).toMatchObject({
      name: 'DisposedError',
      code: 'FPSATTN_DISPOSED',
      tensor: 'q',
      message: "'q' was used by gatherRows after dispose(); keep it alive until the work that uses it is done",
    });
    expect(new BackendUnavailableError({ message: 'm', tried: ['a', 'b'] })).toMatchObject({ name: 'BackendUnavailableError', code: 'FPSATTN_BACKEND_UNAVAILABLE', tried: ['a', 'b'] });
    expect(FpsAttnError.isInstance(new CudaError({ call: 'c', message: 'm' }))).toBe(true);
  });

  it('fromNativeError maps the addon\'s codes to the classes, naming the call', () => {
    const native = (code: string, message = `fpsattn.x: ${code}`) => Object.assign(new Error(message), { code });
    const oom = fromNativeError('alloc(q, 64 bytes)', native('FPSATTN_OUT_OF_MEMORY'), 64);
    expect(oom).toBeInstanceOf(OutOfMemoryError);
    expect(oom).toMatchObject({ call: 'alloc(q, 64 bytes)', requestedBytes: 64, message: 'fpsattn.x: FPSATTN_OUT_OF_MEMORY' });
    const unavailable = fromNativeError('alloc', native('FPSATTN_BACKEND_UNAVAILABLE'));
    expect(unavailable).toBeInstanceOf(BackendUnavailableError);
    expect(unavailable).toMatchObject({ tried: ['alloc'], message: 'fpsattn.x: FPSATTN_BACKEND_UNAVAILABLE' });
    const invalid = fromNativeError('quantizeRows', native('FPSATTN_INVALID_ARGUMENT', 'fpsattn.quantizeRows: params.rows must be a number'));
    expect(invalid).toBeInstanceOf(InvalidArgumentError);
    expect(invalid).toMatchObject({ argument: 'quantizeRows', message: "Invalid argument 'quantizeRows': fpsattn.quantizeRows: params.rows must be a number (rejected by the native binding)" });
    for (const code of ['FPSATTN_CUBLASLT_NOT_FOUND', 'FPSATTN_CUBLASLT_ERROR']) {
      const lt = fromNativeError('gemm', native(code));
      expect(lt).toBeInstanceOf(CublasLtError);
      expect(lt).toMatchObject({ name: 'CublasLtError', code, call: 'gemm', message: `fpsattn.x: ${code}` });
    }
    const cuda = fromNativeError('channelMean', native('FPSATTN_CUDA_ERROR'));
    expect(cuda).toBeInstanceOf(CudaError);
    expect(cuda).toMatchObject({ call: 'channelMean', message: 'fpsattn.x: FPSATTN_CUDA_ERROR' });
    expect(fromNativeError('copy', 'a string')).toMatchObject({ name: 'CudaError', message: 'a string' });
    expect(fromNativeError('copy', null)).toMatchObject({ name: 'CudaError', message: 'null' });
    expect(fromNativeError('copy', { message: 42 })).toMatchObject({ message: '[object Object]' });
    const own = new DisposedError({ tensor: 't', operation: 'op' });
    expect(fromNativeError('copy', own)).toBe(own);
  });

  it('callNative returns the call\'s value and converts what it throws', () => {
    expect(callNative('f', () => 7)).toBe(7);
    expect(() =>
      callNative(
        'alloc',
        () => {
          throw Object.assign(new Error('no memory'), { code: 'FPSATTN_OUT_OF_MEMORY' });
        },
        128,
      ),
    ).toThrow(expect.objectContaining({ name: 'OutOfMemoryError', requestedBytes: 128, call: 'alloc' }));
  });
});
