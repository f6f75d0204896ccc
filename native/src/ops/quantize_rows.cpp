// quantizeRows: FP8 quantization of Q/K rows, one scale per (group, head) (kernel: kernels/quantize_rows.cu; TS op:
// packages/kernels src/ops/quantize-rows.ts).
#include <optional>

#include "kernels/quantize_rows.h"
#include "ops/head_checks.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/allocator.h"
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

inline constexpr const char* kRanPaths[] = {"fused", "two-pass"};

constexpr FieldSpec kFields[] = {
    tensorField("x"),
    tensorField("groupOfRow"),
    optionalTensorField("groupStart"),
    optionalTensorField("mean"),
    tensorField("codes"),
    tensorField("scales"),
    intField("rows", 0, kMaxDim),
    intField("cols", 0, kMaxDim),
    intField("headDim", 1, 4096),
    intField("heads", 1, 65535),
    intField("groupCount", 0, int64_t(1) << 31),
    intField("maxGroupRows", 0, kMaxDim),
    enumField("format", kFp8FormatNames),
    enumField("path", kQuantizePathNames),
};
constexpr FieldSpec kResult[] = {enumField("path", kRanPaths)};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  QuantizeRowsParams p{};
  p.rows = r.integer("rows");
  p.cols = r.integer("cols");
  p.headDim = int32_t(r.integer("headDim"));
  p.heads = int32_t(r.integer("heads"));
  p.groupCount = r.integer("groupCount");
  p.maxGroupRows = r.integer("maxGroupRows");
  p.path = r.choice<QuantizePath>("path");
  p.format = r.choice<Fp8Format>("format");
  checkHeads(p.cols, p.headDim, p.heads);
  if (p.rows > 0 && p.groupCount == 0) throw ArgumentError("params.groupCount must be >= 1 when rows > 0");
  p.x = r.tensor("x", bytesOf({p.rows, p.cols, 2}));
  p.groupOfRow = r.tensor<const int32_t>("groupOfRow", bytesOf({p.rows, 4}));
  p.groupStart = r.optionalTensor<const int32_t>("groupStart", bytesOf({p.groupCount + 1, 4}));
  p.mean = r.optionalTensor<const float>("mean", bytesOf({p.cols, 4}));
  p.codes = r.tensor<uint8_t>("codes", bytesOf({p.rows, p.cols}));
  p.scales = r.tensor<float>("scales", bytesOf({p.groupCount, p.heads, 4}));
  r.finish();
  if (p.path == QuantizePath::Fused && (p.groupStart == nullptr || !quantizeRowsUsesFusedPath(p)))
    throw ArgumentError("params.path 'fused' needs groupStart and groups of at most " +
                        std::to_string(quantizeRowsFusedMaxGroupRows(p.headDim)) + " rows");
  const bool fused = quantizeRowsUsesFusedPath(p);
  std::optional<ScopedWorkspace> amaxWork;  // the two-pass path's per-(group, head) amax
  if (!fused) p.amaxWork = amaxWork.emplace(p.groupCount * p.heads * 4).as<uint32_t>();
  launchQuantizeRows(p, stream());
  return r.resultWithChoice(info.Env(), "path", fused ? "fused" : "two-pass");
}
#endif

}  // namespace

FPSATTN_DEFINE_OP_WITH_RESULT(QuantizeRows, quantizeRows, "quantize_rows.cu", kFields, kResult, run)

}  // namespace fpsattn
