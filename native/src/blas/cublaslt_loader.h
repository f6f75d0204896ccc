// Run-time loading of cuBLASLt (dlopen), so that the addon builds and loads where no cuBLAS is installed, and finds the
// library of the CUDA toolkit or of the nvidia-cublas pip wheel where one is. Compiled in every build (it needs only
// libdl); doctor() reports what it found through cublasLtStatus().
//
// Search, first loadable library wins; in each place libcublasLt.so.13, then .so.12, then .so:
//   1. the explicit path: setCublasLtPath(path) from JS, else $FPSATTN_CUBLASLT (a file, or a folder holding one)
//   2. $CUDA_HOME/lib64, then /usr/local/cuda/lib64
//   3. the dynamic loader's own search (LD_LIBRARY_PATH, RUNPATH, the ldconfig cache)
//   4. pip wheels in Python site-packages found without running Python ($VIRTUAL_ENV, $CONDA_PREFIX, $PYTHONPATH, the
//      prefix of each python3 on PATH, ~/.local, /usr/local/lib, /usr/lib, /opt/conda): nvidia/cu13/lib (CUDA 13
//      wheels) and nvidia/cublas/lib (nvidia-cublas-cu12)
// A candidate counts when dlopen succeeds and every required symbol resolves. The result is kept for the process (a
// library is never unloaded); a failed search is repeated only after setCublasLtPath.
#pragma once

#include <string>
#include <vector>

#include "blas/cublaslt_api.h"

namespace fpsattn {

struct CublasLtStatus {
  bool loaded = false;
  std::string path;     // the file loaded (as given to dlopen)
  std::string source;   // which step found it: "setCublasLtPath", "FPSATTN_CUBLASLT", "CUDA_HOME", ...
  size_t version = 0;   // cublasLtGetVersion(): major * 10000 + minor * 100 + patch
  size_t cudartVersion = 0;
  std::vector<std::string> tried;  // one line per place looked at, in order, with what happened
  std::string error;    // when not loaded: the FPSATTN_CUBLASLT_NOT_FOUND message
  std::string explicitPath;  // the path set by setCublasLtPath or $FPSATTN_CUBLASLT ("" if none)
};

/// Searches once (or again after setCublasLtPath) and reports; never throws.
const CublasLtStatus& cublasLtStatus();
/// The loaded library's entry points; throws BlasError FPSATTN_CUBLASLT_NOT_FOUND (paths tried, the fix) if none.
const lt::Api& cublasLtApi();
/// Sets the explicit path (empty: back to $FPSATTN_CUBLASLT) and searches again. Throws BlasError
/// FPSATTN_CUBLASLT_ERROR if a library is already loaded from another file (a process keeps the first one).
const CublasLtStatus& setCublasLtPath(const std::string& path);
/// "13.0.2" from cublasLtGetVersion()'s number.
std::string cublasLtVersionString(size_t version);

}  // namespace fpsattn
