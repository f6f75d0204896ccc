// gatedResidual: x += y * gate (or x += y) on the f32 residual stream, in place (kernel: kernels/gated_residual.cu; TS
// op: packages/kernels src/ops/gated-residual.ts).
#include "kernels/gated_residual.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

/// Rows and the item index are 32-bit in the kernel; so are a block's pack indices (at most dim on the scalar path).
constexpr int64_t kMaxResidualRows = (int64_t(1) << 31) - 1;
constexpr int64_t kMaxResidualDim = (int64_t(1) << 31) - 1;

constexpr FieldSpec kFields[] = {
    tensorField("x"),
    tensorField("y"),
    optionalTensorField("gate"),
    intField("rows", 0, kMaxResidualRows),
    intField("dim", 1, kMaxResidualDim),
    intField("rowsPerItem", 1, kMaxResidualRows),
    enumField("input", kGatedResidualInputNames),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  GatedResidualParams p{};
  p.rows = r.integer("rows");
  p.dim = r.integer("dim");
  p.rowsPerItem = r.integer("rowsPerItem");
  p.input = r.choice<GatedResidualInput>("input");
  if (p.rows % p.rowsPerItem != 0)
    throw ArgumentError("params.rows (" + std::to_string(p.rows) + ") must be a multiple of params.rowsPerItem (" +
                        std::to_string(p.rowsPerItem) + ")");
  p.x = r.tensor<float>("x", bytesOf({p.rows, p.dim, 4}));
  p.y = r.tensor("y", bytesOf({p.rows, p.dim, p.input == GatedResidualInput::F32 ? 4 : 2}));
  p.gate = r.optionalTensor<const float>("gate", bytesOf({p.rows / p.rowsPerItem, p.dim, 4}));
  r.finish();
  launchGatedResidual(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(GatedResidual, gatedResidual, "gated_residual.cu", kFields, run)

}  // namespace fpsattn
