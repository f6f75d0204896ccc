// @fpsattn/wan: Wan2.1 text-to-video with FPSAttention.

// safetensors (checkpoint files)
export { CheckpointError, WAN_CHECKPOINT_ERROR_CODES, type WanCheckpointErrorCode } from './safetensors/checkpoint-error';
export {
  SAFETENSORS_DTYPES,
  dtypeItemSize,
  isSafetensorsDtype,
  type SafetensorsArray,
  type SafetensorsArrayOf,
  type SafetensorsDtype,
} from './safetensors/dtypes';
export {
  SAFETENSORS_MAX_HEADER_BYTES,
  parseSafetensorsHeader,
  type SafetensorsByteRange,
  type SafetensorsHeader,
  type SafetensorsTensorInfo,
} from './safetensors/header';
export { decodeTensorBytes } from './safetensors/tensor-data';
export { tensorToFloat32 } from './safetensors/to-float32';
export { openSafetensors, type SafetensorsFile, type TensorSource } from './safetensors/reader';
export { openCheckpoint, type Checkpoint, type CheckpointTensorInfo } from './safetensors/sharded';
export { writeSafetensors, type TensorToWrite, type WriteSafetensorsOptions } from './safetensors/writer';

// sampler (flow matching)
export {
  SAMPLER_ERROR_CODES,
  SamplerAbortedError,
  SamplerNonFiniteError,
  SamplerOptionError,
  SamplerTensorError,
  type SamplerErrorCode,
} from './sampler/errors';
export { SOLVER_NAMES, WAN_T2V_SAMPLING_DEFAULTS } from './sampler/defaults';
export { flowMatchSchedule, type FlowMatchScheduleOptions } from './sampler/flow-match-schedule';
export { createEulerSolver, type EulerSolverOptions } from './sampler/euler-solver';
export { createUniPcSolver, type UniPcSolverOptions } from './sampler/unipc-solver';
export { classifierFreeGuidance, type ClassifierFreeGuidanceOptions } from './sampler/classifier-free-guidance';
export { gaussianNoise, type GaussianNoiseOptions } from './sampler/gaussian-noise';
export { sample } from './sampler/sample';
export {
  sampleOnDevice,
  type DeviceVelocityModel,
  type DeviceVelocityModelInput,
  type DeviceVelocityModelOutput,
  type SampleOnDeviceOptions,
} from './device/device-sample';
export type {
  FlowMatchSchedule,
  FlowSolver,
  NoiseSeed,
  SampleOptions,
  SampleResult,
  SolverName,
  SolverStepOptions,
  StepProgress,
  VelocityModel,
  VelocityModelInput,
  VelocityModelOutput,
} from './sampler/types';

// model (Wan2.1 DiT)
export {
  WAN_MODEL_ERROR_CODES,
  WanConfigError,
  WanConfigMismatchError,
  WanInputError,
  WanLoadAbortedError,
  WanNamingError,
  WanTensorDtypeError,
  WanTensorSetError,
  WanTensorShapeError,
  type WanConfigFieldMismatch,
  type WanModelErrorCode,
} from './model/errors';
export {
  WAN_CONFIG_PRESETS,
  WAN_PRESET_NAMES,
  describeWanConfig,
  validateWanConfig,
  wanHeadDim,
  wanPresetName,
  type WanConfig,
  type WanPresetName,
} from './model/config';
export { checkWanConfig, parseWanConfigJson, readWanConfig, wanConfigToJson, type ParsedWanConfig, type WanConfigNaming } from './model/config-json';
export { wanTensorSpecs, type WanTensorSpec } from './model/keys';
export {
  COMFYUI_PREFIX,
  WAN_NAMINGS,
  detectWanNaming,
  wanNameFromOriginal,
  wanNameToOriginal,
  type WanNaming,
  type WanNamingReport,
} from './model/key-naming';
export { checkWanTensors, checkWanWeights, type CheckedWanTensors, type WanTensorShapeInfo } from './model/check-keys';
export { syntheticUniforms, syntheticWanTensor, syntheticWanWeights, type SyntheticSeed } from './model/synthetic-weights';
export { syntheticWanInputs, type SyntheticWanInputs } from './model/synthetic-inputs';
export { WAN_CHECKPOINT_FILE, writeSyntheticWanCheckpoint, type SyntheticWanCheckpoint } from './model/synthetic-checkpoint';
export { loadWanWeights, prepareWanCheckpoint, type LoadedWanWeights, type PreparedWanCheckpoint } from './model/load-weights';
export { ROPE_MAX_POSITIONS, ropeAxisPairs, ropeTable, type RopeTable } from './model/rope';
export { timestepSinusoid } from './model/timestep-embedding';
export { wanBlockCpu, type WanBlockCpuOptions } from './model/cpu-block';
export { wanForwardCpu, type WanForwardCpuOptions, type WanForwardStage } from './model/cpu-forward';
export { wanForwardCpuCfg, type WanTextContext } from './model/cpu-forward-cfg';
export type { WanWeights } from './model/types';

// device forward (CUDA through @fpsattn/kernels, or the CPU backend's twins)
export {
  WanDeviceWeights,
  wanTensorPlacement,
  type UploadWanWeightsOptions,
  type WanDeviceWeightsFromCheckpointOptions,
  type WanTensorPlacement,
  type WanWeightSource,
  type WanWeightsProgress,
} from './device/device-weights';
export { WanDeviceDit, WanDeviceText, type LayerAttention, type WanDeviceForwardOptions, type WanDeviceTextOptions } from './device/device-forward';
export { layerPlansAt, wanDeviceVelocityModel, type WanDeviceVelocityModelOptions } from './device/velocity-model';
export { wanDeviceTensorModel } from './device/velocity-model';
export type { WanDeviceForwardTensorOptions } from './device/device-forward';
export { patchify } from './model/patch-embedding';

// pipeline: text embeddings -> latents
export { TEXT_EMBEDDING_TENSORS, readTextEmbeddings, writeTextEmbeddings, type TextEmbedding, type TextEmbeddings } from './pipeline/text-embeddings';
export { generateLatents, latentShapeFor, type GenerateLatentsOptions, type GenerateLatentsResult, type GenerateLatentsStep } from './pipeline/generate-latents';
export { SAMPLER_LOOPS, defaultSamplerLoop, type SamplerLoop } from './pipeline/sampler-loop';

// PyTorch checkpoints (.pth: zip + a pickle interpreter with an allowlist, never executing code)
export { PthError, WAN_PTH_ERROR_CODES, type WanPthErrorCode } from './pth/pth-error';
export { openPth, type PthFile, type PthTensorInfo } from './pth/reader';

// Wan-VAE decoder (CPU, float32)
export { WAN_VAE_CONFIG_PRESETS, WAN_VAE_LATENT_MEAN, WAN_VAE_LATENT_STD, validateWanVaeConfig, type WanVaeConfig, type WanVaePresetName } from './vae/config';
export { wanVaeDecoderLayout, wanVaeOutputShape, type WanVaeDecoderLayout, type WanVaeStageSpec, type WanVaeResidualSpec, type WanVaeAttentionSpec, type WanVaeResampleSpec } from './vae/layout';
export { wanVaeTensorSpecs, type WanVaeTensorSpec } from './vae/keys';
export { checkWanVaeWeights, checkWanVaeTensorShapes, isWanVaeEncoderTensor, type WanVaeWeights } from './vae/check-weights';
export { syntheticWanVaeWeights, syntheticWanVaeTensor, syntheticWanVaeLatents } from './vae/synthetic-weights';
export { wanVaeDecodeCpu, type WanVaeDecodeCpuOptions, type WanVaeDecodeResult, type WanVaeFrameEvent, type WanVaeCheckpointEvent } from './vae/decode';
export type { WanVaeCheckpointName } from './vae/decoder';

// Wan-VAE decoder on a backend (CUDA, or the CPU backend's twins)
export { WanVaeDeviceWeights, WAN_VAE_DEVICE_WIDTH_MULTIPLE } from './vae/device/weights';
export { WanVaeDeviceDecoder, type WanVaeDeviceDecodeOptions, type WanVaeDeviceDecodeResult, type WanVaeDeviceFrameEvent, type WanVaeOutputDType } from './vae/device/decode';
export { WAN_VAE_IM2COL_BYTES } from './vae/device/im2col-scratch';

// umT5 text encoder (CPU)
export { UMT5_CONFIG_PRESETS, UMT5_PRESET_NAMES, validateUmt5Config, umt5HeadDim, umt5PresetName, describeUmt5Config, type Umt5Config, type Umt5PresetName } from './t5/config';
export { umt5TensorSpecs, type Umt5TensorSpec } from './t5/keys';
export { checkUmt5Weights } from './t5/check-weights';
export { syntheticUmt5Weights, syntheticUmt5Tensor } from './t5/synthetic-weights';
export { relativePositionBucket, relativePositionBuckets } from './t5/relative-position-bucket';
export { umt5EncodeCpu, type Umt5EncodeCpuOptions, type Umt5Stage } from './t5/encoder';
export { padContext } from './t5/pad-context';
export type { Umt5Weights, Umt5Precision, Umt5Floats } from './t5/types';

// umT5 text encoder on a backend (CUDA, or the CPU backend's twins)
export { WanUmt5DeviceWeights, WAN_UMT5_DEVICE_WIDTH_MULTIPLE, type Umt5DeviceBlock } from './t5/device/weights';
export { WanUmt5DeviceEncoder, WAN_UMT5_TOKEN_MULTIPLE, type WanUmt5DeviceEncodeOptions, type WanUmt5HeadGemms } from './t5/device/encoder';
export { WAN_VAE_PTH_FILE, isWanVaeIgnoredTensor, loadWanVaeWeights, wanVaeConfigFromDiffusers, wanVaeDiffusersNames, type LoadedWanVaeWeights, type WanVaeNaming } from './vae/load-weights';
export { UMT5_PTH_FILE, loadUmt5Weights, umt5ConfigFromTransformers, umt5DiffusersNames, type LoadedUmt5Weights, type Umt5Naming } from './t5/load-weights';

// video output (PNG, contact sheet, mp4 through ffmpeg)
export { WAN_VIDEO_ERROR_CODES, WanVideoError, FFMPEG_MISSING_MESSAGE, type WanVideoErrorCode } from './video/errors';
export { encodePng, crc32, type EncodePngOptions, type Rgb8Image } from './video/png';
export { framesToRgb8, frameToRgb8, type FramesToRgb8Options, type Rgb8Rounding } from './video/rgb';
export { contactSheet, contactSheetFrameIndices, type ContactSheet, type ContactSheetOptions } from './video/contact-sheet';
export { writeMp4, ffmpegStatus, formatFfmpegStatus, ffmpegMp4Args, WAN_VIDEO_FPS, WAN_VIDEO_CRF, type WriteMp4Options, type WriteMp4Result, type FfmpegStatus } from './video/ffmpeg';
export { writeVideoOutputs, type WriteVideoOutputsOptions, type WriteVideoOutputsResult } from './video/outputs';
