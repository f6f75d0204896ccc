// clampToPlanar: the first channels of channels-last F32 pixels, clamped, to planar F32 or BF16 (kernel:
// kernels/vae/clamp_to_planar.cu; TS op: packages/kernels src/ops/clamp-to-planar.ts).
#include <cmath>
#include <string>

#include "kernels/vae/clamp_to_planar.h"
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
    intField("channels", 1, kMaxInt32Index),
    floatField("lo"),
    floatField("hi"),
    enumField("output", kPlanarOutputNames),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  ClampToPlanarParams p{};
  p.rows = r.integer("rows");
  p.cols = r.integer("cols");
  p.channels = r.integer("channels");
  const double lo = r.number("lo");
  const double hi = r.number("hi");
  p.output = r.choice<PlanarOutput>("output");
  if (p.channels > p.cols)
    throw ArgumentError("params.channels (" + std::to_string(p.channels) + ") exceeds params.cols (" + std::to_string(p.cols) + ")");
  if (p.rows * p.channels > kMaxInt32Index) throw ArgumentError("params.rows x params.channels must be below 2^31");
  if (std::isnan(lo) || std::isnan(hi) || !(lo <= hi)) throw ArgumentError("params.lo and params.hi must be numbers with lo <= hi");
  p.lo = float(lo);  // the TS op sends Math.fround values: exact
  p.hi = float(hi);
  p.x = r.tensor<const float>("x", bytesOf({p.rows, p.cols, 4}));
  p.out = r.tensor("out", bytesOf({p.channels, p.rows, p.output == PlanarOutput::F32 ? 4 : 2}));
  r.finish();
  launchClampToPlanar(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(ClampToPlanar, clampToPlanar, "vae/clamp_to_planar.cu", kFields, run)

}  // namespace fpsattn
