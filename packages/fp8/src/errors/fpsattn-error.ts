/**
 * Base class of every error thrown by @fpsattn packages.
 *
 * `FpsAttnError.isInstance(e)` works across duplicated package copies (two versions of @fpsattn/fp8 in one
 * node_modules tree) because it checks a global `Symbol.for` marker rather than the class identity.
 */
const marker = Symbol.for('fpsattn.error');

export type FpsAttnErrorCode =
  | 'FPSATTN_INVALID_ARGUMENT'
  | 'FPSATTN_SHAPE_MISMATCH'
  | 'FPSATTN_NON_FINITE_VALUE'
  | 'FPSATTN_UNKNOWN_FORMAT'
  | 'FPSATTN_CONFIG_INVALID'
  | 'FPSATTN_BACKEND_UNAVAILABLE'
  | 'FPSATTN_CUDA_ERROR'
  | 'FPSATTN_OUT_OF_MEMORY'
  | 'FPSATTN_DISPOSED';

export class FpsAttnError extends Error {
  private readonly [marker] = true;
  readonly code: FpsAttnErrorCode;

  constructor(options: { code: FpsAttnErrorCode; message: string; cause?: unknown }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FpsAttnError';
    this.code = options.code;
  }

  static isInstance(error: unknown): error is FpsAttnError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
