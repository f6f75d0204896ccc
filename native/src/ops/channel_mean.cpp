// channelMean: deterministic per-channel mean of K (kernel: kernels/channel_mean.cu; TS op: packages/kernels
// src/ops/channel-mean.ts).
#include "kernels/channel_mean.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/allocator.h"
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    tensorField("x"),
    tensorField("mean"),
    intField("rows", 0, kMaxTokenRows),
    intField("cols", 0, kMaxDim),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  ChannelMeanParams p{};
  p.rows = r.integer("rows");
  p.cols = r.integer("cols");
  if (p.cols % 8 != 0) throw ArgumentError("params.cols must be a multiple of 8");
  p.x = r.tensor("x", bytesOf({p.rows, p.cols, 2}));
  p.mean = r.tensor<float>("mean", bytesOf({p.cols, 4}));
  r.finish();
  const ScopedWorkspace partials(channelMeanWorkspaceBytes(p.rows, p.cols));
  p.partials = partials.as<double>();
  launchChannelMean(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(ChannelMean, channelMean, "channel_mean.cu", kFields, run)

}  // namespace fpsattn
