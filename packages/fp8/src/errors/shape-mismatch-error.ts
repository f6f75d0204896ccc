import { FpsAttnError } from './fpsattn-error';
import { FP8_ERROR_CODES } from './fp8-error-codes';

/** A tensor (or array) does not have the length or shape an operation needs. */
export class ShapeMismatchError extends FpsAttnError {
  readonly tensor: string;
  readonly expected: string;
  readonly actual: string;

  constructor(options: { tensor: string; expected: string | number; actual: string | number; hint?: string }) {
    const hint = options.hint === undefined ? '' : ` (${options.hint})`;
    super({
      code: FP8_ERROR_CODES.SHAPE_MISMATCH,
      message: `Shape mismatch for '${options.tensor}': expected ${options.expected}, got ${options.actual}${hint}`,
    });
    this.name = 'ShapeMismatchError';
    this.tensor = options.tensor;
    this.expected = String(options.expected);
    this.actual = String(options.actual);
  }
}
