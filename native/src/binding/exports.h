// Registration functions of the binding's parts (addon.cpp calls them).
#pragma once

#include <napi.h>

namespace fpsattn {

/// Names of the memory and device functions, which need CUDA; in a CPU-only build addon.cpp registers each as a stub
/// that throws FPSATTN_BACKEND_UNAVAILABLE "built without CUDA". (Ops are registered by ops/registry.cpp in every
/// build, as stubs there when CUDA is absent, and opDescriptions() works everywhere.)
inline constexpr const char* kCudaFunctionNames[] = {
    "alloc", "free", "isLive", "upload", "download", "downloadSync", "memset", "copy", "allocatorStats",
    "emptyCache", "setSyncCheck", "deviceInfo", "synchronize", "synchronizeSync", "eventCreate", "eventRecord",
    "eventElapsed", "eventDestroy",
};

#if FPSATTN_WITH_CUDA
void registerMemory(Napi::Env env, Napi::Object exports);
void registerDevice(Napi::Env env, Napi::Object exports);
#endif
/// Every op of native/src/ops/op_list.h, and opDescriptions() (ops/registry.cpp): present in every build.
void registerOps(Napi::Env env, Napi::Object exports);
/// buildInfo() and probe(): present in every build.
void registerProbe(Napi::Env env, Napi::Object exports);
/// cublasLtStatus() and setCublasLtPath() (binding/blas.cpp): present in every build (the loader needs only libdl).
void registerBlas(Napi::Env env, Napi::Object exports);

}  // namespace fpsattn
