// Params and launcher of video_patches/patchify.cu (native op patchify: binding native/src/ops/patchify.cpp, TS op
// packages/kernels src/ops/patchify.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"
#include "kernels/video_patches/patch_grid.h"

namespace fpsattn {

/// The DiT's patch embedding input (wan21-architecture.md 1.5): each pt x ph x pw patch of a latent video as one
/// token row, in the Conv3d weight's order (c, dt, dh, dw), rounded to BF16:
///   out[(rep items + i) tokens + (f' H' + h') W' + w', ((c pt + dt) ph + dh) pw + dw]
///     = BF16(latents[i, c, f' pt + dt, h' ph + dh, w' pw + dw])                       for every rep < repeat
/// BF16 = round to nearest even, overflow to infinity, every NaN to 0x7fff (common/bf16_round.cuh). Bit-identical to
/// patchifyCpu (which rounds with @fpsattn/fp8's encodeBf16Array and moves the same bits).
struct PatchifyParams {
  const float* latents;  // f32 [items, C, F' pt, H' ph, W' pw]
  uint16_t* out;         // bf16 [repeat items F' H' W', C pt ph pw]
  PatchGrid grid;        // C pt ph pw <= kPatchMaxLength
  int64_t repeat;        // batch copies: out item b is latents item b % items (CFG: one upload, two items)
};

void launchPatchify(const PatchifyParams& p, cudaStream_t stream);

}  // namespace fpsattn
