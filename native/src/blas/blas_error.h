// Errors of the cuBLASLt layer, with their fpsattn codes. Plain C++ (no N-API, no CUDA headers) so that the loader
// and gemm.cu can throw them; the JS-facing bindings (ops/gemm.cpp, binding/blas.cpp) rethrow them as coded JS errors.
#pragma once

#include <stdexcept>
#include <string>

#include "blas/cublaslt_api.h"

namespace fpsattn {

/// FPSATTN_CUBLASLT_NOT_FOUND: no loadable libcublasLt (the message lists every place tried and how to fix it).
inline constexpr const char* kCublasLtNotFound = "FPSATTN_CUBLASLT_NOT_FOUND";
/// FPSATTN_CUBLASLT_ERROR: a cuBLASLt call returned a status other than success (the message names call and status).
inline constexpr const char* kCublasLtError = "FPSATTN_CUBLASLT_ERROR";

class BlasError : public std::runtime_error {
 public:
  BlasError(const char* code, const std::string& message) : std::runtime_error(message), code_(code) {}
  const char* code() const noexcept { return code_; }

 private:
  const char* code_;
};

}  // namespace fpsattn
