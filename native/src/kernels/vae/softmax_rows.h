// Params and launcher of softmax_rows.cu (native op softmaxRows: binding native/src/ops/softmax_rows.cpp, TS op
// packages/kernels src/ops/softmax-rows.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// The softmax of each row of attention scores, as BF16 probabilities for the P . V GEMM (the Wan-VAE's single-head
/// attention over the pixels of a frame, whose key count is padded to a multiple of 8 for cuBLASLt):
///   m = max_{j < validCols} x[r, j]
///   e_j = expf(f32(f32(x[r, j] - m) * scale))          j < validCols
///   s = sum_j e_j                                      float32: threads sum in order, then a tree over the block
///   out[r, j] = BF16(e_j * f32(1 / s)),  0 for j >= validCols (padded keys)
/// Declares a tolerance against softmaxRowsCpu (float64 throughout, one rounding).
struct SoftmaxRowsParams {
  // --- tensors
  const float* x;    // f32 [rows, cols]
  uint16_t* out;     // bf16 [rows, cols]
  // --- sizes
  int64_t rows;      // below 2^31
  int64_t cols;      // below 2^31
  int64_t validCols; // 1..cols
  float scale;       // > 0 (1 / sqrt(head dim))
};

void launchSoftmaxRows(const SoftmaxRowsParams& p, cudaStream_t stream);

}  // namespace fpsattn
