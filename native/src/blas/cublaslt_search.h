// Where cuBLASLt may be, in the loader's order (cublaslt_loader.h has the full list and why). No file is opened here:
// this only names the places; the loader tries them.
#pragma once

#include <string>
#include <vector>

namespace fpsattn {

/// The file names tried in each folder, newest first (CUDA 13, then 12, then the unversioned development link).
inline constexpr const char* kCublasLtNames[] = {"libcublasLt.so.13", "libcublasLt.so.12", "libcublasLt.so"};

struct SearchPlace {
  std::string source;  // what led here: "setCublasLtPath", "FPSATTN_CUBLASLT", "CUDA_HOME", "pip wheel", ...
  std::string dir;     // a folder to try every name in; empty for `file` or for the dynamic loader's own search
  std::string file;    // one explicit file
};

/// Every place, in order. `explicitPath` (a file or a folder; empty for none) comes first, under `explicitSource`.
std::vector<SearchPlace> cublasLtSearchPlaces(const std::string& explicitPath, const std::string& explicitSource);

/// Python site-packages folders that exist, found from the environment and common prefixes (Python is not run).
std::vector<std::string> pythonSitePackages();

}  // namespace fpsattn
