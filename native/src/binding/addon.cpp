// The fpsattn Node-API addon: one module, the same exports in CUDA and CPU-only builds. In a CPU-only build every
// CUDA function is a stub that throws FPSATTN_BACKEND_UNAVAILABLE "built without CUDA"; buildInfo() and probe()
// always work, so the TS loader can choose the CPU backend without try/catch on each call.
#include <napi.h>

#include "binding/exports.h"
#include "binding/napi_util.h"

namespace fpsattn {

#if !FPSATTN_WITH_CUDA
static Napi::Value notBuilt(const Napi::CallbackInfo& info) {
  const char* name = static_cast<const char*>(info.Data());
  throw makeError(info.Env(), "FPSATTN_BACKEND_UNAVAILABLE",
                  std::string("fpsattn.") + name + ": built without CUDA (rebuild native/ on a machine with nvcc)");
}
#endif

Napi::Object init(Napi::Env env, Napi::Object exports) {
  registerProbe(env, exports);
  registerBlas(env, exports);
  registerOps(env, exports);
#if FPSATTN_WITH_CUDA
  registerMemory(env, exports);
  registerDevice(env, exports);
#else
  for (const char* name : kCudaFunctionNames)
    exports.Set(name, Napi::Function::New(env, notBuilt, name, const_cast<char*>(name)));
#endif
  return exports;
}

}  // namespace fpsattn

static Napi::Object InitAddon(Napi::Env env, Napi::Object exports) { return fpsattn::init(env, exports); }

NODE_API_MODULE(fpsattn, InitAddon)
