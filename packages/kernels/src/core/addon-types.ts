/** The native addon's exports (native/src/binding). Tensors cross as references into its caching allocator. */
export interface NativeTensorRef {
  handle: number;
  byteOffset: number;
  byteLength: number;
}

export interface NativeBuildInfo {
  napiVersion: number;
  cuda: boolean;
  cudaCompilerVersion: string | null;
  cudaRuntimeBuildVersion: number | null;
  arch: string | null;
  cudart: string | null;
  summary: string;
}

export interface NativeProbe {
  ok: boolean;
  deviceCount: number;
  runtimeVersion: string | null;
  driverVersion: string | null;
  error?: { code: number; name: string; message: string };
}

export interface NativeDeviceInfo {
  device: number;
  name: string;
  computeCapability: string;
  major: number;
  minor: number;
  smCount: number;
  totalMemoryBytes: number;
  freeMemoryBytes: number;
  l2CacheBytes: number;
  sharedMemoryPerBlockOptinBytes: number;
  memoryBusWidthBits: number;
  runtimeVersion: string;
  driverVersion: string;
  kernelsSupported: boolean;
}

/** What the addon's run-time cuBLASLt loader found (native/src/blas/cublaslt_loader.h has the search order). */
export interface NativeCublasLtStatus {
  loaded: boolean;
  /** The file loaded (a bare name found by the dynamic loader is reported as its real path). */
  path: string | null;
  /** Which step found it: 'setCublasLtPath', 'FPSATTN_CUBLASLT', 'CUDA_HOME', '/usr/local/cuda', 'dynamic loader (...)', 'pip wheel'. */
  source: string | null;
  /** cublasLtGetVersion(): major * 10000 + minor * 100 + patch. */
  version: number | null;
  versionString: string | null;
  /** cublasLtGetCudartVersion() of the loaded library. */
  cudartVersion: number | null;
  /** The explicit path searched first (setCublasLtPath, else $FPSATTN_CUBLASLT), or null. */
  explicitPath: string | null;
  /** One line per place looked at, in order, with what happened. */
  tried: string[];
  /** When not loaded: the FPSATTN_CUBLASLT_NOT_FOUND message (places tried and the fix). */
  error: string | null;
}

export interface AllocatorStats {
  allocRequests: number;
  cacheHits: number;
  cudaMallocCalls: number;
  cudaFreeCalls: number;
  liveBlocks: number;
  bytesInUse: number;
  bytesCached: number;
  peakBytesInUse: number;
  oomRetries: number;
}

/** The native allocator's counters plus the CUDA backend's JS-level pool (storages of disposed tensors kept for reuse). */
export interface MemoryStats extends AllocatorStats {
  /** Storages parked in the pool; their blocks count in `bytesInUse` above until `emptyCache()`. */
  pooledStorages: number;
  pooledBytes: number;
}

export interface NativeAddon {
  buildInfo(): NativeBuildInfo;
  probe(): NativeProbe;
  deviceInfo(): NativeDeviceInfo;
  alloc(bytes: number): number;
  free(handle: number): void;
  isLive(handle: number): boolean;
  upload(handle: number, byteOffset: number, data: ArrayBufferView): void;
  download<T extends ArrayBufferView>(handle: number, byteOffset: number, target: T): Promise<T>;
  downloadSync<T extends ArrayBufferView>(handle: number, byteOffset: number, target: T): T;
  memset(handle: number, byteOffset: number, byteLength: number, value: number): void;
  copy(dstHandle: number, dstOffset: number, srcHandle: number, srcOffset: number, byteLength: number): void;
  allocatorStats(): AllocatorStats;
  emptyCache(): void;
  setSyncCheck(on: boolean): void;
  synchronize(): Promise<void>;
  synchronizeSync(): void;
  eventCreate(): number;
  eventRecord(event: number): void;
  eventElapsed(start: number, end: number): number;
  eventDestroy(event: number): void;
  /** Searches for cuBLASLt on first call (every build: only dlopen is needed) and reports what was found. */
  cublasLtStatus(): NativeCublasLtStatus;
  /** Sets the explicit cuBLASLt path (a file or its folder; null: back to $FPSATTN_CUBLASLT) and searches again. */
  setCublasLtPath(path: string | null): NativeCublasLtStatus;
  /** The field table of every native op (see native/src/ops/); ops themselves are called through their NativeOp. */
  opDescriptions(): NativeOpDescription[];
}

/** What the addon's `opDescriptions()` says about one op: its export, params struct, launcher, kernel file, fields. */
export interface NativeOpDescription {
  name: string;
  params: string;
  launcher: string;
  kernelFile: string;
  fields: NativeFieldDescriptionWithRange[];
  result: NativeFieldDescriptionWithRange[] | null;
}

export interface NativeFieldDescriptionWithRange {
  name: string;
  type: 'tensor' | 'tensor?' | 'int' | 'float' | 'bool' | 'enum';
  values?: string[];
  /** Integer fields: the range the binding accepts. */
  min?: number;
  max?: number;
}
