// gemm: y = act(x . w^T * scales + bias) through cuBLASLt loaded at run time (launcher: blas/gemm.cu, contract:
// blas/gemm.h; TS op: packages/kernels src/ops/gemm.ts). The kernel file is ../blas/gemm.cu: the op runs cuBLASLt's
// kernels, not ours, and blas/ holds everything that talks to that library.
#include "blas/gemm.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#include "blas/blas_error.h"
#endif

namespace fpsattn {
namespace {

/// cuBLASLt takes dimensions as uint64 but its kernels index with int32: one more than that is refused here.
constexpr int64_t kMaxGemmDim = (int64_t(1) << 31) - 1;

constexpr FieldSpec kFields[] = {
    tensorField("x"),
    tensorField("w"),
    optionalTensorField("bias"),
    optionalTensorField("xScale"),
    optionalTensorField("wScale"),
    tensorField("y"),
    intField("m", 0, kMaxGemmDim),
    intField("n", 1, kMaxGemmDim),
    intField("k", 1, kMaxGemmDim),
    intField("batch", 1, kMaxGemmDim),
    enumField("input", kGemmInputNames),
    enumField("output", kGemmOutputNames),
    enumField("epilogue", kGemmEpilogueNames),
    boolField("fastAccum"),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  GemmParams p{};
  p.m = r.integer("m");
  p.n = r.integer("n");
  p.k = r.integer("k");
  p.batch = r.integer("batch");
  p.input = r.choice<GemmInput>("input");
  p.output = r.choice<GemmOutput>("output");
  p.epilogue = r.choice<GemmEpilogue>("epilogue");
  p.fastAccum = r.flag("fastAccum");
  const bool fp8 = p.input == GemmInput::E4M3;
  const bool withBias = p.epilogue == GemmEpilogue::Bias || p.epilogue == GemmEpilogue::GeluBias;
  // 16-byte rows for every operand (cuBLASLt's fast kernels; FP8 on Hopper requires N and K multiples of 16).
  const int64_t multiple = fp8 ? 16 : 8;
  if (p.n % multiple != 0 || p.k % multiple != 0)
    throw ArgumentError("params.n and params.k must be multiples of " + std::to_string(multiple) + " for " +
                        kGemmInputNames[int(p.input)] + " inputs, got n " + std::to_string(p.n) + ", k " +
                        std::to_string(p.k));
  if (fp8 && withBias && p.output != GemmOutput::BF16)
    throw ArgumentError("e4m3 gemm takes a bias only with bf16 output (cuBLASLt's FP8 bias rule)");
  if (!fp8 && p.fastAccum) throw ArgumentError("params.fastAccum applies to e4m3 inputs only");
  if (p.batch > 1 && (fp8 || withBias))
    throw ArgumentError("a batched gemm (params.batch > 1) takes bf16 inputs and no bias, got " +
                        std::string(kGemmInputNames[int(p.input)]) + " inputs, epilogue " +
                        kGemmEpilogueNames[int(p.epilogue)]);
  const int64_t inBytes = fp8 ? 1 : 2;
  p.x = r.tensor("x", bytesOf({p.batch, p.m, p.k, inBytes}));
  p.w = r.tensor("w", bytesOf({p.batch, p.n, p.k, inBytes}));
  p.bias = r.optionalTensor("bias", bytesOf({p.n, gemmBiasIsF32(p.input, p.output) ? 4 : 2}));
  if (withBias != (p.bias != nullptr))
    throw ArgumentError(withBias ? "params.bias is required by epilogue 'bias' and 'gelu-bias'"
                                 : "params.bias must be null for epilogue 'none' and 'gelu'");
  p.xScale = r.optionalTensor<const float>("xScale", 4);
  p.wScale = r.optionalTensor<const float>("wScale", 4);
  if (fp8 != (p.xScale != nullptr) || fp8 != (p.wScale != nullptr))
    throw ArgumentError(fp8 ? "e4m3 gemm needs params.xScale and params.wScale (float32 [1] each)"
                            : "bf16 gemm takes no scales (params.xScale and params.wScale must be null)");
  p.y = r.tensor("y", bytesOf({p.batch, p.m, p.n, p.output == GemmOutput::F32 ? 4 : 2}));
  r.finish();
  try {
    launchGemm(p, stream());
  } catch (const BlasError& e) {
    throw CodedError(e.code(), e.what());
  }
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(Gemm, gemm, "../blas/gemm.cu", kFields, run)

}  // namespace fpsattn
