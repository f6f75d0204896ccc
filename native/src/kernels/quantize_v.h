// Params and launcher of quantize_v.cu (native op quantizeV: binding native/src/ops/quantize_v.cpp, TS op
// packages/kernels src/ops/quantize-v.ts).
#pragma once

#include <cstdint>

#include "common/dtype_traits.h"
#include "common/stream_type.h"

namespace fpsattn {

/// V quantization: one scale per channel over all rows, codes written transposed (K-major for FP8 wgmma):
///   codesT[c][t] = fp8(float32(v[t][c] * inv[c])), inv = float32(1 / scale[c]), for t < rows; 0 for rows <= t < tokenStride
struct QuantizeVParams {
  const void* v;        // bf16 [rows, cols]
  uint8_t* codesT;      // [cols, tokenStride]
  float* scales;        // [cols]
  uint32_t* amaxWork;   // workspace [cols] (unused when amaxIn is given)
  const float* amaxIn;  // optional [cols]: per-channel amax from the gather (PermuteRowsParams::amax); skips pass 1
  int64_t rows;
  int64_t cols;         // multiple of 64
  int64_t tokenStride;  // >= rows, multiple of 16
  Fp8Format format;
};

void launchQuantizeV(const QuantizeVParams& p, cudaStream_t stream);

}  // namespace fpsattn
