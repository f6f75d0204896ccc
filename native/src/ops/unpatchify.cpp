// unpatchify: the DiT head's token vectors f32 [items tokens, pt ph pw C] -> video f32 [items, C, F, H, W] (kernel:
// kernels/video_patches/unpatchify.cu; TS op: packages/kernels src/ops/unpatchify.ts).
#include "kernels/video_patches/unpatchify.h"
#include "ops/op.h"
#include "ops/patch_grid_reader.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    tensorField("tokens"),
    tensorField("out"),
    FPSATTN_PATCH_GRID_FIELDS,
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  UnpatchifyParams p{};
  p.grid = readPatchGrid(r);
  const PatchGrid& g = p.grid;
  const int64_t bytes = bytesOf({g.items, g.gridF, g.gridH, g.gridW, patchLength(g), 4});  // the same both ways
  p.tokens = r.tensor<const float>("tokens", bytes);
  p.out = r.tensor<float>("out", bytes);
  r.finish();
  launchUnpatchify(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(Unpatchify, unpatchify, "video_patches/unpatchify.cu", kFields, run)

}  // namespace fpsattn
