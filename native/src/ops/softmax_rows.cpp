// softmaxRows: row softmax of F32 attention scores (scaled, padded key columns masked) to BF16 probabilities (kernel:
// kernels/vae/softmax_rows.cu; TS op: packages/kernels src/ops/softmax-rows.ts).
#include <cmath>
#include <string>

#include "kernels/vae/softmax_rows.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    tensorField("x"),
    tensorField("out"),
    intField("rows", 0, kMaxInt32Index),
    intField("cols", 1, kMaxInt32Index),
    intField("validCols", 1, kMaxInt32Index),
    floatField("scale"),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  SoftmaxRowsParams p{};
  p.rows = r.integer("rows");
  p.cols = r.integer("cols");
  p.validCols = r.integer("validCols");
  const double scale = r.number("scale");
  if (p.validCols > p.cols)
    throw ArgumentError("params.validCols (" + std::to_string(p.validCols) + ") exceeds params.cols (" + std::to_string(p.cols) + ")");
  if (!std::isfinite(scale) || !(scale > 0.0)) throw ArgumentError("params.scale must be a finite number > 0");
  p.scale = float(scale);  // the TS op sends Math.fround(scale): exact
  if (!(p.scale > 0.0f) || !std::isfinite(p.scale)) throw ArgumentError("params.scale must be a positive finite float32");
  p.x = r.tensor<const float>("x", bytesOf({p.rows, p.cols, 4}));
  p.out = r.tensor<uint16_t>("out", bytesOf({p.rows, p.cols, 2}));
  r.finish();
  launchSoftmaxRows(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(SoftmaxRows, softmaxRows, "vae/softmax_rows.cu", kFields, run)

}  // namespace fpsattn
