// @fpsattn/kernels: device tensors and ops (tile permutation, FP8 quantization) on a CUDA backend or a CPU backend of
// identical results. Ops are functions of one options object in src/ops/; see README.md.

// ----- tensors and backends
export { type DType, type HostArray, type HostArrayOf, DTYPES, DTYPE_BYTES } from './core/dtype';
export { Tensor, type Device, type Storage, contiguousStrides } from './core/tensor';
export type { Backend, CudaDevice, OpImplementation } from './core/backend';
export { CpuBackend } from './cpu/backend';
export { CudaBackend } from './cuda/backend';
export {
  ADDON_ENV,
  BACKEND_ENV,
  type BackendChoice,
  type DoctorReport,
  type LoadedBackend,
  type AddonLoad,
  addonCandidates,
  doctor,
  formatDoctor,
  getBackend,
  loadAddon,
  loadBackend,
  resetBackendCache,
} from './core/loader';

// ----- ops
export { defineOp, type Exactness, type KernelOp, type OpInfo } from './core/define-op';
export { KERNEL_OPS, nativeOpsOf } from './ops/index';
export type { RowMap, GroupMap } from './core/maps';
export { createRowMap, type CreateRowMapOptions } from './ops/create-row-map';
export { createGroupMap, type CreateGroupMapOptions } from './ops/create-group-map';
export { MAX_TOKEN_ROWS, TENSOR_ALIGNMENT_BYTES } from './ops/_checks';
export { gatherRows, scatterRows, type GatherRowsOptions, type ScatterRowsOptions } from './ops/permute-rows';
export { channelMean, type ChannelMeanOptions } from './ops/channel-mean';
export {
  FUSED_MAX_STAGING_BYTES,
  QUANT_PATHS,
  quantizeRows,
  type QuantPath,
  type QuantizeRowsOptions,
  type QuantizedRows,
} from './ops/quantize-rows';
export { quantizeV, type QuantizeVOptions, type QuantizedV } from './ops/quantize-v';
export { dequantizeRows, type DequantizeRowsOptions } from './ops/dequantize-rows';
export { dequantizeV, type DequantizeVOptions } from './ops/dequantize-v';
export { ATTENTION_TILE_POLICY, type AttentionTilePolicy } from './ops/attention/tile-policy';
export { ATTENTION_HEAD_DIMS, attentionForward, type AttentionForwardOptions } from './ops/attention/attention-forward';
export { expandRowScales, type ExpandRowScalesOptions } from './ops/attention/expand-row-scales';
export {
  GEMM_ACTIVATIONS,
  GEMM_MAX_DIM,
  GEMM_OUTPUT_DTYPES,
  gemm,
  gemmBiasDType,
  gemmDimMultiple,
  type GemmActivation,
  type GemmInputDType,
  type GemmOptions,
  type GemmOutputDType,
} from './ops/gemm';
export { cublasLtStatus, setCublasLtPath, type CublasLtStatus } from './core/cublaslt';
export { layerNormModulate, type LayerNormModulateOptions } from './ops/layer-norm-modulate';
export { rmsNormRope, type RmsNormRopeOptions, type RmsNormRopeTables } from './ops/rms-norm-rope';
export { gatedResidual, type GatedResidualOptions } from './ops/gated-residual';
export { CAST_SOURCE_DTYPES, castToBf16, type CastSourceDType, type CastToBf16Options } from './ops/cast-to-bf16';
export { DIT_MAX_ROWS, NORM_MAX_DIM } from './ops/_dit-checks';
export { patchify, type PatchifyOptions } from './ops/patchify';
export { unpatchify, type UnpatchifyOptions } from './ops/unpatchify';
export { PATCH_MAX_LENGTH, type PatchGrid, type PatchSize } from './ops/_patch-checks';
export { IM2COL_MAX_TAPS, convIm2col, type ConvIm2colOptions, type Im2colInputDType } from './ops/conv-im2col';
export { CHANNEL_NORM_FLOOR, channelRmsNorm, type ChannelRmsNormOptions } from './ops/channel-rms-norm';
export { softmaxRows, type SoftmaxRowsOptions } from './ops/softmax-rows';
export { clampToPlanar, type ClampToPlanarOptions, type PlanarOutputDType } from './ops/clamp-to-planar';
export {
  flowSolverStep,
  FLOW_SOLVER_MAX_ELEMENTS,
  type FlowCorrectorCoefficients,
  type FlowPredictorCoefficients,
  type FlowSolverStepOptions,
  type FlowSolverUpdate,
} from './ops/flow-solver-step';

// ----- CPU twins (what the GPU suite compares the kernels with)
export { bf16BitsToFloat32Array } from './cpu/bf16';
export { channelAmaxCpu } from './cpu/channel-amax';
export { gatherRowsCpu, scatterRowsCpu } from './ops/permute-rows';
export { MEAN_CHUNKS_PER_GROUP, MEAN_ROWS_PER_CHUNK, channelMeanCpu } from './ops/channel-mean';
export { quantizeRowsCpu, type QuantizeRowsCpuOptions } from './ops/quantize-rows';
export { quantizeVCpu, type QuantizeVCpuOptions } from './ops/quantize-v';
export { dequantizeRowsCpu } from './ops/dequantize-rows';
export { dequantizeVCpu } from './ops/dequantize-v';
export {
  ATTENTION_P_SCALE,
  attentionReference,
  float64ToBf16Bits,
  type AttentionDType,
  type AttentionReferenceOptions,
} from './ops/attention/reference';
export { expandRowScalesCpu } from './ops/attention/expand-row-scales';
export { gemmCpu, geluTanh, type GemmCpuOptions } from './ops/gemm';
export { layerNormModulateCpu, type LayerNormModulateCpuOptions } from './ops/layer-norm-modulate';
export { rmsNormRopeCpu, type RmsNormRopeCpuOptions } from './ops/rms-norm-rope';
export { gatedResidualCpu, type GatedResidualCpuOptions } from './ops/gated-residual';
export { castToBf16Cpu, type CastToBf16CpuOptions } from './ops/cast-to-bf16';
export { patchifyCpu, type PatchifyCpuOptions } from './ops/patchify';
export { unpatchifyCpu, type UnpatchifyCpuOptions } from './ops/unpatchify';
export { convIm2colCpu, type ConvIm2colCpuOptions } from './ops/conv-im2col';
export { channelRmsNormCpu, type ChannelRmsNormCpuOptions } from './ops/channel-rms-norm';
export { softmaxRowsCpu, type SoftmaxRowsCpuOptions } from './ops/softmax-rows';
export { clampToPlanarCpu, type ClampToPlanarCpuOptions } from './ops/clamp-to-planar';
export { flowSolverStepCpu, type FlowSolverStepCpuOptions } from './ops/flow-solver-step';

// ----- native boundary
export {
  defineNativeOp,
  describeNativeOp,
  type NativeFieldDescription,
  type NativeFieldType,
  type NativeFields,
  type NativeOp,
  type NativeParams,
  type NativeResult,
} from './core/native-op';
export type {
  AllocatorStats,
  MemoryStats,
  NativeAddon,
  NativeBuildInfo,
  NativeCublasLtStatus,
  NativeDeviceInfo,
  NativeFieldDescriptionWithRange,
  NativeOpDescription,
  NativeProbe,
  NativeTensorRef,
} from './core/addon-types';

// ----- errors
export {
  BackendUnavailableError,
  CublasLtError,
  CudaError,
  DisposedError,
  KERNELS_ERROR_CODES,
  OutOfMemoryError,
  type KernelsErrorCode,
} from './core/errors';
