import { FpsAttnError, InvalidArgumentError } from '@fpsattn/fp8';

/**
 * The error codes @fpsattn/kernels throws with (its own classes below; argument and shape errors are fp8's
 * `InvalidArgumentError` / `ShapeMismatchError`, with fp8's codes).
 */
export const KERNELS_ERROR_CODES = {
  CUDA_ERROR: 'FPSATTN_CUDA_ERROR',
  OUT_OF_MEMORY: 'FPSATTN_OUT_OF_MEMORY',
  DISPOSED: 'FPSATTN_DISPOSED',
  BACKEND_UNAVAILABLE: 'FPSATTN_BACKEND_UNAVAILABLE',
  CUBLASLT_NOT_FOUND: 'FPSATTN_CUBLASLT_NOT_FOUND',
  CUBLASLT_ERROR: 'FPSATTN_CUBLASLT_ERROR',
} as const;
export type KernelsErrorCode = (typeof KERNELS_ERROR_CODES)[keyof typeof KERNELS_ERROR_CODES];

/** The code the native binding gives a bad argument (fp8's InvalidArgumentError code). */
const NATIVE_INVALID_ARGUMENT = 'FPSATTN_INVALID_ARGUMENT';

/** A CUDA runtime call or kernel launch failed; `call` names the fpsattn function, the message carries CUDA's text. */
export class CudaError extends FpsAttnError {
  readonly call: string;
  constructor(options: { call: string; message: string; cause?: unknown }) {
    super({ code: KERNELS_ERROR_CODES.CUDA_ERROR, message: options.message, cause: options.cause });
    this.name = 'CudaError';
    this.call = options.call;
  }
}

/** The device (or the caching allocator after releasing its cache) could not provide the memory asked for. */
export class OutOfMemoryError extends FpsAttnError {
  readonly call: string;
  readonly requestedBytes: number | undefined;
  constructor(options: { call: string; message: string; requestedBytes?: number; cause?: unknown }) {
    super({ code: KERNELS_ERROR_CODES.OUT_OF_MEMORY, message: options.message, cause: options.cause });
    this.name = 'OutOfMemoryError';
    this.call = options.call;
    this.requestedBytes = options.requestedBytes;
  }
}

/** A tensor (or map) was used after dispose(). */
export class DisposedError extends FpsAttnError {
  readonly tensor: string;
  constructor(options: { tensor: string; operation: string }) {
    super({
      code: KERNELS_ERROR_CODES.DISPOSED,
      message: `'${options.tensor}' was used by ${options.operation} after dispose(); keep it alive until the work that uses it is done`,
    });
    this.name = 'DisposedError';
    this.tensor = options.tensor;
  }
}

/** The requested backend cannot run here; `tried` lists each attempt and why it failed. */
export class BackendUnavailableError extends FpsAttnError {
  readonly tried: readonly string[];
  constructor(options: { message: string; tried: readonly string[]; cause?: unknown }) {
    super({ code: KERNELS_ERROR_CODES.BACKEND_UNAVAILABLE, message: options.message, cause: options.cause });
    this.name = 'BackendUnavailableError';
    this.tried = options.tried;
  }
}

/**
 * cuBLASLt, which the addon loads at run time for the GEMMs, is not installed where the addon looks
 * (`FPSATTN_CUBLASLT_NOT_FOUND`: the message lists each place tried and the fix), or one of its calls failed
 * (`FPSATTN_CUBLASLT_ERROR`: the message names the call and its cublasStatus_t).
 */
export class CublasLtError extends FpsAttnError {
  readonly call: string;
  constructor(options: { call: string; code: typeof KERNELS_ERROR_CODES.CUBLASLT_NOT_FOUND | typeof KERNELS_ERROR_CODES.CUBLASLT_ERROR; message: string; cause?: unknown }) {
    super({ code: options.code, message: options.message, cause: options.cause });
    this.name = 'CublasLtError';
    this.call = options.call;
  }
}

/** Turns an error thrown by the addon (an Error with a `code`) into the matching fpsattn error class. */
export function fromNativeError(call: string, error: unknown, requestedBytes?: number): Error {
  if (FpsAttnError.isInstance(error)) return error;
  const e = error as { code?: unknown; message?: unknown } | null;
  const message = typeof e?.message === 'string' ? e.message : String(error);
  switch (e?.code) {
    case KERNELS_ERROR_CODES.OUT_OF_MEMORY:
      return new OutOfMemoryError({ call, message, requestedBytes, cause: error });
    case KERNELS_ERROR_CODES.BACKEND_UNAVAILABLE:
      return new BackendUnavailableError({ message, tried: [call], cause: error });
    case KERNELS_ERROR_CODES.CUBLASLT_NOT_FOUND:
    case KERNELS_ERROR_CODES.CUBLASLT_ERROR:
      return new CublasLtError({ call, code: e.code, message, cause: error });
    case NATIVE_INVALID_ARGUMENT:
      // The TS layer validates first; reaching here means a check is missing there, but the error is still the
      // caller's argument, not a CUDA failure.
      return new InvalidArgumentError({ argument: call, value: undefined, message: `${message} (rejected by the native binding)`, cause: error });
    default:
      return new CudaError({ call, message, cause: error });
  }
}

/** Runs a native call and converts its errors. */
export function callNative<T>(call: string, fn: () => T, requestedBytes?: number): T {
  try {
    return fn();
  } catch (error) {
    throw fromNativeError(call, error, requestedBytes);
  }
}
