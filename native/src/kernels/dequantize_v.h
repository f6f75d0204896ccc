// Params and launcher of dequantize_v.cu (native op dequantizeV: binding native/src/ops/dequantize_v.cpp, TS op
// packages/kernels src/ops/dequantize-v.ts). Tests and debugging.
#pragma once

#include <cstdint>

#include "common/dtype_traits.h"
#include "common/stream_type.h"

namespace fpsattn {

/// out[t][c] = float32(decode(codesT[c][t]) * scales[c]) for t < rows (un-transposes).
struct DequantizeVParams {
  const uint8_t* codesT;  // [cols, tokenStride]
  const float* scales;    // [cols]
  float* out;             // [rows, cols]
  int64_t rows;
  int64_t cols;
  int64_t tokenStride;
  Fp8Format format;
};

void launchDequantizeV(const DequantizeVParams& p, cudaStream_t stream);

}  // namespace fpsattn
