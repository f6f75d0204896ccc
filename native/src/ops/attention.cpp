// attention: the fused FP8/BF16 block-sparse attention kernel (kernel family: kernels/attention/, launcher
// launchAttention in attention.cu, declared with AttentionParams in attention_params.h; TS op: packages/kernels
// src/ops/attention/attention-forward.ts, `attentionForward`).
#include <stdexcept>

#include "kernels/attention/attention_params.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {

namespace {

/// The operand type as a string at the boundary; the index is AttentionDtype (kAttentionBf16 = 0, kAttentionE4m3 = 1).
constexpr const char* kAttentionDtypeNames[] = {"bf16", "e4m3"};
constexpr int64_t kMaxInt32 = 2147483647;

constexpr FieldSpec kFields[] = {
    tensorField("q"),
    tensorField("k"),
    tensorField("v"),
    optionalTensorField("qScale"),
    optionalTensorField("kScale"),
    optionalTensorField("kBlockScale"),
    optionalTensorField("vScale"),
    tensorField("blockValidRows"),
    optionalTensorField("keyValidRows"),
    optionalTensorField("rowPtr"),
    optionalTensorField("colIdx"),
    tensorField("out"),
    intField("batch", 1, kMaxInt32),
    intField("heads", 1, kMaxInt32),
    intField("headDim", 1, 256),
    intField("numBlocks", 1, kMaxInt32),
    intField("listHeads", 1, kMaxInt32),
    intField("npad", 1, kMaxDim),
    intField("keyBlocks", 0, kMaxInt32),
    intField("keyNpad", 0, kMaxDim),
    intField("vTokenStride", 1, kMaxDim),
    floatField("softmaxScale"),
    enumField("dtype", kAttentionDtypeNames),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  AttentionParams p{};
  p.batch = int32_t(r.integer("batch"));
  p.heads = int32_t(r.integer("heads"));
  p.headDim = int32_t(r.integer("headDim"));
  p.numBlocks = int32_t(r.integer("numBlocks"));
  p.listHeads = int32_t(r.integer("listHeads"));
  p.npad = r.integer("npad");
  // Separate key geometry (cross-attention): keyBlocks 128-row key blocks of keyNpad = keyBlocks * 128 rows; 0 and 0
  // (with keyValidRows null): the keys have the queries' geometry.
  p.keyBlocks = int32_t(r.integer("keyBlocks"));
  p.keyNpad = r.integer("keyNpad");
  const bool separateKeys = p.keyBlocks > 0;
  if (separateKeys && p.keyNpad != int64_t(p.keyBlocks) * 128)
    throw ArgumentError("params.keyNpad must be keyBlocks * 128 (key rows of whole 128-row key blocks)");
  if (!separateKeys && p.keyNpad != 0)
    throw ArgumentError("params.keyNpad is 0 without separate keys (keyBlocks 0)");
  const int64_t keyRows = separateKeys ? p.keyNpad : p.npad;
  const int64_t keyBlocks = separateKeys ? p.keyBlocks : p.numBlocks;
  p.vTokenStride = r.integer("vTokenStride");
  p.softmaxScale = float(r.number("softmaxScale"));
  p.dtype = r.choice("dtype");
  const bool fp8 = p.dtype == kAttentionE4m3;
  const int64_t hd = int64_t(p.heads) * p.headDim;
  const int64_t elem = fp8 ? 1 : 2;
  p.q = r.tensor<const void>("q", bytesOf({p.batch, p.npad, hd, elem}));
  p.k = r.tensor<const void>("k", bytesOf({p.batch, keyRows, hd, elem}));
  p.v = fp8 ? r.tensor<const void>("v", bytesOf({p.batch, hd, p.vTokenStride}))
            : r.tensor<const void>("v", bytesOf({p.batch, keyRows, hd, 2}));
  p.qScale = r.optionalTensor<const float>("qScale", bytesOf({p.batch, p.heads, p.npad, 4}));
  p.kScale = r.optionalTensor<const float>("kScale", bytesOf({p.batch, p.heads, keyRows, 4}));
  // K's scales per key block instead of per key row (one per 128-row block; the kernel's faster variant).
  p.kBlockScale = r.optionalTensor<const float>("kBlockScale", bytesOf({p.batch, p.heads, keyBlocks, 4}));
  p.vScale = r.optionalTensor<const float>("vScale", bytesOf({p.batch, hd, 4}));
  p.blockValidRows = r.tensor<const int32_t>("blockValidRows", bytesOf({p.numBlocks, 4}));
  p.keyValidRows = r.optionalTensor<const int32_t>("keyValidRows", bytesOf({p.keyBlocks, 4}));
  p.rowPtr = r.optionalTensor<const int32_t>("rowPtr", bytesOf({p.listHeads, int64_t(p.numBlocks) + 1, 4}));
  // The list entries are made and checked by @fpsattn/attention's geometry (ascending key blocks in 0..keyBlocks-1,
  // keyBlocks = numBlocks without separate keys).
  p.colIdx = r.optionalTensor<const int32_t>("colIdx", 0);
  p.out = r.tensor<void>("out", bytesOf({p.batch, p.npad, hd, 2}));
  r.finish();
  if (separateKeys != (p.keyValidRows != nullptr))
    throw ArgumentError(separateKeys ? "params.keyValidRows [keyBlocks] is required with keyBlocks > 0 (separate keys)"
                                     : "params.keyValidRows is null without separate keys (keyBlocks 0)");
  if (fp8 && p.vTokenStride < keyRows)
    throw ArgumentError("params.vTokenStride must be >= the key rows (keyNpad, or npad without separate keys)");
  if ((p.rowPtr == nullptr) != (p.colIdx == nullptr)) throw ArgumentError("params.rowPtr and params.colIdx come together");
  if (fp8 && (p.qScale == nullptr || p.vScale == nullptr))
    throw ArgumentError("params.qScale and vScale are required for e4m3");
  if (fp8 && (p.kScale == nullptr) == (p.kBlockScale == nullptr))
    throw ArgumentError("params.kScale (per key row) and kBlockScale (per key block): exactly one is set for e4m3");
  if (!fp8 && (p.qScale != nullptr || p.kScale != nullptr || p.kBlockScale != nullptr || p.vScale != nullptr))
    throw ArgumentError("params.qScale, kScale, kBlockScale and vScale are null for bf16");
  try {
    launchAttention(p, stream());
  } catch (const std::invalid_argument& e) {
    throw ArgumentError(e.what());  // the launcher's own checks are argument errors, not CUDA failures
  }
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(Attention, attention, "attention/attention.cu", kFields, run)

}  // namespace fpsattn
