/**
 * Base class of every error thrown by @fpsattn packages.
 *
 * `FpsAttnError.isInstance(e)` works across duplicated package copies (two versions of @fpsattn/fp8 in one
 * node_modules tree) because it checks a global `Symbol.for` marker rather than the class identity.
 */
const marker = Symbol.for('fpsattn.error');

/**
 * A stable error code: `FPSATTN_` followed by an upper-case name. The base class lists no codes; each package defines
 * its own next to its errors and exports them as a const object (`FP8_ERROR_CODES` here, `SCHEDULER_ERROR_CODES`,
 * `KERNELS_ERROR_CODES`, ...). Only the CLI needs the union of all of them, to map codes to exit codes.
 */
export type FpsAttnErrorCode = `FPSATTN_${Uppercase<string>}`;

const CODE_PATTERN = /^FPSATTN_[A-Z0-9_]+$/;

export class FpsAttnError extends Error {
  private readonly [marker] = true;
  readonly code: FpsAttnErrorCode;

  constructor(options: { code: FpsAttnErrorCode; message: string; cause?: unknown }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    // The type admits any FPSATTN_ code; the check guards JavaScript callers (and typos the type cannot see).
    if (typeof options.code !== 'string' || !CODE_PATTERN.test(options.code)) {
      throw new TypeError(`FpsAttnError code must match FPSATTN_[A-Z0-9_]+, got ${JSON.stringify(options.code)}`);
    }
    this.name = 'FpsAttnError';
    this.code = options.code;
  }

  static isInstance(error: unknown): error is FpsAttnError {
    return typeof error === 'object' && error !== null && (error as Record<symbol, unknown>)[marker] === true;
  }
}
