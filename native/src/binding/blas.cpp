// cublasLtStatus() and setCublasLtPath(): what the run-time cuBLASLt loader found (for doctor()) and the explicit
// path setter. Present in every build: finding the library needs only libdl (the gemm op itself needs CUDA).
#include <napi.h>

#include "binding/exports.h"
#include "binding/napi_util.h"
#include "blas/blas_error.h"
#include "blas/cublaslt_loader.h"

namespace fpsattn {
namespace {

Napi::Value orNull(Napi::Env env, const std::string& s) {
  return s.empty() ? env.Null() : Napi::Value(Napi::String::New(env, s));
}

/// {loaded, path, source, version, versionString, cudartVersion, explicitPath, tried, error}; nulls where unknown.
Napi::Object statusObject(Napi::Env env, const CublasLtStatus& st) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("loaded", st.loaded);
  o.Set("path", orNull(env, st.path));
  o.Set("source", orNull(env, st.source));
  o.Set("version", st.loaded ? Napi::Value(Napi::Number::New(env, double(st.version))) : env.Null());
  o.Set("versionString", st.loaded ? Napi::Value(Napi::String::New(env, cublasLtVersionString(st.version))) : env.Null());
  o.Set("cudartVersion", st.loaded ? Napi::Value(Napi::Number::New(env, double(st.cudartVersion))) : env.Null());
  o.Set("explicitPath", orNull(env, st.explicitPath));
  Napi::Array tried = Napi::Array::New(env, st.tried.size());
  for (size_t i = 0; i < st.tried.size(); ++i) tried.Set(uint32_t(i), st.tried[i]);
  o.Set("tried", tried);
  o.Set("error", orNull(env, st.error));
  return o;
}

Napi::Value jsCublasLtStatus(const Napi::CallbackInfo& info) {
  return guarded(info, "cublasLtStatus", [&]() -> Napi::Value { return statusObject(info.Env(), cublasLtStatus()); });
}

/// setCublasLtPath(path | null): the explicit path (a file or its folder) searched first; null goes back to
/// $FPSATTN_CUBLASLT. Searches again at once and returns the new status.
Napi::Value jsSetCublasLtPath(const Napi::CallbackInfo& info) {
  return guarded(info, "setCublasLtPath", [&]() -> Napi::Value {
    std::string path;
    if (info.Length() > 0 && info[0].IsString()) path = info[0].As<Napi::String>().Utf8Value();
    else if (info.Length() > 0 && !info[0].IsNull() && !info[0].IsUndefined())
      throw ArgumentError("path must be a string (a libcublasLt.so.* file or its folder) or null");
    try {
      return statusObject(info.Env(), setCublasLtPath(path));
    } catch (const BlasError& e) {
      throw CodedError(e.code(), e.what());
    }
  });
}

}  // namespace

void registerBlas(Napi::Env env, Napi::Object exports) {
  exports.Set("cublasLtStatus", Napi::Function::New(env, jsCublasLtStatus, "cublasLtStatus"));
  exports.Set("setCublasLtPath", Napi::Function::New(env, jsSetCublasLtPath, "setCublasLtPath"));
}

}  // namespace fpsattn
