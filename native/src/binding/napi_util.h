// Helpers of the N-API binding: JS errors with a `code`, a guard that turns C++ exceptions into JS errors naming the
// call, and checked readers for the fields of a params object.
#pragma once

#include <napi.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#if FPSATTN_WITH_CUDA
#include "common/cuda_check.h"
#endif

namespace fpsattn {

/// A bad argument caught by the binding (the TS layer validates first; this is the second line of defence).
class ArgumentError : public std::runtime_error {
 public:
  explicit ArgumentError(const std::string& m) : std::runtime_error(m) {}
};

/// An error with an explicit fpsattn error code (e.g. FPSATTN_OUT_OF_MEMORY, FPSATTN_BACKEND_UNAVAILABLE).
class CodedError : public std::runtime_error {
 public:
  CodedError(const char* code, const std::string& m) : std::runtime_error(m), code_(code) {}
  const char* code() const noexcept { return code_; }

 private:
  const char* code_;
};

inline Napi::Error makeError(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error e = Napi::Error::New(env, message);
  e.Value().Set("code", Napi::String::New(env, code));
  return e;
}

/// Runs `body`; any C++ exception becomes a JS error "fpsattn.<name>: <what>" with a code.
template <typename F>
Napi::Value guarded(const Napi::CallbackInfo& info, const char* name, F&& body) {
  Napi::Env env = info.Env();
  const std::string prefix = std::string("fpsattn.") + name + ": ";
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const ArgumentError& e) {
    throw makeError(env, "FPSATTN_INVALID_ARGUMENT", prefix + e.what());
  } catch (const CodedError& e) {
    throw makeError(env, e.code(), prefix + e.what());
#if FPSATTN_WITH_CUDA
  } catch (const CudaError& e) {
    throw makeError(env, e.outOfMemory() ? "FPSATTN_OUT_OF_MEMORY" : "FPSATTN_CUDA_ERROR", prefix + e.what());
#endif
  } catch (const std::exception& e) {
    throw makeError(env, "FPSATTN_CUDA_ERROR", prefix + e.what());
  }
}

inline Napi::Object argObject(const Napi::CallbackInfo& info, size_t i, const char* what) {
  if (info.Length() <= i || !info[i].IsObject()) throw ArgumentError(std::string("expected ") + what + " object");
  return info[i].As<Napi::Object>();
}

inline double fieldNumber(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsNumber()) throw ArgumentError(std::string("params.") + key + " must be a number");
  return v.As<Napi::Number>().DoubleValue();
}

inline int64_t fieldInt(const Napi::Object& o, const char* key, int64_t lo, int64_t hi) {
  const double d = fieldNumber(o, key);
  if (!(d >= double(lo) && d <= double(hi)) || d != double(int64_t(d)))
    throw ArgumentError(std::string("params.") + key + " must be an integer in [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "], got " + std::to_string(d));
  return int64_t(d);
}

inline int64_t argInt(const Napi::CallbackInfo& info, size_t i, const char* name, int64_t lo, int64_t hi) {
  if (info.Length() <= i || !info[i].IsNumber()) throw ArgumentError(std::string(name) + " must be a number");
  const double d = info[i].As<Napi::Number>().DoubleValue();
  if (!(d >= double(lo) && d <= double(hi)) || d != double(int64_t(d)))
    throw ArgumentError(std::string(name) + " must be an integer in [" + std::to_string(lo) + ", " +
                        std::to_string(hi) + "]");
  return int64_t(d);
}

constexpr int64_t kMaxSafeInt = 9007199254740991LL;

}  // namespace fpsattn
