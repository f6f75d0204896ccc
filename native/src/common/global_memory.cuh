// Global-memory access helpers shared by the memory-bound kernels.
#pragma once

#include <cstdint>

namespace fpsattn {

/// A 16-byte read-only load for data read once (the column reductions): no L1 allocation, and a hint that the L2
/// should fetch the surrounding 256-byte block from DRAM, which suits warps that read 512-byte row runs.
__device__ __forceinline__ uint4 loadOnce256(const uint4* p) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.L2::256B.v4.u32 {%0, %1, %2, %3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(p));
  return v;
}

}  // namespace fpsattn
