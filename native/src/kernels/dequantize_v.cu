// dequantize_v.cu: transposed FP8 codes of quantize_v.cu back to float32 [rows, cols], for tests and debugging.
//
// Computes out[t][c] = float32(decode(codesT[c][t]) * scales[c]), decode exact (FP8 -> half -> float via cuda_fp8.h).
// Grid/block: a flat grid-stride loop, 256 threads, one output element per thread per iteration; codes are read with
// a stride (uncoalesced), acceptable for a debugging kernel. No shared memory.
// Check: gpu-test compares against the CPU twin (which matches @fpsattn/fp8 dequantize) bit for bit.
#include <cstdint>

#include "common/cuda_check.h"
#include "common/fp8_math.cuh"
#include "common/launch_config.h"
#include "kernels/dequantize_v.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;

template <Fp8Format F>
__global__ void __launch_bounds__(kThreads) dequantizeVKernel(const uint8_t* __restrict__ codesT,
                                                              const float* __restrict__ scales,
                                                              float* __restrict__ out, int64_t rows, int64_t cols,
                                                              int64_t tokenStride) {
  const int64_t total = rows * cols;
  for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < total; i += int64_t(gridDim.x) * kThreads) {
    const int64_t t = i / cols;
    const int64_t c = i - t * cols;
    out[i] = __fmul_rn(decodeFp8<F>(codesT[c * tokenStride + t]), scales[c]);
  }
}

}  // namespace

void launchDequantizeV(const DequantizeVParams& p, cudaStream_t stream) {
  const int64_t total = p.rows * p.cols;
  if (total == 0) return;
  FPSATTN_FP8_SWITCH(p.format, F, [&] {
    dequantizeVKernel<F><<<flatGrid(total, kThreads, 4), kThreads, 0, stream>>>(p.codesT, p.scales, p.out, p.rows,
                                                                                p.cols, p.tokenStride);
    FPSATTN_CHECK_LAUNCH();
  });
}

}  // namespace fpsattn
