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
