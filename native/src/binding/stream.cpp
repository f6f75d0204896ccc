// The addon's CUDA stream and the sync check (see stream.h).
#include "binding/stream.h"

#if FPSATTN_WITH_CUDA
#include <cstdlib>

#include "common/cuda_check.h"

namespace fpsattn {

namespace {
bool gSyncCheck = [] {
  const char* v = std::getenv("FPSATTN_SYNC_CHECK");
  return v != nullptr && v[0] == '1';
}();
}  // namespace

cudaStream_t stream() {
  static cudaStream_t s = [] {
    cudaStream_t created = nullptr;
    FPSATTN_CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
    return created;
  }();
  return s;
}

bool syncCheck() { return gSyncCheck; }
void setSyncCheck(bool on) { gSyncCheck = on; }
void afterOp() {
  if (gSyncCheck) FPSATTN_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

}  // namespace fpsattn
#endif
