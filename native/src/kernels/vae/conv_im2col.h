// Params and launcher of conv_im2col.cu (native op convIm2col: binding native/src/ops/conv_im2col.cpp, TS op
// packages/kernels src/ops/conv-im2col.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// Dtypes of the input frames; they cross the JS boundary as the string of the same index.
enum class Im2colInput : int32_t { BF16 = 0, F32 = 1 };
inline constexpr const char* kIm2colInputNames[] = {"bf16", "f32"};

/// At most this many input frames (the time taps of a causal conv3d with kernel depth 3).
constexpr int kIm2colMaxTaps = 3;

/// The column matrix of a stride-1 convolution over channels-last frames, for one output frame and a run of its
/// pixels, so that the convolution is one GEMM: out = cols . W^T, W [cout, kt kh kw C] (PyTorch's [cout, C, kt, kh,
/// kw] permuted to tap-major, channel-minor).
///   row r (pixel p = rowStart + r, y = p / width, x = p % width), column k = ((dt kh + dy) kw + dx) C + c:
///   cols[r, k] = BF16(frames[dt][sy, sx, c]),  sy = y + dy - (kh - 1) / 2,  sx = x + dx - (kw - 1) / 2
///   0 when (sy, sx) is outside [0, height) x [0, width) (symmetric zero padding) or frames[dt] is null (a zero
///   frame: the causal time padding). With `upsample` the frames are [height / 2, width / 2, C] and are read as their
///   nearest-neighbour 2x upsampling: frames[dt][sy >> 1, sx >> 1, c] (Resample's nearest-exact x2, fused).
/// F32 frames are rounded to BF16 (nearest even, NaN to 0x7fff: common/bf16_round.cuh); BF16 frames are copied.
/// Bit-identical to convIm2colCpu.
struct ConvIm2colParams {
  // --- tensors
  const void* frames[kIm2colMaxTaps];  // [srcH, srcW, C] of `input`, tap dt = index; nullptr: a zero frame
  uint16_t* out;                        // bf16 [rows, kt kh kw C]
  // --- geometry
  int64_t height;    // of the output frame (= the upsampled input with `upsample`)
  int64_t width;
  int64_t channels;  // C
  int32_t kt;        // 1..3 time taps
  int32_t kh;        // 1 or 3
  int32_t kw;        // 1 or 3
  bool upsample;     // the frames are [height / 2, width / 2, C] (height, width even)
  int64_t rowStart;  // first output pixel
  int64_t rows;      // pixels in this call; rows * kt kh kw C < 2^31 (32-bit indices)
  Im2colInput input;
};

void launchConvIm2col(const ConvIm2colParams& p, cudaStream_t stream);

}  // namespace fpsattn
