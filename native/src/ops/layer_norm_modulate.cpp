// layerNormModulate: LayerNorm (+ affine, + adaLN modulation) of the f32 residual stream to BF16 (kernel:
// kernels/norms/layer_norm_modulate.cu; TS op: packages/kernels src/ops/layer-norm-modulate.ts).
#include "kernels/gated_residual.h"
#include "kernels/norms/layer_norm_modulate.h"
#include "kernels/norms/row_layout.cuh"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

/// One block per row along the grid's x dimension.
constexpr int64_t kMaxNormRows = (int64_t(1) << 31) - 1;

constexpr FieldSpec kFields[] = {
    tensorField("x"),
    optionalTensorField("weight"),
    optionalTensorField("bias"),
    optionalTensorField("shift"),
    optionalTensorField("scale"),
    optionalTensorField("residual"),
    optionalTensorField("residualGate"),
    tensorField("out"),
    intField("rows", 0, kMaxNormRows),
    intField("dim", 1, kNormMaxDim),
    intField("rowsPerItem", 1, kMaxNormRows),
    floatField("eps"),
    enumField("residualInput", kGatedResidualInputNames),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  LayerNormModulateParams p{};
  p.rows = r.integer("rows");
  p.dim = r.integer("dim");
  p.rowsPerItem = r.integer("rowsPerItem");
  p.eps = r.number("eps");
  if (p.rows % p.rowsPerItem != 0)
    throw ArgumentError("params.rows (" + std::to_string(p.rows) + ") must be a multiple of params.rowsPerItem (" +
                        std::to_string(p.rowsPerItem) + ")");
  if (!(p.eps >= 0.0) || p.eps > 1e30) throw ArgumentError("params.eps must be a finite number >= 0");
  const int64_t items = p.rows / p.rowsPerItem;
  p.x = r.tensor<float>("x", bytesOf({p.rows, p.dim, 4}));
  p.weight = r.optionalTensor<const float>("weight", bytesOf({p.dim, 4}));
  p.bias = r.optionalTensor<const float>("bias", bytesOf({p.dim, 4}));
  p.shift = r.optionalTensor<const float>("shift", bytesOf({items, p.dim, 4}));
  p.scale = r.optionalTensor<const float>("scale", bytesOf({items, p.dim, 4}));
  if ((p.shift == nullptr) != (p.scale == nullptr))
    throw ArgumentError("params.shift and params.scale go together (modulation n * (1 + scale) + shift): both or neither");
  p.residualF32 = r.choice<GatedResidualInput>("residualInput") == GatedResidualInput::F32 ? 1 : 0;
  p.residualY = r.optionalTensor<const void>("residual", bytesOf({p.rows, p.dim, p.residualF32 ? 4 : 2}));
  p.residualGate = r.optionalTensor<const float>("residualGate", bytesOf({items, p.dim, 4}));
  if (p.residualGate != nullptr && p.residualY == nullptr)
    throw ArgumentError("params.residualGate needs params.residual (x += residual * residualGate before the norm)");
  p.out = r.tensor("out", bytesOf({p.rows, p.dim, 2}));
  r.finish();
  launchLayerNormModulate(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(LayerNormModulate, layerNormModulate, "norms/layer_norm_modulate.cu", kFields, run)

}  // namespace fpsattn
