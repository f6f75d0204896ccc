// Params and launcher of channel_rms_norm.cu (native op channelRmsNorm: binding native/src/ops/channel_rms_norm.cpp,
// TS op packages/kernels src/ops/channel-rms-norm.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// The Wan-VAE's RMS_norm over the channels of channels-last pixels (F.normalize(x, dim=channels) * sqrt(C) * gamma),
/// optionally followed by SiLU, written as BF16 for the convolution that follows:
///   n = max(sqrt(sum_c x[r, c]^2), 1e-12)            float32: lanes sum in order, then a butterfly over the warp
///   y = x[r, c] * f32(sqrt(C) / n) * gamma[c]          float32 (__fmul_rn), the row factor once per row
///   y = y / (1 + expf(-y))                             with silu (IEEE division, accurate expf)
///   out[r, c] = BF16(y)                                nearest even (common/bf16_round.cuh)
/// Declares a tolerance against channelRmsNormCpu (float64 throughout, one rounding).
struct ChannelRmsNormParams {
  // --- tensors
  const float* x;      // f32 [rows, channels]
  const float* gamma;  // f32 [channels]
  uint16_t* out;       // bf16 [rows, channels]
  // --- sizes
  int64_t rows;        // below 2^31
  int64_t channels;    // below 2^31; a multiple of 8 takes the vector path
  bool silu;
};

void launchChannelRmsNorm(const ChannelRmsNormParams& p, cudaStream_t stream);

}  // namespace fpsattn
