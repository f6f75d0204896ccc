// flowSolverStep: one Euler / UniPC sampler step on device-resident latents (kernel: kernels/flow_solver_step.cu; TS
// op: packages/kernels src/ops/flow-solver-step.ts).
#include "kernels/flow_solver_step.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {
namespace {

/// Element indices are 32-bit (the nonFinite index is an i32).
constexpr int64_t kMaxSolverElements = (int64_t(1) << 31) - 1;

constexpr FieldSpec kFields[] = {
    tensorField("cond"),
    tensorField("uncond"),
    tensorField("sample"),
    tensorField("out"),
    optionalTensorField("x0"),
    optionalTensorField("base"),
    optionalTensorField("lastBase"),
    optionalTensorField("previousX0"),
    optionalTensorField("earlierX0"),
    tensorField("nonFinite"),
    intField("n", 0, kMaxSolverElements),
    enumField("update", kFlowSolverUpdateNames),
    floatField("guidance"),
    floatField("dt"),
    floatField("sigma"),
    floatField("pRatio"),
    floatField("pAlphaPhi1"),
    floatField("pAlphaBh"),
    floatField("pRhoD"),
    boolField("landsOnX0"),
    floatField("cRatio"),
    floatField("cAlphaPhi1"),
    floatField("cAlphaBh"),
    floatField("cRhoD"),
    floatField("cRhoLast"),
};

#if FPSATTN_WITH_CUDA
Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {
  FlowSolverStepParams p{};
  p.n = r.integer("n");
  p.update = r.choice<FlowSolverUpdate>("update");
  const int64_t bytes = bytesOf({p.n, 4});
  p.cond = r.tensor<const float>("cond", bytes);
  p.uncond = r.tensor<const float>("uncond", bytes);
  p.sample = r.tensor<const float>("sample", bytes);
  p.out = r.tensor<float>("out", bytes);
  p.x0 = r.optionalTensor<float>("x0", bytes);
  p.base = r.optionalTensor<float>("base", bytes);
  p.lastBase = r.optionalTensor<const float>("lastBase", bytes);
  p.previousX0 = r.optionalTensor<const float>("previousX0", bytes);
  p.earlierX0 = r.optionalTensor<const float>("earlierX0", bytes);
  p.nonFinite = r.tensor<int32_t>("nonFinite", 4);
  p.guidance = r.number("guidance");
  p.dt = r.number("dt");
  p.sigma = r.number("sigma");
  p.pRatio = r.number("pRatio");
  p.pAlphaPhi1 = r.number("pAlphaPhi1");
  p.pAlphaBh = r.number("pAlphaBh");
  p.pRhoD = r.number("pRhoD");
  p.landsOnX0 = r.flag("landsOnX0");
  p.cRatio = r.number("cRatio");
  p.cAlphaPhi1 = r.number("cAlphaPhi1");
  p.cAlphaBh = r.number("cAlphaBh");
  p.cRhoD = r.number("cRhoD");
  p.cRhoLast = r.number("cRhoLast");
  const bool unipc = p.update != FlowSolverUpdate::Euler;
  const bool corrected = p.update == FlowSolverUpdate::UniPcCorrected;
  if (unipc && (p.x0 == nullptr || p.base == nullptr))
    throw ArgumentError("params.x0 and params.base are required by the UniPC updates");
  if (corrected && (p.lastBase == nullptr || p.previousX0 == nullptr || p.earlierX0 == nullptr))
    throw ArgumentError("params.lastBase, params.previousX0 and params.earlierX0 are required by update 'unipc-corrected'");
  r.finish();
  launchFlowSolverStep(p, stream());
  return info.Env().Undefined();
}
#endif

}  // namespace

FPSATTN_DEFINE_OP(FlowSolverStep, flowSolverStep, "flow_solver_step.cu", kFields, run)

}  // namespace fpsattn
