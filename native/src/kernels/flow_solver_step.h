// Params and launcher of flow_solver_step.cu (native op flowSolverStep: binding native/src/ops/flow_solver_step.cpp,
// TS op packages/kernels src/ops/flow-solver-step.ts).
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// The update of one sampler step; crosses the JS boundary as the string of the same index.
enum class FlowSolverUpdate : int32_t { Euler = 0, UniPc = 1, UniPcCorrected = 2 };
inline constexpr const char* kFlowSolverUpdateNames[] = {"euler", "unipc", "unipc-corrected"};

/// One step of @fpsattn/wan's host samplers (packages/wan src/sampler/euler-solver.ts, _unipc-passes.ts), per
/// element k, every operation a float64 __d*_rn (no FMA), stored values rounded once with __double2float_rn:
///   v = f32(uncond + guidance (cond - uncond))                                   (the guided velocity)
///   euler:            out = f32(sample + dt v)
///   unipc:            m = f32(sample - sigma v); x0 = m; base = sample
///                     out = landsOnX0 ? m : f32(pRatio sample - pAlphaPhi1 m - pAlphaBh (pRhoD (m - m)))
///   unipc-corrected:  m = f32(sample - sigma v); m1 = previousX0
///                     x = f32(cRatio lastBase - cAlphaPhi1 m1 - cAlphaBh (cRhoD (earlierX0 - m1) + cRhoLast (m - m1)))
///                     x0 = m; base = x; out = f32(pRatio x - pAlphaPhi1 m - pAlphaBh (pRhoD (m1 - m)))
/// (sums left to right, as JavaScript evaluates them). nonFinite[0] = min(nonFinite[0], k) for every k whose v is NaN or
/// infinite: the caller sets it to a sentinel >= n first. Bit-identical to the CPU twin where v is finite.
struct FlowSolverStepParams {
  // --- velocity (read only)
  const float* cond;        // f32 [n]
  const float* uncond;      // f32 [n] (may be cond: with guidance -1, v = cond exactly)
  // --- samples: out may be sample (each element is read before it is written)
  const float* sample;      // f32 [n], x_i as the model saw it
  float* out;               // f32 [n], x_{i+1}
  float* x0;                // f32 [n], receives m_i (UniPC only, else nullptr)
  float* base;              // f32 [n], receives x_i as the predictor used it (UniPC only)
  const float* lastBase;    // f32 [n], x_{i-1} as the last predictor used it (corrected only)
  const float* previousX0;  // f32 [n], m_{i-1} (corrected only)
  const float* earlierX0;   // f32 [n], m_{i-2}, or m_{i-1} at corrector order 1 (corrected only)
  int32_t* nonFinite;       // i32 [1], atomicMin of the first non-finite index
  // --- sizes and the update
  int64_t n;                // at most 2^31 - 1
  FlowSolverUpdate update;
  // --- host-computed float64 scalars (unused ones 0)
  double guidance;
  double dt;                // euler: sigma_{i+1} - sigma_i
  double sigma;             // unipc: sigma_i
  double pRatio, pAlphaPhi1, pAlphaBh, pRhoD;   // predictor
  bool landsOnX0;                               // predictor: sigma_{i+1} = 0
  double cRatio, cAlphaPhi1, cAlphaBh, cRhoD, cRhoLast;  // corrector
};

void launchFlowSolverStep(const FlowSolverStepParams& p, cudaStream_t stream);

}  // namespace fpsattn
