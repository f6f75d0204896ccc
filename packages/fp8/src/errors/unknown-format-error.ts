import { FpsAttnError } from './fpsattn-error';
import { FP8_ERROR_CODES } from './fp8-error-codes';

/** A format name that is none of the supported ones. */
export class UnknownFormatError extends FpsAttnError {
  readonly format: unknown;
  readonly allowed: readonly string[];

  constructor(options: { format: unknown; allowed: readonly string[] }) {
    super({
      code: FP8_ERROR_CODES.UNKNOWN_FORMAT,
      message: `Unknown format ${JSON.stringify(options.format)}: expected one of ${options.allowed.map((f) => `'${f}'`).join(', ')}`,
    });
    this.name = 'UnknownFormatError';
    this.format = options.format;
    this.allowed = options.allowed;
  }
}
