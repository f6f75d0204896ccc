// dequantize_rows.cu: FP8 codes of quantize_rows.cu back to float32, for tests and debugging (not on the attention path).
//
// Computes out = float32(decode(code) * scale), decode exact (FP8 -> half -> float via cuda_fp8.h):
//   codes [rows, cols], scale = scales[groupOfRow[r]][c / headDim]
// Grid/block: a flat grid-stride loop, 256 threads, one output element per thread per iteration. No shared memory.
// Check: gpu-test compares against the CPU twin (which matches @fpsattn/fp8 dequantize) bit for bit.
#include <cstdint>

#include "common/cuda_check.h"
#include "common/fp8_math.cuh"
#include "common/launch_config.h"
#include "kernels/dequantize_rows.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;

template <Fp8Format F>
__global__ void __launch_bounds__(kThreads) dequantizeRowsKernel(const uint8_t* __restrict__ codes,
                                                                 const float* __restrict__ scales,
                                                                 const int32_t* __restrict__ groupOfRow,
                                                                 float* __restrict__ out, int64_t rows, int64_t cols,
                                                                 int headDim, int heads, int64_t groupCount) {
  const int64_t total = rows * cols;
  for (int64_t i = int64_t(blockIdx.x) * kThreads + threadIdx.x; i < total; i += int64_t(gridDim.x) * kThreads) {
    const int64_t r = i / cols;
    const int64_t c = i - r * cols;
    const int32_t g = groupOfRow[r];
    const float scale =
        (g >= 0 && g < groupCount) ? scales[int64_t(g) * heads + c / headDim] : __int_as_float(0x7fffffff);
    out[i] = __fmul_rn(decodeFp8<F>(codes[i]), scale);
  }
}

}  // namespace

void launchDequantizeRows(const DequantizeRowsParams& p, cudaStream_t stream) {
  const int64_t total = p.rows * p.cols;
  if (total == 0) return;
  FPSATTN_FP8_SWITCH(p.format, F, [&] {
    dequantizeRowsKernel<F><<<flatGrid(total, kThreads, 4), kThreads, 0, stream>>>(
        p.codes, p.scales, p.groupOfRow, p.out, p.rows, p.cols, p.headDim, p.heads, p.groupCount);
    FPSATTN_CHECK_LAUNCH();
  });
}

}  // namespace fpsattn
