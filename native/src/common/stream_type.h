// cudaStream_t for headers that declare launchers: the real type in CUDA builds, an opaque pointer otherwise (the
// CPU-only build compiles the op descriptions, which name the launchers, but never calls them).
#pragma once

#if FPSATTN_WITH_CUDA
#include <cuda_runtime.h>
#else
typedef struct CUstream_st* cudaStream_t;
#endif
