// Params and launcher of channel_mean.cu (native op channelMean: binding native/src/ops/channel_mean.cpp, TS op
// packages/kernels src/ops/channel-mean.ts, whose CPU twin uses the same two constants).
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// Deterministic per-channel mean over rows (K smoothing), computed in a fixed order:
///   chunk[b][c] = float32 sum of x[r][c] over the kMeanRowsPerChunk rows of chunk b, ascending, from 0.0f;
///   group[g][c] = float64 sum of chunk[b][c] over the kMeanChunksPerGroup chunks of group g, ascending, from 0.0;
///   lane[i][c] = float64 sum of group[g][c] over g = i, i+32, i+64, ... ascending, from 0.0 (i = 0..31);
///   mean[c] = float32(butterfly(lane[.][c]) / rows), butterfly: for d = 16, 8, 4, 2, 1: lane[i] += lane[i + d], i < d.
constexpr int kMeanRowsPerChunk = 64;
constexpr int kMeanChunksPerGroup = 8;
struct ChannelMeanParams {
  const void* x;      // bf16 [rows, cols]
  double* partials;   // workspace [ceil(rows / (kMeanRowsPerChunk * kMeanChunksPerGroup)), cols]: group sums
  float* mean;        // [cols]
  int64_t rows;
  int64_t cols;       // multiple of 8
};

void launchChannelMean(const ChannelMeanParams& p, cudaStream_t stream);
int64_t channelMeanWorkspaceBytes(int64_t rows, int64_t cols);

}  // namespace fpsattn
