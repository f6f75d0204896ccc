// Params and launcher of norms/rms_norm_rope.cu (native op rmsNormRope: binding native/src/ops/rms_norm_rope.cpp, TS op
// packages/kernels src/ops/rms-norm-rope.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// Input dtypes of x; they cross the JS boundary as the string of the same index.
enum class RmsNormInput : int32_t { BF16 = 0, F32 = 1 };
inline constexpr const char* kRmsNormInputNames[] = {"bf16", "f32"};

/// Wan's q/k RMSNorm over the FULL dim (all heads), then optionally its 3D RoPE per head, rounded once to BF16:
///   inv = float32(1 / sqrt(sum(x[r]^2) / dim + eps));  y = (x * inv) * weight
///   rope (cos, sin given): token = r % tokens; for head h, pair j < headDim / 2, e = h headDim + 2j:
///     (a, b) = (y[e], y[e + 1]) -> (a cos[token, j] - b sin[token, j], a sin[token, j] + b cos[token, j])
///     (interleaved adjacent pairs, as Wan's rope_apply and packages/wan src/model/rope.ts)
///   out = BF16(result), round to nearest even
/// Each product, sum and difference is one float32 operation rounded on its own (no FMA), in that order.
struct RmsNormRopeParams {
  // --- tensors
  const void* x;        // bf16 or f32 [rows, dim]
  const float* weight;  // f32 [dim]
  const float* cos;     // f32 [tokens, headDim / 2], or nullptr (no rope; then sin is nullptr too)
  const float* sin;     // f32 [tokens, headDim / 2]
  void* out;            // bf16 [rows, dim]
  // --- sizes
  int64_t rows;         // at most 2^31 - 1; a multiple of tokens with rope
  int64_t dim;          // 1 .. kNormMaxDim; a multiple of headDim with rope
  int64_t headDim;      // even, with rope; 0 without
  int64_t tokens;       // rows of cos/sin, with rope; 0 without
  RmsNormInput input;
  double eps;
};

void launchRmsNormRope(const RmsNormRopeParams& p, cudaStream_t stream);

}  // namespace fpsattn
