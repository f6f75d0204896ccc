// patchify: latent video f32 [items, C, F, H, W] -> BF16 patch rows [repeat items tokens, C pt ph pw] (kernel:
// kernels/video_patches/patchify.cu; TS op: packages/kernels src/ops/patchify.ts).
#include "kernels/video_patches/patchify.h"
#include "ops/op.h"
#include "ops/patch_grid_reader.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    tensorField("latents"),
    tensorField("out"),
    FPSATTN_PATCH_GRID_FIELDS,
    intField("repeat", 1, kMaxDim),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  PatchifyParams p{};
  p.grid = readPatchGrid(r);
  p.repeat = r.integer("repeat");
  const PatchGrid& g = p.grid;
  p.latents = r.tensor<const float>("latents", bytesOf({g.items, g.channels, g.gridF, g.pt, g.gridH, g.ph, g.gridW, g.pw, 4}));
  p.out = r.tensor<uint16_t>("out", bytesOf({p.repeat, g.items, g.gridF, g.gridH, g.gridW, patchLength(g), 2}));
  r.finish();
  launchPatchify(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(Patchify, patchify, "video_patches/patchify.cu", kFields, run)

}  // namespace fpsattn
