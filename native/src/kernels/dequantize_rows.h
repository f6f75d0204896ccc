// Params and launcher of dequantize_rows.cu (native op dequantizeRows: binding native/src/ops/dequantize_rows.cpp,
// TS op packages/kernels src/ops/dequantize-rows.ts). Tests and debugging.
#pragma once

#include <cstdint>

#include "common/dtype_traits.h"
#include "common/stream_type.h"

namespace fpsattn {

/// out[r][c] = float32(decode(codes[r][c]) * scales[groupOfRow[r]][c / headDim]).
struct DequantizeRowsParams {
  const uint8_t* codes;       // [rows, cols]
  const float* scales;        // [groupCount, heads]
  const int32_t* groupOfRow;  // [rows]
  float* out;                 // [rows, cols]
  int64_t rows;
  int64_t cols;
  int32_t headDim;
  int32_t heads;
  int64_t groupCount;
  Fp8Format format;
};

void launchDequantizeRows(const DequantizeRowsParams& p, cudaStream_t stream);

}  // namespace fpsattn
