// Params and launcher of clamp_to_planar.cu (native op clampToPlanar: binding native/src/ops/clamp_to_planar.cpp, TS
// op packages/kernels src/ops/clamp-to-planar.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// Output dtypes; they cross the JS boundary as the string of the same index.
enum class PlanarOutput : int32_t { F32 = 0, BF16 = 1 };
inline constexpr const char* kPlanarOutputNames[] = {"f32", "bf16"};

/// The first `channels` columns of channels-last pixels, clamped and transposed to planar (the Wan-VAE's output:
/// its head convolution's RGB, padded to 8 channels for cuBLASLt, clamped to [-1, 1]):
///   v = x[r, c] for r < rows, c < channels
///   v = lo if v < lo, hi if v > hi, else v            (NaN passes through, as torch.clamp)
///   out[c, r] = v (f32, bit for bit) or BF16(v) (nearest even, NaN to 0x7fff)
/// Bit-identical to clampToPlanarCpu.
struct ClampToPlanarParams {
  // --- tensors
  const float* x;   // f32 [rows, cols]
  void* out;        // [channels, rows] of `output`
  // --- sizes
  int64_t rows;     // rows x channels below 2^31
  int64_t cols;
  int64_t channels; // 1..cols
  float lo;         // lo <= hi
  float hi;
  PlanarOutput output;
};

void launchClampToPlanar(const ClampToPlanarParams& p, cudaStream_t stream);

}  // namespace fpsattn
