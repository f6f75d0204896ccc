// castToBf16: f32 / f16 / bf16 / e4m3 / e5m2 -> bf16 on the device, with an optional float32 scale (kernel:
// kernels/cast_to_bf16.cu; TS op: packages/kernels src/ops/cast-to-bf16.ts).
#include <cmath>

#include "kernels/cast_to_bf16.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    tensorField("src"),
    tensorField("out"),
    intField("count", 0, kMaxBytes / 4),
    enumField("source", kCastSourceNames),
    boolField("hasScale"),
    floatField("scale"),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  CastToBf16Params p{};
  p.count = r.integer("count");
  p.source = r.choice<CastSource>("source");
  p.hasScale = r.flag("hasScale");
  const double scale = r.number("scale");
  if (!std::isfinite(scale)) throw ArgumentError("params.scale must be a finite number (1 when hasScale is false)");
  p.scale = float(scale);  // the TS op sends Math.fround(scale): this conversion is exact
  if (p.hasScale && !std::isfinite(p.scale)) throw ArgumentError("params.scale overflows float32");
  static constexpr int64_t kSourceBytes[] = {4, 2, 2, 1, 1};
  p.src = r.tensor("src", bytesOf({p.count, kSourceBytes[int(p.source)]}));
  p.out = r.tensor("out", bytesOf({p.count, 2}));
  r.finish();
  launchCastToBf16(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(CastToBf16, castToBf16, "cast_to_bf16.cu", kFields, run)

}  // namespace fpsattn
