import { FpsAttnError } from './fpsattn-error';
import { FP8_ERROR_CODES } from './fp8-error-codes';

/** An argument has a value outside what the function accepts; `argument` names it, `value` holds it. */
export class InvalidArgumentError extends FpsAttnError {
  readonly argument: string;
  readonly value: unknown;

  constructor(options: { argument: string; value: unknown; message: string; cause?: unknown }) {
    super({
      code: FP8_ERROR_CODES.INVALID_ARGUMENT,
      message: `Invalid argument '${options.argument}': ${options.message}`,
      cause: options.cause,
    });
    this.name = 'InvalidArgumentError';
    this.argument = options.argument;
    this.value = options.value;
  }
}
