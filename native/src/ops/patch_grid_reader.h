// The patch-grid fields shared by the bindings of patchify and unpatchify (their field tables list them in this
// order: items, channels, gridF, gridH, gridW, pt, ph, pw).
#pragma once

#include <string>

#include "kernels/video_patches/patch_grid.h"
#include "ops/op.h"

namespace fpsattn {

#define FPSATTN_PATCH_GRID_FIELDS                                                                            \
  intField("items", 1, kMaxDim), intField("channels", 1, kPatchMaxLength), intField("gridF", 1, kMaxDim),   \
      intField("gridH", 1, kMaxDim), intField("gridW", 1, kMaxDim), intField("pt", 1, kPatchMaxLength),    \
      intField("ph", 1, kPatchMaxLength), intField("pw", 1, kPatchMaxLength)

/// Reads the grid fields; the patch length C pt ph pw must stay within kPatchMaxLength (a token's tile in shared memory).
inline PatchGrid readPatchGrid(ParamsReader& r) {
  PatchGrid g{};
  g.items = r.integer("items");
  g.channels = r.integer("channels");
  g.gridF = r.integer("gridF");
  g.gridH = r.integer("gridH");
  g.gridW = r.integer("gridW");
  g.pt = int32_t(r.integer("pt"));
  g.ph = int32_t(r.integer("ph"));
  g.pw = int32_t(r.integer("pw"));
  // Each factor is at most kPatchMaxLength = 2^13: the product cannot overflow.
  if (patchLength(g) > kPatchMaxLength)
    throw ArgumentError("params.channels * pt * ph * pw (" + std::to_string(patchLength(g)) + ") must be at most " +
                        std::to_string(kPatchMaxLength) + " (a token's values are staged in shared memory)");
  return g;
}

}  // namespace fpsattn
