// Error checking shared by the kernels and the binding.
//   FPSATTN_CUDA_CHECK(call)  runs a CUDA runtime call and throws fpsattn::CudaError (file, line, the call's text,
//                             cudaGetErrorName and cudaGetErrorString) when it does not return cudaSuccess.
//   FPSATTN_CHECK_LAUNCH()    checks cudaGetLastError() right after a <<<...>>> launch (bad configuration, too much
//                             shared memory, no kernel image for the device); asynchronous faults surface at the
//                             next checked call or synchronize().
// The binding turns CudaError into a JS error carrying code FPSATTN_CUDA_ERROR or FPSATTN_OUT_OF_MEMORY and the name
// of the JS call. Only compiled in CUDA builds.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>
#include <string>

namespace fpsattn {

class CudaError : public std::runtime_error {
 public:
  CudaError(cudaError_t status, const char* what, const char* file, int line)
      : std::runtime_error(format(status, what, file, line)), status_(status) {}
  cudaError_t status() const noexcept { return status_; }
  bool outOfMemory() const noexcept { return status_ == cudaErrorMemoryAllocation; }

 private:
  static std::string format(cudaError_t status, const char* what, const char* file, int line) {
    std::string base = file;
    const auto slash = base.find_last_of('/');
    if (slash != std::string::npos) base = base.substr(slash + 1);
    return std::string(what) + " failed: " + cudaGetErrorName(status) + " (" + std::to_string(int(status)) +
           "): " + cudaGetErrorString(status) + " [" + base + ":" + std::to_string(line) + "]";
  }
  cudaError_t status_;
};

inline void cudaCheck(cudaError_t status, const char* what, const char* file, int line) {
  if (status != cudaSuccess) {
    // Clear a non-sticky error so that the next call starts clean (sticky errors stay: the context is lost).
    (void)cudaGetLastError();
    throw CudaError(status, what, file, line);
  }
}

}  // namespace fpsattn

#define FPSATTN_CUDA_CHECK(call) ::fpsattn::cudaCheck((call), #call, __FILE__, __LINE__)
#define FPSATTN_CHECK_LAUNCH() ::fpsattn::cudaCheck(cudaGetLastError(), "kernel launch", __FILE__, __LINE__)
