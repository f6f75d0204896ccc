// rmsNormRope: Wan's full-dim q/k RMSNorm, optionally followed by the per-head 3D RoPE rotation, to BF16 (kernel:
// kernels/norms/rms_norm_rope.cu; TS op: packages/kernels src/ops/rms-norm-rope.ts).
#include "kernels/norms/rms_norm_rope.h"
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
    tensorField("weight"),
    optionalTensorField("cos"),
    optionalTensorField("sin"),
    tensorField("out"),
    intField("rows", 0, kMaxNormRows),
    intField("dim", 1, kNormMaxDim),
    intField("headDim", 0, kNormMaxDim),
    intField("tokens", 0, kMaxNormRows),
    enumField("input", kRmsNormInputNames),
    floatField("eps"),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  RmsNormRopeParams p{};
  p.rows = r.integer("rows");
  p.dim = r.integer("dim");
  p.headDim = r.integer("headDim");
  p.tokens = r.integer("tokens");
  p.input = r.choice<RmsNormInput>("input");
  p.eps = r.number("eps");
  if (!(p.eps >= 0.0) || p.eps > 1e30) throw ArgumentError("params.eps must be a finite number >= 0");
  p.x = r.tensor("x", bytesOf({p.rows, p.dim, p.input == RmsNormInput::F32 ? 4 : 2}));
  p.weight = r.tensor<const float>("weight", bytesOf({p.dim, 4}));
  const bool rope = p.headDim != 0;
  if (rope) {
    if (p.headDim % 2 != 0 || p.dim % p.headDim != 0)
      throw ArgumentError("params.headDim must be even and divide params.dim (" + std::to_string(p.dim) + "), got " +
                          std::to_string(p.headDim));
    if (p.tokens < 1 || p.rows % p.tokens != 0)
      throw ArgumentError("params.tokens must be at least 1 and divide params.rows (" + std::to_string(p.rows) +
                          "), got " + std::to_string(p.tokens));
  } else if (p.tokens != 0) {
    throw ArgumentError("params.tokens must be 0 without rope (params.headDim 0)");
  }
  const int64_t tableBytes = rope ? bytesOf({p.tokens, p.headDim / 2, 4}) : 0;
  p.cos = r.optionalTensor<const float>("cos", tableBytes);
  p.sin = r.optionalTensor<const float>("sin", tableBytes);
  if (rope != (p.cos != nullptr) || rope != (p.sin != nullptr))
    throw ArgumentError(rope ? "rope (params.headDim > 0) needs params.cos and params.sin"
                             : "params.cos and params.sin must be null without rope (params.headDim 0)");
  p.out = r.tensor("out", bytesOf({p.rows, p.dim, 2}));
  r.finish();
  launchRmsNormRope(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(RmsNormRope, rmsNormRope, "norms/rms_norm_rope.cu", kFields, run)

}  // namespace fpsattn
