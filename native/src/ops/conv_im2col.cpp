// convIm2col: the BF16 column matrix of a stride-1 convolution over channels-last frames, for a run of output pixels
// (kernel: kernels/vae/conv_im2col.cu; TS op: packages/kernels src/ops/conv-im2col.ts).
#include <string>

#include "kernels/vae/conv_im2col.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

constexpr FieldSpec kFields[] = {
    optionalTensorField("frame0"),
    optionalTensorField("frame1"),
    optionalTensorField("frame2"),
    tensorField("out"),
    intField("height", 1, kMaxInt32Index),
    intField("width", 1, kMaxInt32Index),
    intField("channels", 1, kMaxInt32Index),
    intField("kt", 1, kIm2colMaxTaps),
    intField("kh", 1, 3),
    intField("kw", 1, 3),
    boolField("upsample"),
    intField("rowStart", 0, kMaxInt32Index),
    intField("rows", 0, kMaxInt32Index),
    enumField("input", kIm2colInputNames),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  ConvIm2colParams p{};
  p.height = r.integer("height");
  p.width = r.integer("width");
  p.channels = r.integer("channels");
  p.kt = int32_t(r.integer("kt"));
  p.kh = int32_t(r.integer("kh"));
  p.kw = int32_t(r.integer("kw"));
  p.upsample = r.flag("upsample");
  p.rowStart = r.integer("rowStart");
  p.rows = r.integer("rows");
  p.input = r.choice<Im2colInput>("input");
  if (p.kh % 2 == 0 || p.kw % 2 == 0) throw ArgumentError("params.kh and params.kw must be 1 or 3 (odd: symmetric padding)");
  if (p.height * p.width > kMaxInt32Index) throw ArgumentError("params.height x params.width must be below 2^31 pixels");
  if (p.rowStart + p.rows > p.height * p.width)
    throw ArgumentError("params.rowStart + params.rows (" + std::to_string(p.rowStart + p.rows) + ") exceeds the frame's " +
                        std::to_string(p.height * p.width) + " pixels");
  const int64_t columns = int64_t(p.kt) * p.kh * p.kw * p.channels;
  if (p.rows * columns > kMaxInt32Index) throw ArgumentError("params.rows x columns must be below 2^31 elements (chunk the rows)");
  if (p.upsample && (p.height % 2 != 0 || p.width % 2 != 0))
    throw ArgumentError("params.upsample needs an even params.height and params.width (frames of half the size)");
  const int64_t srcPixels = p.upsample ? (p.height / 2) * (p.width / 2) : p.height * p.width;
  const int64_t frameBytes = bytesOf({srcPixels, p.channels, p.input == Im2colInput::F32 ? 4 : 2});
  const char* names[kIm2colMaxTaps] = {"frame0", "frame1", "frame2"};
  for (int t = 0; t < kIm2colMaxTaps; ++t) {
    p.frames[t] = r.optionalTensor<const void>(names[t], frameBytes);
    if (t >= p.kt && p.frames[t] != nullptr)
      throw ArgumentError(std::string("params.") + names[t] + " must be null: the kernel has " + std::to_string(p.kt) +
                          " time tap(s)");
  }
  p.out = r.tensor<uint16_t>("out", bytesOf({p.rows, columns, 2}));
  r.finish();
  launchConvIm2col(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(ConvIm2col, convIm2col, "vae/conv_im2col.cu", kFields, run)

}  // namespace fpsattn
