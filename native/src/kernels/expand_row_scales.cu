// expand_row_scales.cu: per-(group, head) scales to per-(batch, head, row) scales for the attention kernel.
//
// Computes out[(b * heads + h) * rows + r] = scales[(b * groupCount + groupOfRow[r]) * heads + h], a pure copy
// (bit-exact with expandRowScalesCpu in packages/kernels src/ops/attention/expand-row-scales.ts).
// Grid/block: a flat grid-stride loop over the outputs, 256 threads, one output per thread per iteration: writes are
// coalesced along r, reads of groupOfRow coalesced, reads of the small scale table gathered (it stays in L1/L2).
// No shared memory. Check: the GPU suite against the CPU twin, bit for bit.
#include <cstdint>

#include "common/cuda_check.h"
#include "common/launch_config.h"
#include "kernels/expand_row_scales.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;

__global__ void __launch_bounds__(kThreads) expandRowScalesKernel(const float* __restrict__ scales,
                                                                  const int32_t* __restrict__ groupOfRow,
                                                                  float* __restrict__ out, int64_t batch, int64_t heads,
                                                                  int64_t rows, int64_t groupCount) {
  const int64_t total = batch * heads * rows;
  for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < total; i += int64_t(gridDim.x) * kThreads) {
    const int64_t r = i % rows;
    const int64_t bh = i / rows;  // b * heads + h
    const int64_t h = bh % heads;
    const int64_t b = bh / heads;
    out[i] = scales[(b * groupCount + groupOfRow[r]) * heads + h];
  }
}

}  // namespace

void launchExpandRowScales(const ExpandRowScalesParams& p, cudaStream_t stream) {
  const int64_t total = p.batch * p.heads * p.rows;
  if (total == 0) return;
  expandRowScalesKernel<<<flatGrid(total, kThreads, 4), kThreads, 0, stream>>>(p.scales, p.groupOfRow, p.out, p.batch,
                                                                                p.heads, p.rows, p.groupCount);
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace fpsattn
