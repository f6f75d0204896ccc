import { FpsAttnError } from './fpsattn-error';
import { FP8_ERROR_CODES } from './fp8-error-codes';

/** A NaN or infinity was found where only finite values are allowed (a scale, or an input under `nonFinite: 'error'`). */
export class NonFiniteValueError extends FpsAttnError {
  readonly tensor: string;
  readonly index: number;
  readonly value: number;

  constructor(options: { tensor: string; index: number; value: number; hint?: string }) {
    const hint = options.hint === undefined ? '' : `; ${options.hint}`;
    super({
      code: FP8_ERROR_CODES.NON_FINITE_VALUE,
      message: `'${options.tensor}' holds ${options.value} at flat index ${options.index}${hint}`,
    });
    this.name = 'NonFiniteValueError';
    this.tensor = options.tensor;
    this.index = options.index;
    this.value = options.value;
  }
}
