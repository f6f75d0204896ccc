// permuteRows: tile-major gather/scatter of whole rows (kernel: kernels/permute_rows.cu; TS op: packages/kernels
// src/ops/permute-rows.ts, gatherRows and scatterRows).
#include "kernels/permute_rows.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    tensorField("src"),
    tensorField("dst"),
    tensorField("rowMap"),
    intField("srcRows", 0, kMaxDim),
    intField("dstRows", 0, kMaxDim),
    intField("mapLen", 0, kMaxDim),
    intField("rowBytes", 0, kMaxDim),
    boolField("scatter"),
    optionalTensorField("amax"),  // gather of BF16 rows only: f32 [rowBytes / 2], the per-channel amax of dst
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  PermuteRowsParams p{};
  p.srcRows = r.integer("srcRows");
  p.dstRows = r.integer("dstRows");
  p.mapLen = r.integer("mapLen");
  p.rowBytes = r.integer("rowBytes");
  p.scatter = r.flag("scatter");
  if (p.rowBytes % 16 != 0) throw ArgumentError("params.rowBytes must be a multiple of 16");
  if (!p.scatter && p.dstRows != p.mapLen) throw ArgumentError("gather: dstRows must equal mapLen");
  if (p.scatter && p.srcRows != p.mapLen) throw ArgumentError("scatter: srcRows must equal mapLen");
  p.src = r.tensor("src", bytesOf({p.srcRows, p.rowBytes}));
  p.dst = r.tensor("dst", bytesOf({p.dstRows, p.rowBytes}));
  p.rowMap = r.tensor<const int32_t>("rowMap", bytesOf({p.mapLen, 4}));
  p.amax = r.optionalTensor<float>("amax", bytesOf({p.rowBytes / 2, 4}));
  if (p.amax != nullptr && p.scatter) throw ArgumentError("params.amax is for gather only");
  if (p.amax != nullptr && p.mapLen > kMaxTokenRows)
    throw ArgumentError("params.mapLen must be at most " + std::to_string(kMaxTokenRows) + " with amax");
  r.finish();
  launchPermuteRows(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(PermuteRows, permuteRows, "permute_rows.cu", kFields, run)

}  // namespace fpsattn
