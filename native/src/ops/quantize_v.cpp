// quantizeV: FP8 quantization of V, one scale per channel, codes transposed (kernel: kernels/quantize_v.cu; TS op:
// packages/kernels src/ops/quantize-v.ts).
#include "kernels/quantize_v.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/allocator.h"
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    tensorField("v"),
    tensorField("codesT"),
    tensorField("scales"),
    optionalTensorField("amax"),  // per-channel amax from the gather; null: the kernel computes it (two passes)
    intField("rows", 0, kMaxDim),
    intField("cols", 0, kMaxDim),
    intField("tokenStride", 0, kMaxTokenRows),
    enumField("format", kFp8FormatNames),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  QuantizeVParams p{};
  p.rows = r.integer("rows");
  p.cols = r.integer("cols");
  p.tokenStride = r.integer("tokenStride");
  p.format = r.choice<Fp8Format>("format");
  if (p.cols % 64 != 0) throw ArgumentError("params.cols must be a multiple of 64 for V");
  if (p.tokenStride < p.rows || p.tokenStride % 16 != 0)
    throw ArgumentError("params.tokenStride must be >= rows and a multiple of 16");
  p.v = r.tensor("v", bytesOf({p.rows, p.cols, 2}));
  p.codesT = r.tensor<uint8_t>("codesT", bytesOf({p.cols, p.tokenStride}));
  p.scales = r.tensor<float>("scales", bytesOf({p.cols, 4}));
  p.amaxIn = r.optionalTensor<const float>("amax", bytesOf({p.cols, 4}));
  r.finish();
  const ScopedWorkspace amaxWork(p.cols * 4);
  p.amaxWork = amaxWork.as<uint32_t>();
  launchQuantizeV(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(QuantizeV, quantizeV, "quantize_v.cu", kFields, run)

}  // namespace fpsattn
