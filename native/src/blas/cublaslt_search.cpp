// The places cuBLASLt is looked for (see cublaslt_loader.h for the order and the reasons).
#include "blas/cublaslt_search.h"

#include <glob.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <sstream>

namespace fpsattn {
namespace {

bool isDir(const std::string& p) {
  struct stat st{};
  return !p.empty() && stat(p.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, sep))
    if (!item.empty()) out.push_back(item);
  return out;
}

void pushUnique(std::vector<std::string>& v, const std::string& s) {
  if (std::find(v.begin(), v.end(), s) == v.end()) v.push_back(s);
}

std::string parentOf(const std::string& p) {
  const auto slash = p.find_last_of('/');
  return slash == std::string::npos || slash == 0 ? std::string("/") : p.substr(0, slash);
}

/// Python installation prefixes: virtual environments and conda first (they shadow the system Python), then the
/// prefix of every python3 on PATH (a venv's bin/python3 is a link, so its folder, not its target, names the venv),
/// then the user and system prefixes pip installs into.
std::vector<std::string> pythonPrefixes() {
  std::vector<std::string> prefixes;
  for (const char* var : {"VIRTUAL_ENV", "CONDA_PREFIX"})
    if (!env(var).empty()) pushUnique(prefixes, env(var));
  for (const std::string& dir : split(env("PATH"), ':'))
    if (access((dir + "/python3").c_str(), X_OK) == 0) pushUnique(prefixes, parentOf(dir));
  if (!env("HOME").empty()) pushUnique(prefixes, env("HOME") + "/.local");
  for (const char* p : {"/usr/local", "/usr", "/opt/conda"}) pushUnique(prefixes, p);
  return prefixes;
}

}  // namespace

std::vector<std::string> pythonSitePackages() {
  std::vector<std::string> out;
  for (const std::string& dir : split(env("PYTHONPATH"), ':'))
    if (isDir(dir)) pushUnique(out, dir);
  for (const std::string& prefix : pythonPrefixes()) {
    // python3* covers lib/python3.12/{site,dist}-packages and Debian's lib/python3/dist-packages.
    for (const char* kind : {"site-packages", "dist-packages"}) {
      const std::string pattern = prefix + "/lib/python3*/" + kind;
      glob_t g{};
      if (glob(pattern.c_str(), GLOB_ONLYDIR, nullptr, &g) == 0)
        for (size_t i = 0; i < g.gl_pathc; ++i) pushUnique(out, g.gl_pathv[i]);
      globfree(&g);
    }
  }
  return out;
}

std::vector<SearchPlace> cublasLtSearchPlaces(const std::string& explicitPath, const std::string& explicitSource) {
  std::vector<SearchPlace> places;
  if (!explicitPath.empty()) {
    if (isDir(explicitPath)) places.push_back({explicitSource, explicitPath, ""});
    else places.push_back({explicitSource, "", explicitPath});
  }
  if (!env("CUDA_HOME").empty()) places.push_back({"CUDA_HOME", env("CUDA_HOME") + "/lib64", ""});
  places.push_back({"/usr/local/cuda", "/usr/local/cuda/lib64", ""});
  places.push_back({"dynamic loader (LD_LIBRARY_PATH, RUNPATH, ldconfig)", "", ""});
  // CUDA 13 wheels put every library in nvidia/cu13/lib; nvidia-cublas-cu12 uses nvidia/cublas/lib.
  for (const std::string& sp : pythonSitePackages())
    for (const char* sub : {"/nvidia/cu13/lib", "/nvidia/cublas/lib"})
      if (isDir(sp + sub)) places.push_back({"pip wheel", sp + sub, ""});
  return places;
}

}  // namespace fpsattn
