// Formats
export { E4M3, E5M2, FP8_FORMAT_NAMES, fp8FormatSpec, type Fp8Format, type Fp8FormatSpec } from './formats';

// Scalar and bulk FP8 conversions
export { encodeFp8, type EncodeFp8Options } from './encode-fp8';
export { decodeFp8, fp8DecodeTable, type DecodeFp8Options } from './decode-fp8';
export { encodeFp8Array, type EncodeFp8ArrayOptions } from './encode-fp8-array';
export { decodeFp8Array, type DecodeFp8ArrayOptions } from './decode-fp8-array';

// BF16 and FP16
export {
  BF16_NAN,
  bf16BitsToFloat32,
  decodeBf16Array,
  encodeBf16Array,
  float32ToBf16Bits,
  roundToBf16,
  type HalfArrayOptions,
} from './bf16';
export { FP16_NAN, decodeFp16Array, encodeFp16Array, float32ToFp16Bits, fp16BitsToFloat32 } from './fp16';

// Scaled quantization
export { computeScale, MIN_SCALE, reciprocalScale } from './compute-scale';
export {
  perChannel,
  perGroup,
  perTensor,
  perToken,
  QUANT_GRANULARITY_KINDS,
  resolveScaleLayout,
  type QuantGranularity,
  type QuantGranularityKind,
  type ScaleLayout,
} from './granularity';
export { dequantize, quantize, type DequantizeOptions, type NonFinitePolicy, type QuantizedTensor, type QuantizeOptions } from './quantize';
export { errorStats, type ErrorStats, type ErrorStatsOptions } from './error-stats';

// Errors shared by every @fpsattn package, and the codes of this package's errors
export {
  FP8_ERROR_CODES,
  FpsAttnError,
  InvalidArgumentError,
  NonFiniteValueError,
  ShapeMismatchError,
  UnknownFormatError,
  type Fp8ErrorCode,
  type FpsAttnErrorCode,
} from './errors/index';
