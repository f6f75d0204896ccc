// The scale of each amax, shared by the Q/K two-pass path (quantize_rows.cu) and the V path (quantize_v.cu):
// scales[i] = scaleFromAmax(amax[i]) (common/fp8_math.cuh), the amax read as the bits of a non-negative float.
#pragma once

#include <cstdint>

#include "common/fp8_math.cuh"

namespace fpsattn {
namespace {

template <Fp8Format F>
__global__ void finalizeScalesKernel(const uint32_t* __restrict__ amax, float* __restrict__ scales, int64_t n) {
  const int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < n) scales[i] = scaleFromAmax<F>(__uint_as_float(amax[i]));
}

}  // namespace
}  // namespace fpsattn
