/** The codes of the errors @fpsattn/fp8 throws (and that every package reuses through these classes). */
export const FP8_ERROR_CODES = Object.freeze({
  /** {@link InvalidArgumentError}: an argument outside what the function accepts. */
  INVALID_ARGUMENT: 'FPSATTN_INVALID_ARGUMENT',
  /** {@link ShapeMismatchError}: a tensor or array of the wrong length or shape. */
  SHAPE_MISMATCH: 'FPSATTN_SHAPE_MISMATCH',
  /** {@link NonFiniteValueError}: a NaN or infinity where only finite values are allowed. */
  NON_FINITE_VALUE: 'FPSATTN_NON_FINITE_VALUE',
  /** {@link UnknownFormatError}: a format name that is not 'e4m3' or 'e5m2'. */
  UNKNOWN_FORMAT: 'FPSATTN_UNKNOWN_FORMAT',
} as const);

export type Fp8ErrorCode = (typeof FP8_ERROR_CODES)[keyof typeof FP8_ERROR_CODES];
