// channelRmsNorm: the Wan-VAE's channel RMS norm (+ gamma, + optional SiLU) of channels-last F32 pixels to BF16
// (kernel: kernels/vae/channel_rms_norm.cu; TS op: packages/kernels src/ops/channel-rms-norm.ts).
#include "kernels/vae/channel_rms_norm.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    tensorField("x"),
    tensorField("gamma"),
    tensorField("out"),
    intField("rows", 0, kMaxInt32Index),
    intField("channels", 1, kMaxInt32Index),
    boolField("silu"),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  ChannelRmsNormParams p{};
  p.rows = r.integer("rows");
  p.channels = r.integer("channels");
  p.silu = r.flag("silu");
  p.x = r.tensor<const float>("x", bytesOf({p.rows, p.channels, 4}));
  p.gamma = r.tensor<const float>("gamma", bytesOf({p.channels, 4}));
  p.out = r.tensor<uint16_t>("out", bytesOf({p.rows, p.channels, 2}));
  r.finish();
  launchChannelRmsNorm(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(ChannelRmsNorm, channelRmsNorm, "vae/channel_rms_norm.cu", kFields, run)

}  // namespace fpsattn
