// Params and launcher of permute_rows.cu (native op permuteRows: binding native/src/ops/permute_rows.cpp, TS op
// packages/kernels src/ops/permute-rows.ts). The binding validates every field; the launcher assumes valid input.
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// Tile-major gather/scatter of whole rows (dtype-agnostic: rows are moved as 16-byte vectors).
///   gather  (scatter=false): dst[i, :] = rowMap[i] in [0, srcRows) ? src[rowMap[i], :] : 0,   i < mapLen
///   scatter (scatter=true):  dst[rowMap[i], :] = src[i, :] for rowMap[i] in [0, dstRows),      i < mapLen
struct PermuteRowsParams {
  // --- tensors
  const void* src;
  void* dst;
  const int32_t* rowMap;  // [mapLen]
  // --- sizes
  int64_t srcRows;
  int64_t dstRows;
  int64_t mapLen;
  int64_t rowBytes;  // multiple of 16
  bool scatter;
  /// Optional (gather of BF16 rows only): also write amax[c] = max |dst[:, c]| over finite values (padding rows
  /// count as zeros), as float bits, so that V's per-channel scales need no second pass over V (QuantizeVParams).
  float* amax;       // [rowBytes / 2] or nullptr
};

void launchPermuteRows(const PermuteRowsParams& p, cudaStream_t stream);

}  // namespace fpsattn
