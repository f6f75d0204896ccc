// Params and launcher of expand_row_scales.cu (native op expandRowScales: binding native/src/ops/expand_row_scales.cpp,
// TS op packages/kernels src/ops/attention/expand-row-scales.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// The Q/K scales of quantizeRows, one per (batch item, group, head), spread to one per (batch, head, row), the layout
/// the attention kernel reads (AttentionParams::qScale / kScale):
///   out[(b * heads + h) * rows + r] = scales[(b * groupCount + groupOfRow[r]) * heads + h]
struct ExpandRowScalesParams {
  const float* scales;        // [batch * groupCount, heads]
  const int32_t* groupOfRow;  // [rows], each in 0..groupCount-1
  float* out;                 // [batch, heads, rows]
  int64_t batch;
  int64_t heads;
  int64_t rows;
  int64_t groupCount;
};

void launchExpandRowScales(const ExpandRowScalesParams& p, cudaStream_t stream);

}  // namespace fpsattn
