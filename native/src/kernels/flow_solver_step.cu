// flow_solver_step.cu: one Euler or UniPC step of the flow-matching sampler on device-resident latents, elementwise,
// bit-identical to the host sampler of @fpsattn/wan (math: flow_solver_step.h). Not the DiT: its inputs are the DiT's
// cond and uncond velocities; it replaces the per-step download, host pass and upload of the latents.
//
// Launch shape: a grid-stride loop over the n elements, block kThreads = 256, grid flatGrid(n, 256, kPerThread) (4
// elements per thread). Layout: every tensor is a flat f32 [n] vector (the latents [C, F, H, W] row-major), nonFinite
// one i32. Memory-bound: 12 bytes per element for Euler (cond, uncond, sample in; out), 20 for the first and last
// UniPC step, 32 for the corrected ones; float64 arithmetic (~20 DP operations per element) stays far below the H200's
// DP rate at that traffic.
// Exactness: every operation is an explicit __dadd_rn / __dsub_rn / __dmul_rn (nvcc would contract a * b + c into an
// FMA, which the JavaScript twin cannot reproduce), in the order JavaScript evaluates the host expression; each value
// the host stores in a Float32Array is __double2float_rn (RNE, as Math.fround). No __restrict__ on sample / out: the
// sampler steps in place.
// Check: gpu-test/kernels.test.mjs compares with flowSolverStepCpu bit for bit.
#include <cstdint>

#include "common/cuda_check.h"
#include "common/launch_config.h"
#include "kernels/flow_solver_step.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;
constexpr int kPerThread = 4;  // elements per thread at the grid flatGrid gives (grid-stride: any grid is correct)

__device__ __forceinline__ double guidedValue(float cond, float uncond, double guidance) {
  // f32(u + g (c - u)) formed in float64 (packages/wan _step-velocity.ts guidedValue)
  const double u = double(uncond);
  return double(__double2float_rn(__dadd_rn(u, __dmul_rn(guidance, __dsub_rn(double(cond), u)))));
}

/// a p - b q - c r, left to right, each product rounded, no FMA (the predictor and corrector sums)
__device__ __forceinline__ double threeTerms(double a, double p, double b, double q, double c, double r) {
  return __dsub_rn(__dsub_rn(__dmul_rn(a, p), __dmul_rn(b, q)), __dmul_rn(c, r));
}

template <FlowSolverUpdate kUpdate>
__global__ void __launch_bounds__(kThreads) flowSolverStepKernel(const FlowSolverStepParams p) {
  const int64_t stride = int64_t(gridDim.x) * kThreads;
  int32_t firstBad = INT32_MAX;
  for (int64_t k = int64_t(blockIdx.x) * kThreads + threadIdx.x; k < p.n; k += stride) {
    const double v = guidedValue(p.cond[k], p.uncond[k], p.guidance);
    if (!isfinite(v)) firstBad = min(firstBad, int32_t(k));
    const double x = double(p.sample[k]);
    if constexpr (kUpdate == FlowSolverUpdate::Euler) {
      p.out[k] = __double2float_rn(__dadd_rn(x, __dmul_rn(p.dt, v)));
    } else {
      const float m = __double2float_rn(__dsub_rn(x, __dmul_rn(p.sigma, v)));
      const double md = double(m);
      if constexpr (kUpdate == FlowSolverUpdate::UniPc) {
        p.x0[k] = m;
        p.base[k] = float(x);
        // order 1: m_prev is m_i itself
        p.out[k] = p.landsOnX0 ? m
                               : __double2float_rn(threeTerms(p.pRatio, x, p.pAlphaPhi1, md, p.pAlphaBh,
                                                              __dmul_rn(p.pRhoD, __dsub_rn(md, md))));
      } else {
        const double m1 = double(p.previousX0[k]);
        const double correction = __dadd_rn(__dmul_rn(p.cRhoD, __dsub_rn(double(p.earlierX0[k]), m1)),
                                            __dmul_rn(p.cRhoLast, __dsub_rn(md, m1)));
        const float xc = __double2float_rn(threeTerms(p.cRatio, double(p.lastBase[k]), p.cAlphaPhi1, m1, p.cAlphaBh, correction));
        p.x0[k] = m;
        p.base[k] = xc;
        p.out[k] = __double2float_rn(threeTerms(p.pRatio, double(xc), p.pAlphaPhi1, md, p.pAlphaBh,
                                                __dmul_rn(p.pRhoD, __dsub_rn(m1, md))));
      }
    }
  }
  // one atomic per thread that saw a non-finite velocity (none in a healthy run)
  if (firstBad != INT32_MAX) atomicMin(p.nonFinite, firstBad);
}

template <FlowSolverUpdate kUpdate>
void launchWith(const FlowSolverStepParams& p, cudaStream_t stream) {
  flowSolverStepKernel<kUpdate><<<flatGrid(p.n, kThreads, kPerThread), kThreads, 0, stream>>>(p);
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace

void launchFlowSolverStep(const FlowSolverStepParams& p, cudaStream_t stream) {
  if (p.n == 0) return;
  switch (p.update) {
    case FlowSolverUpdate::Euler: launchWith<FlowSolverUpdate::Euler>(p, stream); break;
    case FlowSolverUpdate::UniPc: launchWith<FlowSolverUpdate::UniPc>(p, stream); break;
    case FlowSolverUpdate::UniPcCorrected: launchWith<FlowSolverUpdate::UniPcCorrected>(p, stream); break;
  }
}

}  // namespace fpsattn
