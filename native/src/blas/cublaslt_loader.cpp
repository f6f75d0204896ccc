// dlopen of cuBLASLt and resolution of the entry points the addon calls (order and reasons: cublaslt_loader.h).
// Called on the JS thread only (ops and the status/setter exports), so the process-wide state needs no lock.
#include "blas/cublaslt_loader.h"

#include <dlfcn.h>
#include <unistd.h>

#include <cstdlib>

#include "blas/blas_error.h"
#include "blas/cublaslt_search.h"

namespace fpsattn {
namespace {

struct LoaderState {
  bool searched = false;
  std::string setPath;  // from setCublasLtPath ("" if never set)
  void* handle = nullptr;
  lt::Api api;
  CublasLtStatus status;
};

LoaderState& state() {
  static LoaderState s;
  return s;
}

template <typename F>
bool resolve(void* handle, const char* name, F& fn) {
  fn = reinterpret_cast<F>(dlsym(handle, name));
  return fn != nullptr;
}

/// Resolves every entry point; returns the first required symbol missing ("" when all resolved).
std::string resolveAll(void* h, lt::Api& api) {
  struct Required {
    const char* name;
    bool ok;
  };
  const Required required[] = {
      {"cublasLtCreate", resolve(h, "cublasLtCreate", api.create)},
      {"cublasLtGetVersion", resolve(h, "cublasLtGetVersion", api.getVersion)},
      {"cublasLtGetCudartVersion", resolve(h, "cublasLtGetCudartVersion", api.getCudartVersion)},
      {"cublasLtMatmulDescCreate", resolve(h, "cublasLtMatmulDescCreate", api.matmulDescCreate)},
      {"cublasLtMatmulDescDestroy", resolve(h, "cublasLtMatmulDescDestroy", api.matmulDescDestroy)},
      {"cublasLtMatmulDescSetAttribute", resolve(h, "cublasLtMatmulDescSetAttribute", api.matmulDescSetAttribute)},
      {"cublasLtMatrixLayoutCreate", resolve(h, "cublasLtMatrixLayoutCreate", api.matrixLayoutCreate)},
      {"cublasLtMatrixLayoutDestroy", resolve(h, "cublasLtMatrixLayoutDestroy", api.matrixLayoutDestroy)},
      {"cublasLtMatrixLayoutSetAttribute", resolve(h, "cublasLtMatrixLayoutSetAttribute", api.matrixLayoutSetAttribute)},
      {"cublasLtMatmulPreferenceCreate", resolve(h, "cublasLtMatmulPreferenceCreate", api.matmulPreferenceCreate)},
      {"cublasLtMatmulPreferenceDestroy", resolve(h, "cublasLtMatmulPreferenceDestroy", api.matmulPreferenceDestroy)},
      {"cublasLtMatmulPreferenceSetAttribute",
       resolve(h, "cublasLtMatmulPreferenceSetAttribute", api.matmulPreferenceSetAttribute)},
      {"cublasLtMatmulAlgoGetHeuristic", resolve(h, "cublasLtMatmulAlgoGetHeuristic", api.matmulAlgoGetHeuristic)},
      {"cublasLtMatmul", resolve(h, "cublasLtMatmul", api.matmul)},
  };
  for (const Required& r : required)
    if (!r.ok) return r.name;
  // Optional (status names in messages; a built-in table stands in when absent).
  resolve(h, "cublasLtGetStatusName", api.getStatusName);
  resolve(h, "cublasLtGetStatusString", api.getStatusString);
  return "";
}

/// The file a handle was loaded from (a bare name resolved by the dynamic loader becomes its real path).
std::string loadedFile(const lt::Api& api, const std::string& fallback) {
  Dl_info info{};
  if (dladdr(reinterpret_cast<void*>(api.create), &info) != 0 && info.dli_fname != nullptr) return info.dli_fname;
  return fallback;
}

bool exists(const std::string& p) { return access(p.c_str(), F_OK) == 0; }

/// Checks the symbols of an opened library; on success keeps it (state filled, true), else closes it and says why.
bool adopt(void* h, const std::string& target, const std::string& source, LoaderState& s) {
  lt::Api api;
  const std::string missing = resolveAll(h, api);
  if (!missing.empty()) {
    dlclose(h);
    s.status.tried.push_back(source + " " + target + ": loaded but has no " + missing + " (not a cuBLASLt library?)");
    return false;
  }
  s.handle = h;
  s.api = api;
  s.status.loaded = true;
  s.status.path = loadedFile(api, target);
  s.status.source = source;
  s.status.version = api.getVersion();
  s.status.cudartVersion = api.getCudartVersion();
  s.status.tried.push_back(source + " " + s.status.path + ": loaded (cuBLASLt " +
                           cublasLtVersionString(s.status.version) + ")");
  return true;
}

/// dlopen of an existing file, then adopt; a load failure (wrong architecture, missing dependency) is recorded.
bool tryLoad(const std::string& file, const std::string& source, LoaderState& s) {
  dlerror();
  void* h = dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr) {
    const char* err = dlerror();
    s.status.tried.push_back(source + " " + file + ": failed to load: " + (err ? err : "unknown dlopen error"));
    return false;
  }
  return adopt(h, file, source, s);
}

bool tryPlace(const SearchPlace& place, LoaderState& s) {
  if (!place.file.empty()) {
    if (!exists(place.file)) {
      s.status.tried.push_back(place.source + " " + place.file + ": not found");
      return false;
    }
    return tryLoad(place.file, place.source, s);
  }
  if (place.dir.empty()) {
    // The dynamic loader's own search: a bare name. "Not found" is the expected failure; say so in one line.
    std::string notFound;
    for (const char* name : kCublasLtNames) {
      dlerror();
      void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (h == nullptr) {
        notFound += notFound.empty() ? name : std::string(", ") + name;
        continue;
      }
      if (adopt(h, name, place.source, s)) return true;
    }
    if (!notFound.empty()) s.status.tried.push_back(place.source + ": " + notFound + " not found");
    return false;
  }
  bool any = false;
  for (const char* name : kCublasLtNames) {
    const std::string file = place.dir + "/" + name;
    if (!exists(file)) continue;
    any = true;
    if (tryLoad(file, place.source, s)) return true;
  }
  if (!any) s.status.tried.push_back(place.source + " " + place.dir + ": no libcublasLt.so.13, .so.12 or .so");
  return false;
}

std::string notFoundMessage(const CublasLtStatus& st) {
  std::string m = "cuBLASLt (libcublasLt.so.13, .so.12 or .so) not found; tried:";
  for (const std::string& t : st.tried) m += "\n  - " + t;
  m +=
      "\nFix: install cuBLAS from the CUDA toolkit (its lib64 under $CUDA_HOME or /usr/local/cuda) or as a pip wheel "
      "(nvidia-cublas for CUDA 13, nvidia-cublas-cu12 for CUDA 12), or point FPSATTN_CUBLASLT (or setCublasLtPath() "
      "from JS) at libcublasLt.so.* or the folder that holds it.";
  return m;
}

void search(LoaderState& s) {
  s.searched = true;
  s.status = CublasLtStatus{};
  const char* envPath = std::getenv("FPSATTN_CUBLASLT");
  const bool fromSetter = !s.setPath.empty();
  s.status.explicitPath = fromSetter ? s.setPath : (envPath ? envPath : "");
  const std::vector<SearchPlace> places =
      cublasLtSearchPlaces(s.status.explicitPath, fromSetter ? "setCublasLtPath" : "FPSATTN_CUBLASLT");
  bool wheelPlace = false;
  for (const SearchPlace& p : places) {
    wheelPlace = wheelPlace || p.source == "pip wheel";
    if (tryPlace(p, s)) return;
  }
  if (!wheelPlace) {
    const size_t n = pythonSitePackages().size();
    s.status.tried.push_back("pip wheel: no nvidia/cu13/lib or nvidia/cublas/lib in " + std::to_string(n) +
                             " Python site-packages folder" + (n == 1 ? "" : "s"));
  }
  s.status.error = notFoundMessage(s.status);
}

}  // namespace

std::string cublasLtVersionString(size_t v) {
  if (v == 0) return "unknown";
  return std::to_string(v / 10000) + "." + std::to_string((v / 100) % 100) + "." + std::to_string(v % 100);
}

const CublasLtStatus& cublasLtStatus() {
  LoaderState& s = state();
  if (!s.searched) search(s);
  return s.status;
}

const lt::Api& cublasLtApi() {
  LoaderState& s = state();
  if (!s.searched) search(s);
  if (!s.status.loaded) throw BlasError(kCublasLtNotFound, s.status.error);
  return s.api;
}

const CublasLtStatus& setCublasLtPath(const std::string& path) {
  LoaderState& s = state();
  if (s.status.loaded) {
    // Same file (or its folder) again is fine; another one would need a second copy of the library in the process.
    const std::string& loaded = s.status.path;
    const bool same = path == loaded || (!path.empty() && loaded.rfind(path + "/", 0) == 0 &&
                                         loaded.find('/', path.size() + 1) == std::string::npos);
    if (same || path.empty()) return s.status;
    throw BlasError(kCublasLtError, "cuBLASLt is already loaded from " + loaded +
                                        " and a process keeps the first library it loads; call setCublasLtPath('" +
                                        path + "') before the first gemm or cublasLtStatus(), or set FPSATTN_CUBLASLT");
  }
  s.setPath = path;
  search(s);
  return s.status;
}

}  // namespace fpsattn
