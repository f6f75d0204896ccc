// Params and launcher of quantize_rows.cu (native op quantizeRows: binding native/src/ops/quantize_rows.cpp, TS op
// packages/kernels src/ops/quantize-rows.ts).
#pragma once

#include <cstdint>

#include "common/dtype_traits.h"
#include "common/stream_type.h"

namespace fpsattn {

/// Which kernel quantizes; crosses the JS boundary as the string of the same index in kQuantizePathNames.
enum class QuantizePath : int32_t { Auto = 0, TwoPass = 1, Fused = 2 };
inline constexpr const char* kQuantizePathNames[] = {"auto", "two-pass", "fused"};

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
  QuantizePath path;           // Fused requires groupStart
};

void launchQuantizeRows(const QuantizeRowsParams& p, cudaStream_t stream);
/// Whether launchQuantizeRows takes the fused one-pass kernels for these params (else two passes).
bool quantizeRowsUsesFusedPath(const QuantizeRowsParams& p);
/// The longest group (in rows) the fused path takes at this head dimension (its shared-memory staging limit).
int64_t quantizeRowsFusedMaxGroupRows(int32_t headDim);

}  // namespace fpsattn
