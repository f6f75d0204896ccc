// Params and launcher of video_patches/unpatchify.cu (native op unpatchify: binding native/src/ops/unpatchify.cpp, TS
// op packages/kernels src/ops/unpatchify.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"
#include "kernels/video_patches/patch_grid.h"

namespace fpsattn {

/// The DiT head's token vectors back to a video (wan21-architecture.md 1.5, einsum('fhwpqrc->cfphqwr'): the channel
/// runs fastest within a token vector), a float32 copy:
///   out[i, c, f' pt + dt, h' ph + dh, w' pw + dw] = tokens[i tokens + (f' H' + h') W' + w', ((dt ph + dh) pw + dw) C + c]
/// Bit-identical to unpatchifyCpu (NaN payloads included: both move the bits).
struct UnpatchifyParams {
  const float* tokens;  // f32 [items F' H' W', pt ph pw C]
  float* out;           // f32 [items, C, F' pt, H' ph, W' pw]
  PatchGrid grid;       // C pt ph pw <= kPatchMaxLength
};

void launchUnpatchify(const UnpatchifyParams& p, cudaStream_t stream);

}  // namespace fpsattn
