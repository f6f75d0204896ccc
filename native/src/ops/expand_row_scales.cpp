// expandRowScales: Q/K scales per (group, head) spread to per (batch, head, row) for the attention kernel (kernel:
// kernels/expand_row_scales.cu; TS op: packages/kernels src/ops/attention/expand-row-scales.ts).
#include "kernels/expand_row_scales.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    tensorField("scales"),
    tensorField("groupOfRow"),
    tensorField("out"),
    intField("batch", 0, kMaxDim),
    intField("heads", 0, kMaxDim),
    intField("rows", 0, kMaxDim),
    intField("groupCount", 1, kMaxDim),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  ExpandRowScalesParams p{};
  p.batch = r.integer("batch");
  p.heads = r.integer("heads");
  p.rows = r.integer("rows");
  p.groupCount = r.integer("groupCount");
  // groupOfRow entries are validated when the map is made (createGroupMap): each lies in 0..groupCount-1.
  p.scales = r.tensor<const float>("scales", bytesOf({p.batch, p.groupCount, p.heads, 4}));
  p.groupOfRow = r.tensor<const int32_t>("groupOfRow", bytesOf({p.rows, 4}));
  p.out = r.tensor<float>("out", bytesOf({p.batch, p.heads, p.rows, 4}));
  r.finish();
  launchExpandRowScales(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(ExpandRowScales, expandRowScales, "expand_row_scales.cu", kFields, run)

}  // namespace fpsattn
