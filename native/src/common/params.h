// Flat parameter structs: the only thing that crosses from the N-API binding to the kernel launchers.
// The binding validates every field (sizes, alignment, bounds against allocation sizes) and fills these; the
// launchers assume validated input and never see JS. Layouts are row-major; "cols" = heads * headDim channels.
#pragma once

#include <cstdint>

#include "common/dtype_traits.h"

#if FPSATTN_WITH_CUDA
#include <cuda_runtime.h>
#else
typedef struct CUstream_st* cudaStream_t;
#endif

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

/// Deterministic per-channel mean over rows (K smoothing), computed in a fixed order:
///   chunk[b][c] = float32 sum of x[r][c] over the kMeanRowsPerChunk rows of chunk b, ascending, from 0.0f;
///   group[g][c] = float64 sum of chunk[b][c] over the kMeanChunksPerGroup chunks of group g, ascending, from 0.0;
///   lane[i][c] = float64 sum of group[g][c] over g = i, i+32, i+64, ... ascending, from 0.0 (i = 0..31);
///   mean[c] = float32(butterfly(lane[.][c]) / rows), butterfly: for d = 16, 8, 4, 2, 1: lane[i] += lane[i + d], i < d.
/// The CPU twin (packages/kernels src/cpu/twins.ts) uses the same two constants.
constexpr int kMeanRowsPerChunk = 64;
constexpr int kMeanChunksPerGroup = 8;
struct ChannelMeanParams {
  const void* x;      // bf16 [rows, cols]
  double* partials;   // workspace [ceil(rows / (kMeanRowsPerChunk * kMeanChunksPerGroup)), cols]: group sums
  float* mean;        // [cols]
  int64_t rows;
  int64_t cols;       // multiple of 8
};

/// Q/K quantization: one scale per (group of rows, head).
///   xs = mean ? float32(x - mean[c]) : x      (x = bf16 widened to f32)
///   amax[g][h] = max |xs| over finite xs of rows with groupOfRow[r] = g, channels of head h
///   scale = amax > 0 ? max(float32(amax / maxFinite), 2^-126) : 1
///   inv = float32(1 / scale)                               (__frcp_rn, finite since scale >= 2^-126)
///   codes[r][c] = fp8_satfinite_rne(float32(xs * inv[g][h]))
struct QuantizeRowsParams {
  // --- tensors
  const void* x;               // bf16 [rows, cols]
  const int32_t* groupOfRow;   // [rows], values in [0, groupCount)
  const int32_t* groupStart;   // optional [groupCount + 1]: groups are the contiguous runs [start[g], start[g+1])
  const float* mean;           // optional [cols]: K smoothing
  uint8_t* codes;              // [rows, cols]
  float* scales;               // [groupCount, heads]
  uint32_t* amaxWork;          // workspace [groupCount * heads] (two-pass path)
  // --- sizes
  int64_t rows;
  int64_t cols;
  int32_t headDim;             // power of two in [16, 256]
  int32_t heads;
  int64_t groupCount;
  int64_t maxGroupRows;        // with groupStart: the longest run
  Fp8Format format;
  int32_t path;                // 0 = auto, 1 = two-pass, 2 = fused (requires groupStart)
};

/// V quantization: one scale per channel over all rows, codes written transposed (K-major for FP8 wgmma):
///   codesT[c][t] = fp8(float32(v[t][c] * inv[c])), inv = float32(1 / scale[c]), for t < rows; 0 for rows <= t < tokenStride
struct QuantizeVParams {
  const void* v;        // bf16 [rows, cols]
  uint8_t* codesT;      // [cols, tokenStride]
  float* scales;        // [cols]
  uint32_t* amaxWork;   // workspace [cols] (unused when amaxIn is given)
  const float* amaxIn;  // optional [cols]: per-channel amax from the gather (PermuteRowsParams::amax); skips pass 1
  int64_t rows;
  int64_t cols;         // multiple of 64
  int64_t tokenStride;  // >= rows, multiple of 16
  Fp8Format format;
};

/// Dequantization (tests, debugging): out = float32(decode(code) * scale).
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

struct DequantizeVParams {
  const uint8_t* codesT;  // [cols, tokenStride]
  const float* scales;    // [cols]
  float* out;             // [rows, cols]
  int64_t rows;
  int64_t cols;
  int64_t tokenStride;
  Fp8Format format;
};

// Launchers (src/kernels/*.cu). They enqueue on `stream`, check every launch, and throw fpsattn::CudaError.
void launchPermuteRows(const PermuteRowsParams& p, cudaStream_t stream);
void launchChannelMean(const ChannelMeanParams& p, cudaStream_t stream);
int64_t channelMeanWorkspaceBytes(int64_t rows, int64_t cols);
void launchQuantizeRows(const QuantizeRowsParams& p, cudaStream_t stream);
bool quantizeRowsUsesFusedPath(const QuantizeRowsParams& p);
/// The longest group (in rows) the fused path takes at this head dimension (its shared-memory staging limit).
int64_t quantizeRowsFusedMaxGroupRows(int32_t headDim);
void launchQuantizeV(const QuantizeVParams& p, cudaStream_t stream);
void launchDequantizeRows(const DequantizeRowsParams& p, cudaStream_t stream);
void launchDequantizeV(const DequantizeVParams& p, cudaStream_t stream);

}  // namespace fpsattn
