// Launch-configuration helpers and the one place where run-time choices become template parameters.
#pragma once

#include <cstdint>

#include "common/dtype_traits.h"

namespace fpsattn {

constexpr int kVecBytes = 16;  // every kernel moves 16-byte vectors (uint4)

inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }
inline int64_t roundUp(int64_t a, int64_t b) { return ceilDiv(a, b) * b; }

/// Grid size for a flat loop of `items` work items, `perThread` items per thread: capped so that the grid stays
/// within the 2^31-1 limit of gridDim.x; kernels use grid-stride loops so any cap is correct.
inline unsigned flatGrid(int64_t items, int threads, int perThread) {
  int64_t blocks = ceilDiv(items, int64_t(threads) * perThread);
  if (blocks < 1) blocks = 1;
  if (blocks > 2147483647LL) blocks = 2147483647LL;
  return unsigned(blocks);
}

/// FPSATTN_FP8_SWITCH(format, F, ...) instantiates the body with `constexpr Fp8Format F` set to the run-time format.
#define FPSATTN_FP8_SWITCH(format, F, ...)                         \
  [&] {                                                            \
    if ((format) == ::fpsattn::Fp8Format::E4M3) {                  \
      constexpr ::fpsattn::Fp8Format F = ::fpsattn::Fp8Format::E4M3; \
      return __VA_ARGS__();                                        \
    } else {                                                       \
      constexpr ::fpsattn::Fp8Format F = ::fpsattn::Fp8Format::E5M2; \
      return __VA_ARGS__();                                        \
    }                                                              \
  }()

}  // namespace fpsattn
