export { FpsAttnError, type FpsAttnErrorCode } from './fpsattn-error';
export { FP8_ERROR_CODES, type Fp8ErrorCode } from './fp8-error-codes';
export { InvalidArgumentError } from './invalid-argument-error';
export { NonFiniteValueError } from './non-finite-value-error';
export { ShapeMismatchError } from './shape-mismatch-error';
export { UnknownFormatError } from './unknown-format-error';
