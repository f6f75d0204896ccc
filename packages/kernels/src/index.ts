// @fpsattn/kernels: CUDA kernels (tile permutation, FP8 quantization) behind a backend interface, with a CPU backend
// of identical semantics. See README.md.
export { type DType, type HostArray, type HostArrayOf, DTYPES, DTYPE_BYTES } from './core/dtype';
export { Tensor, type Device, type Storage, contiguousStrides } from './core/tensor';
export type { RowMap, GroupMap } from './core/maps';
export type {
  Backend,
  QuantPath,
  QuantizeQKOptions,
  QuantizedQK,
  QuantizeVOptions,
  GatherRowsOptions,
  QuantizedV,
} from './core/backend';
export { FUSED_MAX_STAGING_BYTES, MAX_TOKEN_ROWS, TENSOR_ALIGNMENT_BYTES } from './core/backend';
export type { AllocatorStats, MemoryStats, NativeBuildInfo, NativeDeviceInfo, NativeProbe, NativeAddon } from './core/addon-types';
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
export { BackendUnavailableError, CudaError, DisposedError, OutOfMemoryError } from './core/errors';
export { CpuBackend } from './cpu/backend';
export { CudaBackend } from './cuda/backend';
export {
  MEAN_CHUNKS_PER_GROUP,
  channelAmaxCpu,
  MEAN_ROWS_PER_CHUNK,
  bf16BitsToFloat32Array,
  channelMeanCpu,
  dequantizeRowsCpu,
  dequantizeVCpu,
  gatherRowsCpu,
  quantizeRowsCpu,
  quantizeVCpu,
  scatterRowsCpu,
  type QuantizeRowsCpuOptions,
  type QuantizeVCpuOptions,
} from './cpu/twins';
