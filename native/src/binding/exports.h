// Registration functions of the binding's parts (addon.cpp calls them).
#pragma once

#include <napi.h>

namespace fpsattn {

/// Names of the functions that need CUDA; in a CPU-only build addon.cpp registers each as a stub that throws
/// FPSATTN_BACKEND_UNAVAILABLE "built without CUDA".
inline constexpr const char* kCudaFunctionNames[] = {
    "alloc", "free", "isLive", "upload", "download", "downloadSync", "memset", "copy", "allocatorStats",
    "emptyCache", "setSyncCheck", "deviceInfo", "synchronize", "synchronizeSync", "eventCreate", "eventRecord",
    "eventElapsed", "eventDestroy", "permuteRows", "channelMean", "quantizeRows", "quantizeV", "dequantizeRows",
    "dequantizeV",
};

#if FPSATTN_WITH_CUDA
void registerMemory(Napi::Env env, Napi::Object exports);
void registerDevice(Napi::Env env, Napi::Object exports);
void registerOps(Napi::Env env, Napi::Object exports);
#endif
/// buildInfo() and probe(): present in every build.
void registerProbe(Napi::Env env, Napi::Object exports);

}  // namespace fpsattn
