// Params and launcher of gemm.cu (native op gemm: binding native/src/ops/gemm.cpp, TS op packages/kernels
// src/ops/gemm.ts, whose CPU twin computes the same product in float64).
//
//   y[M, N] = act(xScale * wScale * x[M, K] . w[N, K]^T + bias[N])      (scales: e4m3 inputs only; act: none or GELU)
//   batch > 1: y[b] = act(x[b] . w[b]^T) for b < batch, each operand a contiguous run of `batch` matrices
//   (x [batch, M, K], w [batch, N, K], y [batch, M, N]; bf16 inputs, no bias): one strided-batched cuBLASLt matmul.
//
// Layouts are row-major as PyTorch's nn.Linear stores them: x is [tokens, in], w is [out, in], y is [tokens, out]
// (M = batch * tokens). cuBLASLt is column-major, so gemm.cu computes y^T = w . x^T: a row-major [R, C] matrix is a
// column-major [C, R] one with the same bytes. GELU is the tanh approximation (cuBLASLt's GELU epilogue):
//   gelu(v) = 0.5 v (1 + tanh(sqrt(2 / pi) (v + 0.044715 v^3)))
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

/// Input element type of x and w (both the same): BF16, or FP8 E4M3 with one float32 scale per tensor.
enum class GemmInput : int32_t { BF16 = 0, E4M3 = 1 };
inline constexpr const char* kGemmInputNames[] = {"bf16", "e4m3"};
/// Output element type of y.
enum class GemmOutput : int32_t { BF16 = 0, F32 = 1 };
inline constexpr const char* kGemmOutputNames[] = {"bf16", "f32"};
/// What cuBLASLt's epilogue adds to the float32 product before it is stored.
enum class GemmEpilogue : int32_t { None = 0, Bias = 1, Gelu = 2, GeluBias = 3 };
inline constexpr const char* kGemmEpilogueNames[] = {"none", "bias", "gelu", "gelu-bias"};

/// The bias element type cuBLASLt accepts for each input/output pair: the output type for BF16 inputs (its rule:
/// bias type = D type), BF16 for E4M3 inputs (which take a bias only with BF16 output; the binding checks that).
constexpr bool gemmBiasIsF32(GemmInput in, GemmOutput out) { return in == GemmInput::BF16 && out == GemmOutput::F32; }

struct GemmParams {
  const void* x;         // [m, k] bf16 or e4m3, row-major (k contiguous)
  const void* w;         // [n, k] same type, row-major
  const void* bias;      // [n] (type: gemmBiasIsF32), or nullptr without a bias epilogue
  const float* xScale;   // [1] e4m3 only: x's value = code * xScale (nullptr for bf16)
  const float* wScale;   // [1] e4m3 only
  void* y;               // [m, n] bf16 or f32, row-major
  int64_t m;             // rows of x and y (>= 0; 0 launches nothing)
  int64_t n;             // rows of w, columns of y: a multiple of 8 (16 for e4m3)
  int64_t k;             // columns of x and w: a multiple of 8 (16 for e4m3)
  int64_t batch;         // >= 1: products in the strided batch (> 1: bf16 inputs, no bias epilogue)
  GemmInput input;
  GemmOutput output;
  GemmEpilogue epilogue;
  bool fastAccum;        // e4m3 only: cuBLASLt's FP8 fast accumulation (no periodic promotion to float32)
};

/// Enqueues the product on `stream` through cuBLASLt (loaded at run time). Throws BlasError
/// FPSATTN_CUBLASLT_NOT_FOUND when no library loads, FPSATTN_CUBLASLT_ERROR naming the call and status otherwise.
void launchGemm(const GemmParams& p, cudaStream_t stream);

/// Workspace offered to cuBLASLt's heuristics (and allocated from the addon's caching allocator when an algorithm
/// asks for it): 32 MiB, what cuBLAS itself reserves on Hopper.
constexpr int64_t kGemmWorkspaceBytes = int64_t(32) << 20;

}  // namespace fpsattn
