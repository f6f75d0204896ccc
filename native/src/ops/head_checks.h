// The head-dimension check shared by the bindings of the Q/K ops (quantizeRows, dequantizeRows).
#pragma once

#include <cstdint>
#include <string>

#include "binding/napi_util.h"

namespace fpsattn {

inline void checkHeads(int64_t cols, int64_t headDim, int64_t heads) {
  const bool pow2 = headDim > 0 && (headDim & (headDim - 1)) == 0;
  if (!pow2 || headDim < 16 || headDim > 256)
    throw ArgumentError("params.headDim must be a power of two in [16, 256], got " + std::to_string(headDim));
  if (heads * headDim != cols)
    throw ArgumentError("params.cols (" + std::to_string(cols) + ") must equal heads * headDim (" +
                        std::to_string(heads) + " * " + std::to_string(headDim) + ")");
}

}  // namespace fpsattn
