// dequantizeV: transposed FP8 codes of quantizeV back to float32 (kernel: kernels/dequantize_v.cu; TS op:
// packages/kernels src/ops/dequantize-v.ts).
#include "kernels/dequantize_v.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    tensorField("codesT"),
    tensorField("scales"),
    tensorField("out"),
    intField("rows", 0, kMaxDim),
    intField("cols", 0, kMaxDim),
    intField("tokenStride", 0, kMaxDim),
    enumField("format", kFp8FormatNames),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  DequantizeVParams p{};
  p.rows = r.integer("rows");
  p.cols = r.integer("cols");
  p.tokenStride = r.integer("tokenStride");
  p.format = r.choice<Fp8Format>("format");
  if (p.tokenStride < p.rows) throw ArgumentError("params.tokenStride must be >= rows");
  p.codesT = r.tensor<const uint8_t>("codesT", bytesOf({p.cols, p.tokenStride}));
  p.scales = r.tensor<const float>("scales", bytesOf({p.cols, 4}));
  p.out = r.tensor<float>("out", bytesOf({p.rows, p.cols, 4}));
  r.finish();
  launchDequantizeV(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(DequantizeV, dequantizeV, "dequantize_v.cu", kFields, run)

}  // namespace fpsattn
