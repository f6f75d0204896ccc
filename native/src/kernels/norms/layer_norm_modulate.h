// Params and launcher of norms/layer_norm_modulate.cu (native op layerNormModulate: binding
// native/src/ops/layer_norm_modulate.cpp, TS op packages/kernels src/ops/layer-norm-modulate.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// The Wan DiT's LayerNorm with its optional affine and modulation, rounded once to BF16 (wan21-architecture.md 1.4),
/// optionally preceded by the previous part's gated residual update (fused: the stream is read once for both):
///   x[r] = x[r] + y[r] * gate[item] (or x[r] + y[r]; __fmul_rn then __fadd_rn, as gated_residual.cu), written back
///   mean = sum(x[r]) / dim, var = sum((x[r] - mean)^2) / dim (biased), inv = float32(1 / sqrt(var + eps))
///   n = (x - mean) * inv;  n = n * weight (if weight);  n = n + bias (if bias)
///   n = n * (1 + scale[item]) + shift[item] (if shift and scale), item = r / rowsPerItem
///   out = BF16(n), round to nearest even
/// Every elementwise step is one float32 operation rounded on its own (__fsub_rn, __fmul_rn, __fadd_rn: never an FMA),
/// in that order; the CPU twin replays them from float64 statistics.
struct LayerNormModulateParams {
  // --- tensors
  float* x;             // f32 [rows, dim]; written only with residualY
  const void* residualY;       // bf16 or f32 [rows, dim] (residualF32), or nullptr: no residual update
  const float* residualGate;   // f32 [rows / rowsPerItem, dim] or nullptr (x += y)
  int32_t residualF32;         // 1: residualY is f32, 0: bf16
  const float* weight;  // f32 [dim] or nullptr
  const float* bias;    // f32 [dim] or nullptr
  const float* shift;   // f32 [rows / rowsPerItem, dim] or nullptr (with scale)
  const float* scale;   // f32 [rows / rowsPerItem, dim] or nullptr (with shift)
  void* out;            // bf16 [rows, dim]
  // --- sizes
  int64_t rows;         // at most 2^31 - 1 (one block per row along the grid's x)
  int64_t dim;          // 1 .. kNormMaxDim (norms/row_layout.cuh); multiple of 8 for the vector path
  int64_t rowsPerItem;  // divides rows
  double eps;
};

void launchLayerNormModulate(const LayerNormModulateParams& p, cudaStream_t stream);

}  // namespace fpsattn
