// Params and launcher of gated_residual.cu (native op gatedResidual: binding native/src/ops/gated_residual.cpp, TS op
// packages/kernels src/ops/gated-residual.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// Dtypes of the update y; they cross the JS boundary as the string of the same index.
enum class GatedResidualInput : int32_t { BF16 = 0, F32 = 1 };
inline constexpr const char* kGatedResidualInputNames[] = {"bf16", "f32"};

/// The DiT's residual update, in place on the float32 stream (wan21-architecture.md 1.4):
///   x[r, c] = x[r, c] + y[r, c] * gate[r / rowsPerItem, c]    (__fmul_rn then __fadd_rn: no FMA)
///   x[r, c] = x[r, c] + y[r, c]                               without gate (the cross-attention's residual)
/// Bit-identical to the CPU twin (gatedResidualCpu), which rounds the product and the sum to float32 the same way.
struct GatedResidualParams {
  // --- tensors
  float* x;             // f32 [rows, dim], read and written
  const void* y;        // bf16 or f32 [rows, dim]
  const float* gate;    // f32 [rows / rowsPerItem, dim] or nullptr
  // --- sizes
  int64_t rows;         // at most 2^31 - 1
  int64_t dim;          // at least 1; a multiple of 8 takes the vector path
  int64_t rowsPerItem;  // divides rows
  GatedResidualInput input;
};

void launchGatedResidual(const GatedResidualParams& p, cudaStream_t stream);

}  // namespace fpsattn
