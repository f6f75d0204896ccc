// Params and launcher of cast_to_bf16.cu (native op castToBf16: binding native/src/ops/cast_to_bf16.cpp, TS op
// packages/kernels src/ops/cast-to-bf16.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// Source dtypes; they cross the JS boundary as the string of the same index.
enum class CastSource : int32_t { F32 = 0, F16 = 1, BF16 = 2, E4M3 = 3, E5M2 = 4 };
inline constexpr const char* kCastSourceNames[] = {"f32", "f16", "bf16", "e4m3", "e5m2"};

/// Elementwise conversion of a checkpoint tensor to BF16 on the device:
///   v = value of src[i] (exact in float32 for every source dtype; FP8 NaN codes are NaN, E5M2 infinities infinite)
///   v = v * scale (float32, __fmul_rn), only with hasScale (FP8 checkpoints that store a scale)
///   out[i] = BF16(v): round to nearest even, overflow to infinity, every NaN to 0x7fff (common/bf16_round.cuh)
/// Bit-identical to castToBf16Cpu (which uses @fpsattn/fp8's decoders and float32ToBf16Bits).
struct CastToBf16Params {
  const void* src;  // [count] of `source`
  void* out;        // bf16 [count]
  int64_t count;
  CastSource source;
  bool hasScale;
  float scale;      // float32 of the JS number (rounded by the binding), used with hasScale
};

void launchCastToBf16(const CastToBf16Params& p, cudaStream_t stream);

}  // namespace fpsattn
