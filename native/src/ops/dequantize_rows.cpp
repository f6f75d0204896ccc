// dequantizeRows: FP8 codes of quantizeRows back to float32 (kernel: kernels/dequantize_rows.cu; TS op:
// packages/kernels src/ops/dequantize-rows.ts).
#include "kernels/dequantize_rows.h"
#include "ops/head_checks.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    tensorField("codes"),
    tensorField("scales"),
    tensorField("groupOfRow"),
    tensorField("out"),
    intField("rows", 0, kMaxDim),
    intField("cols", 0, kMaxDim),
    intField("headDim", 1, 4096),
    intField("heads", 1, 65535),
    intField("groupCount", 0, int64_t(1) << 31),
    enumField("format", kFp8FormatNames),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  DequantizeRowsParams p{};
  p.rows = r.integer("rows");
  p.cols = r.integer("cols");
  p.headDim = int32_t(r.integer("headDim"));
  p.heads = int32_t(r.integer("heads"));
  p.groupCount = r.integer("groupCount");
  p.format = r.choice<Fp8Format>("format");
  checkHeads(p.cols, p.headDim, p.heads);
  p.codes = r.tensor<const uint8_t>("codes", bytesOf({p.rows, p.cols}));
  p.scales = r.tensor<const float>("scales", bytesOf({p.groupCount, p.heads, 4}));
  p.groupOfRow = r.tensor<const int32_t>("groupOfRow", bytesOf({p.rows, 4}));
  p.out = r.tensor<float>("out", bytesOf({p.rows, p.cols, 4}));
  r.finish();
  launchDequantizeRows(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(DequantizeRows, dequantizeRows, "dequantize_rows.cu", kFields, run)

}  // namespace fpsattn
