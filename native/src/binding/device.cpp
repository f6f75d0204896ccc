// Build information, the device probe (never throws: it is how the loader decides between cuda and cpu),
// device information for doctor(), stream synchronization (async, off the event loop) and timing events.
#include <napi.h>

#include <string>
#include <unordered_map>

#include "binding/exports.h"
#include "binding/napi_util.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {

static Napi::Value jsBuildInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("napiVersion", 8);
#if FPSATTN_WITH_CUDA
  o.Set("cuda", true);
  o.Set("cudaCompilerVersion", FPSATTN_CUDA_VERSION_STRING);
  o.Set("cudaRuntimeBuildVersion", CUDART_VERSION);
  o.Set("arch", "sm_90a");
  o.Set("cudart", "static");
  o.Set("summary", std::string("built with CUDA ") + FPSATTN_CUDA_VERSION_STRING + " for sm_90a (static cudart)");
#else
  o.Set("cuda", false);
  o.Set("cudaCompilerVersion", env.Null());
  o.Set("cudaRuntimeBuildVersion", env.Null());
  o.Set("arch", env.Null());
  o.Set("cudart", env.Null());
  o.Set("summary", "built without CUDA");
#endif
  return o;
}

static std::string versionString(int v) {
  if (v <= 0) return "unknown";
  return std::to_string(v / 1000) + "." + std::to_string((v % 1000) / 10);
}

/// {ok, deviceCount, runtimeVersion, driverVersion, error?: {code, name, message}}; never throws.
static Napi::Value jsProbe(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#if FPSATTN_WITH_CUDA
  int runtime = 0, driver = 0, count = 0;
  (void)cudaRuntimeGetVersion(&runtime);
  (void)cudaDriverGetVersion(&driver);
  o.Set("runtimeVersion", versionString(runtime));
  o.Set("driverVersion", driver > 0 ? Napi::Value(Napi::String::New(env, versionString(driver))) : env.Null());
  const cudaError_t st = cudaGetDeviceCount(&count);
  if (st != cudaSuccess) {
    (void)cudaGetLastError();
    Napi::Object e = Napi::Object::New(env);
    e.Set("code", int(st));
    e.Set("name", cudaGetErrorName(st));
    e.Set("message", cudaGetErrorString(st));
    o.Set("ok", false);
    o.Set("deviceCount", 0);
    o.Set("error", e);
  } else {
    o.Set("ok", count > 0);
    o.Set("deviceCount", count);
    if (count == 0) {
      Napi::Object e = Napi::Object::New(env);
      e.Set("code", 100);
      e.Set("name", "cudaErrorNoDevice");
      e.Set("message", "no CUDA-capable device is detected");
      o.Set("error", e);
    }
  }
#else
  o.Set("ok", false);
  o.Set("deviceCount", 0);
  o.Set("runtimeVersion", env.Null());
  o.Set("driverVersion", env.Null());
  Napi::Object e = Napi::Object::New(env);
  e.Set("code", -1);
  e.Set("name", "builtWithoutCuda");
  e.Set("message", "built without CUDA");
  o.Set("error", e);
#endif
  return o;
}

void registerProbe(Napi::Env env, Napi::Object exports) {
  exports.Set("buildInfo", Napi::Function::New(env, jsBuildInfo, "buildInfo"));
  exports.Set("probe", Napi::Function::New(env, jsProbe, "probe"));
}

#if FPSATTN_WITH_CUDA
static Napi::Value jsDeviceInfo(const Napi::CallbackInfo& info) {
  return guarded(info, "deviceInfo", [&]() -> Napi::Value {
    Napi::Env env = info.Env();
    int dev = 0;
    FPSATTN_CUDA_CHECK(cudaGetDevice(&dev));
    cudaDeviceProp prop{};
    FPSATTN_CUDA_CHECK(cudaGetDeviceProperties(&prop, dev));
    size_t freeB = 0, totalB = 0;
    FPSATTN_CUDA_CHECK(cudaMemGetInfo(&freeB, &totalB));
    int runtime = 0, driver = 0;
    FPSATTN_CUDA_CHECK(cudaRuntimeGetVersion(&runtime));
    FPSATTN_CUDA_CHECK(cudaDriverGetVersion(&driver));
    Napi::Object o = Napi::Object::New(env);
    o.Set("device", dev);
    o.Set("name", prop.name);
    o.Set("computeCapability", std::to_string(prop.major) + "." + std::to_string(prop.minor));
    o.Set("major", prop.major);
    o.Set("minor", prop.minor);
    o.Set("smCount", prop.multiProcessorCount);
    o.Set("totalMemoryBytes", double(totalB));
    o.Set("freeMemoryBytes", double(freeB));
    o.Set("l2CacheBytes", prop.l2CacheSize);
    o.Set("sharedMemoryPerBlockOptinBytes", double(prop.sharedMemPerBlockOptin));
    o.Set("memoryBusWidthBits", prop.memoryBusWidth);
    o.Set("runtimeVersion", versionString(runtime));
    o.Set("driverVersion", versionString(driver));
    // The kernels are built for sm_90a only: they run on compute capability 9.0 and nowhere else.
    o.Set("kernelsSupported", prop.major == 9 && prop.minor == 0);
    return o;
  });
}

namespace {
class SyncWorker : public Napi::AsyncWorker {
 public:
  explicit SyncWorker(Napi::Env env)
      : Napi::AsyncWorker(env, "fpsattn.synchronize"), deferred_(Napi::Promise::Deferred::New(env)) {}
  ~SyncWorker() override {
    if (event_ != nullptr) (void)cudaEventDestroy(event_);
  }
  void enqueue() {
    FPSATTN_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming));
    FPSATTN_CUDA_CHECK(cudaEventRecord(event_, stream()));
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {
    const cudaError_t st = cudaEventSynchronize(event_);
    if (st != cudaSuccess)
      SetError(std::string("cudaEventSynchronize failed: ") + cudaGetErrorName(st) + ": " + cudaGetErrorString(st));
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error& e) override {
    deferred_.Reject(makeError(Env(), "FPSATTN_CUDA_ERROR", std::string("fpsattn.synchronize: ") + e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  cudaEvent_t event_ = nullptr;
};

std::unordered_map<int64_t, cudaEvent_t> gEvents;
int64_t gNextEvent = 1;
cudaEvent_t eventOf(int64_t id) {
  auto it = gEvents.find(id);
  if (it == gEvents.end()) throw ArgumentError("unknown event " + std::to_string(id));
  return it->second;
}
}  // namespace

static Napi::Value jsSynchronize(const Napi::CallbackInfo& info) {
  return guarded(info, "synchronize", [&]() -> Napi::Value {
    auto* worker = new SyncWorker(info.Env());
    try {
      worker->enqueue();
    } catch (...) {
      delete worker;
      throw;
    }
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
  });
}

static Napi::Value jsSynchronizeSync(const Napi::CallbackInfo& info) {
  return guarded(info, "synchronizeSync", [&]() -> Napi::Value {
    FPSATTN_CUDA_CHECK(cudaStreamSynchronize(stream()));
    return info.Env().Undefined();
  });
}

static Napi::Value jsEventCreate(const Napi::CallbackInfo& info) {
  return guarded(info, "eventCreate", [&]() -> Napi::Value {
    cudaEvent_t ev = nullptr;
    FPSATTN_CUDA_CHECK(cudaEventCreate(&ev));
    const int64_t id = gNextEvent++;
    gEvents.emplace(id, ev);
    return Napi::Number::New(info.Env(), double(id));
  });
}

static Napi::Value jsEventRecord(const Napi::CallbackInfo& info) {
  return guarded(info, "eventRecord", [&]() -> Napi::Value {
    FPSATTN_CUDA_CHECK(cudaEventRecord(eventOf(argInt(info, 0, "event", 1, kMaxSafeInt)), stream()));
    return info.Env().Undefined();
  });
}

/// Milliseconds between two recorded events; waits for the second one.
static Napi::Value jsEventElapsed(const Napi::CallbackInfo& info) {
  return guarded(info, "eventElapsed", [&]() -> Napi::Value {
    cudaEvent_t a = eventOf(argInt(info, 0, "start", 1, kMaxSafeInt));
    cudaEvent_t b = eventOf(argInt(info, 1, "end", 1, kMaxSafeInt));
    FPSATTN_CUDA_CHECK(cudaEventSynchronize(b));
    float ms = 0.0f;
    FPSATTN_CUDA_CHECK(cudaEventElapsedTime(&ms, a, b));
    return Napi::Number::New(info.Env(), double(ms));
  });
}

static Napi::Value jsEventDestroy(const Napi::CallbackInfo& info) {
  return guarded(info, "eventDestroy", [&]() -> Napi::Value {
    const int64_t id = argInt(info, 0, "event", 1, kMaxSafeInt);
    FPSATTN_CUDA_CHECK(cudaEventDestroy(eventOf(id)));
    gEvents.erase(id);
    return info.Env().Undefined();
  });
}

void registerDevice(Napi::Env env, Napi::Object exports) {
  exports.Set("deviceInfo", Napi::Function::New(env, jsDeviceInfo, "deviceInfo"));
  exports.Set("synchronize", Napi::Function::New(env, jsSynchronize, "synchronize"));
  exports.Set("synchronizeSync", Napi::Function::New(env, jsSynchronizeSync, "synchronizeSync"));
  exports.Set("eventCreate", Napi::Function::New(env, jsEventCreate, "eventCreate"));
  exports.Set("eventRecord", Napi::Function::New(env, jsEventRecord, "eventRecord"));
  exports.Set("eventElapsed", Napi::Function::New(env, jsEventElapsed, "eventElapsed"));
  exports.Set("eventDestroy", Napi::Function::New(env, jsEventDestroy, "eventDestroy"));
}
#endif

}  // namespace fpsattn
