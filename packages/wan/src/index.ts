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
