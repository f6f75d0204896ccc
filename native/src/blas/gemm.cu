// gemm: y[M, N] = act(xScale * wScale * x[M, K] . w[N, K]^T + bias[N]) through cuBLASLt (no kernel of our own: the
// library, loaded at run time, runs its own; see gemm.h for the contract).
//
// Layout mapping (cuBLASLt is column-major; a row-major [R, C] matrix is a column-major [C, R] one, same bytes):
//   D = y^T  column-major [N, M], ld N             (rows of D = N: the bias runs along them, one value per output)
//   A = w    column-major [K, N], ld K, op(A) = T  (so op(A) = w as [N, K])
//   B = x^T  column-major [K, M], ld K, op(B) = N
//   D = epilogue(alpha * scaleA * scaleB * op(A) op(B) + bias), alpha = 1, beta = 0 (C = D, never read)
// This is the "TN" layout (both operands K-major) that FP8 on Hopper requires, and it is what nn.Linear's storage gives.
// FP8: scaleA = wScale, scaleB = xScale (device pointers, CUBLASLT_MATMUL_DESC_A/B_SCALE_POINTER).
// Strided batch (batch > 1, bf16, no bias): each layout gets CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT = batch and
// CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET = its matrix's element count (N K for A, M K for B, M N for D): the
// matrices of each operand lie back to back. The alignments given to the heuristic are those of the base pointers and
// of the batch strides together (every matrix of the batch starts that aligned).
//
// Plans: the matmul descriptor, the four layouts and the heuristic's algorithm are built once per (M, N, K, batch,
// types, epilogue, fast accumulation, operand alignments) and kept; a call then only sets the pointer attributes and
// runs.
// Alignments are part of the key because the heuristic assumes 256-byte aligned operands unless told otherwise
// (CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_*_BYTES) and reads the bias pointer's alignment from its value.
// Workspace: up to kGemmWorkspaceBytes offered to the heuristic; what the chosen algorithm needs is taken from the
// addon's caching allocator for the call (stream-ordered like everything else on the addon's one stream).
// Check: packages/kernels gpu-test/gemm.test.mjs (against the float64 CPU twin, ragged M, every epilogue and type).
#include <cuda_runtime.h>
#include <library_types.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "binding/allocator.h"
#include "blas/blas_error.h"
#include "blas/cublaslt_api.h"
#include "blas/cublaslt_loader.h"
#include "blas/gemm.h"

namespace fpsattn {

// Our declared data-type values against this machine's CUDA headers (the rest of the subset: cublaslt_api.h).
static_assert(lt::kDataR32F == CUDA_R_32F, "CUDA_R_32F");
static_assert(lt::kDataR16BF == CUDA_R_16BF, "CUDA_R_16BF");
static_assert(lt::kDataR8FE4M3 == CUDA_R_8F_E4M3, "CUDA_R_8F_E4M3");

namespace {

std::string statusText(const lt::Api& api, lt::Status s) {
  const char* name = api.getStatusName != nullptr ? api.getStatusName(s) : lt::statusName(s);
  std::string text = std::string(name != nullptr ? name : lt::statusName(s)) + " (" + std::to_string(s) + ")";
  if (api.getStatusString != nullptr && api.getStatusString(s) != nullptr) text += ": " + std::string(api.getStatusString(s));
  return text;
}

void check(const lt::Api& api, lt::Status s, const char* call) {
  if (s != lt::kStatusSuccess) throw BlasError(kCublasLtError, std::string(call) + " failed: " + statusText(api, s));
}

template <typename T>
void setDesc(const lt::Api& api, lt::MatmulDesc d, int32_t attr, const T& value, const char* what) {
  check(api, api.matmulDescSetAttribute(d, attr, &value, sizeof(T)), what);
}

template <typename T>
void setPref(const lt::Api& api, lt::MatmulPreference p, int32_t attr, const T& value, const char* what) {
  check(api, api.matmulPreferenceSetAttribute(p, attr, &value, sizeof(T)), what);
}

/// The process's cuBLASLt handle (created on first use, never destroyed, like the addon's stream).
lt::Handle handle(const lt::Api& api) {
  static lt::Handle h = nullptr;
  if (h == nullptr) check(api, api.create(&h), "cublasLtCreate");
  return h;
}

/// Largest power of two dividing the address, at most 256 (cuBLASLt's default assumption); 256 for nullptr.
uint32_t alignmentOf(const void* p) {
  const auto a = reinterpret_cast<uintptr_t>(p);
  if (a == 0) return 256;
  uint32_t align = 1;
  while (align < 256 && a % (uintptr_t(align) * 2) == 0) align *= 2;
  return align;
}

int32_t dataType(GemmInput in) { return in == GemmInput::E4M3 ? lt::kDataR8FE4M3 : lt::kDataR16BF; }
int32_t dataType(GemmOutput out) { return out == GemmOutput::F32 ? lt::kDataR32F : lt::kDataR16BF; }
bool hasBias(GemmEpilogue e) { return e == GemmEpilogue::Bias || e == GemmEpilogue::GeluBias; }

uint32_t epilogueOf(GemmEpilogue e) {
  switch (e) {
    case GemmEpilogue::None: return lt::kEpilogueDefault;
    case GemmEpilogue::Bias: return lt::kEpilogueBias;
    case GemmEpilogue::Gelu: return lt::kEpilogueGelu;
    case GemmEpilogue::GeluBias: return lt::kEpilogueGeluBias;
  }
  return lt::kEpilogueDefault;
}

/// One cached configuration: descriptors (owned) and the chosen algorithm.
struct Plan {
  lt::MatmulDesc desc = nullptr;
  lt::MatrixLayout a = nullptr, b = nullptr, d = nullptr;  // C uses D's layout (beta = 0)
  lt::MatmulAlgo algo{};
  size_t workspaceBytes = 0;

  void destroy(const lt::Api& api) {
    // Destroy calls only free host memory and cannot fail in a way worth reporting from a cleanup path.
    if (desc != nullptr) (void)api.matmulDescDestroy(desc);
    for (lt::MatrixLayout l : {a, b, d})
      if (l != nullptr) (void)api.matrixLayoutDestroy(l);
    desc = nullptr;
    a = b = d = nullptr;
  }
};

using PlanKey = std::tuple<int64_t, int64_t, int64_t, int64_t, int32_t, int32_t, int32_t, bool, uint32_t, uint32_t,
                           uint32_t, uint32_t>;
/// Distinct shapes in a DiT are few (a dozen per resolution); the bound only guards a caller sweeping shapes.
constexpr size_t kMaxPlans = 256;

std::map<PlanKey, Plan>& plans() {
  static std::map<PlanKey, Plan> p;
  return p;
}

/// Alignment of every matrix of a strided batch: the base pointer's and the stride's (in bytes) together.
uint32_t batchAlignmentOf(const void* p, int64_t batch, int64_t strideBytes) {
  const uint32_t base = alignmentOf(p);
  if (batch <= 1) return base;
  return std::min(base, alignmentOf(reinterpret_cast<const void*>(uintptr_t(strideBytes))));
}

int64_t inBytesOf(const GemmParams& p) { return p.input == GemmInput::E4M3 ? 1 : 2; }
int64_t outBytesOf(const GemmParams& p) { return p.output == GemmOutput::F32 ? 4 : 2; }
uint32_t alignX(const GemmParams& p) { return batchAlignmentOf(p.x, p.batch, p.m * p.k * inBytesOf(p)); }
uint32_t alignW(const GemmParams& p) { return batchAlignmentOf(p.w, p.batch, p.n * p.k * inBytesOf(p)); }
uint32_t alignY(const GemmParams& p) { return batchAlignmentOf(p.y, p.batch, p.m * p.n * outBytesOf(p)); }

std::string describe(const GemmParams& p) {
  return (p.batch > 1 ? "batch " + std::to_string(p.batch) + " x " : std::string()) + "M=" + std::to_string(p.m) +
         " N=" + std::to_string(p.n) + " K=" + std::to_string(p.k) + " input " +
         kGemmInputNames[int(p.input)] + " output " + kGemmOutputNames[int(p.output)] + " epilogue " +
         kGemmEpilogueNames[int(p.epilogue)] + (p.fastAccum ? " fastAccum" : "");
}

/// Sets the pointers a call carries (bias, FP8 scales) on a plan's descriptor.
void setPointers(const lt::Api& api, const Plan& plan, const GemmParams& p) {
  if (hasBias(p.epilogue)) setDesc(api, plan.desc, lt::kDescBiasPointer, p.bias, "cublasLtMatmulDescSetAttribute(BIAS_POINTER)");
  if (p.input == GemmInput::E4M3) {
    const void* a = p.wScale;
    const void* b = p.xScale;
    setDesc(api, plan.desc, lt::kDescAScalePointer, a, "cublasLtMatmulDescSetAttribute(A_SCALE_POINTER)");
    setDesc(api, plan.desc, lt::kDescBScalePointer, b, "cublasLtMatmulDescSetAttribute(B_SCALE_POINTER)");
  }
}

void buildPlan(const lt::Api& api, const GemmParams& p, Plan& plan) {
  const uint64_t m = uint64_t(p.m), n = uint64_t(p.n), k = uint64_t(p.k);
  check(api, api.matmulDescCreate(&plan.desc, lt::kComputeType32F, lt::kDataR32F), "cublasLtMatmulDescCreate");
  setDesc(api, plan.desc, lt::kDescTransA, lt::kOpT, "cublasLtMatmulDescSetAttribute(TRANSA)");
  setDesc(api, plan.desc, lt::kDescTransB, lt::kOpN, "cublasLtMatmulDescSetAttribute(TRANSB)");
  setDesc(api, plan.desc, lt::kDescEpilogue, epilogueOf(p.epilogue), "cublasLtMatmulDescSetAttribute(EPILOGUE)");
  if (hasBias(p.epilogue)) {
    const int32_t biasType = gemmBiasIsF32(p.input, p.output) ? lt::kDataR32F : lt::kDataR16BF;
    setDesc(api, plan.desc, lt::kDescBiasDataType, biasType, "cublasLtMatmulDescSetAttribute(BIAS_DATA_TYPE)");
  }
  if (p.input == GemmInput::E4M3 && p.fastAccum)
    setDesc(api, plan.desc, lt::kDescFastAccum, int8_t(1), "cublasLtMatmulDescSetAttribute(FAST_ACCUM)");
  setPointers(api, plan, p);  // the heuristic reads the bias pointer's alignment
  check(api, api.matrixLayoutCreate(&plan.a, dataType(p.input), k, n, int64_t(k)), "cublasLtMatrixLayoutCreate(A = w)");
  check(api, api.matrixLayoutCreate(&plan.b, dataType(p.input), k, m, int64_t(k)), "cublasLtMatrixLayoutCreate(B = x^T)");
  check(api, api.matrixLayoutCreate(&plan.d, dataType(p.output), n, m, int64_t(n)), "cublasLtMatrixLayoutCreate(D = y^T)");
  if (p.batch > 1) {
    const int32_t count = int32_t(p.batch);  // the binding caps batch at 2^31 - 1
    const struct {
      lt::MatrixLayout layout;
      int64_t stride;  // elements from one matrix of the operand to the next
    } batched[] = {{plan.a, p.n * p.k}, {plan.b, p.m * p.k}, {plan.d, p.m * p.n}};
    for (const auto& l : batched) {
      check(api, api.matrixLayoutSetAttribute(l.layout, lt::kLayoutBatchCount, &count, sizeof(count)),
            "cublasLtMatrixLayoutSetAttribute(BATCH_COUNT)");
      check(api, api.matrixLayoutSetAttribute(l.layout, lt::kLayoutStridedBatchOffset, &l.stride, sizeof(l.stride)),
            "cublasLtMatrixLayoutSetAttribute(STRIDED_BATCH_OFFSET)");
    }
  }

  lt::MatmulPreference pref = nullptr;
  check(api, api.matmulPreferenceCreate(&pref), "cublasLtMatmulPreferenceCreate");
  int found = 0;
  lt::HeuristicResult result{};
  lt::Status st = lt::kStatusSuccess;
  try {
    setPref(api, pref, lt::kPrefMaxWorkspaceBytes, uint64_t(kGemmWorkspaceBytes), "cublasLtMatmulPreferenceSetAttribute(MAX_WORKSPACE_BYTES)");
    setPref(api, pref, lt::kPrefMinAlignmentABytes, alignW(p), "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_A_BYTES)");
    setPref(api, pref, lt::kPrefMinAlignmentBBytes, alignX(p), "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_B_BYTES)");
    setPref(api, pref, lt::kPrefMinAlignmentCBytes, alignY(p), "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_C_BYTES)");
    setPref(api, pref, lt::kPrefMinAlignmentDBytes, alignY(p), "cublasLtMatmulPreferenceSetAttribute(MIN_ALIGNMENT_D_BYTES)");
    st = api.matmulAlgoGetHeuristic(handle(api), plan.desc, plan.a, plan.b, plan.d, plan.d, pref, 1, &result, &found);
  } catch (...) {
    (void)api.matmulPreferenceDestroy(pref);
    throw;
  }
  (void)api.matmulPreferenceDestroy(pref);
  // NOT_SUPPORTED and an empty result both mean: no algorithm for this configuration on this device.
  if (st == lt::kStatusNotSupported || (st == lt::kStatusSuccess && (found == 0 || result.state != lt::kStatusSuccess))) {
    const std::string why = st != lt::kStatusSuccess ? statusText(api, st)
                            : found == 0             ? std::string("no algorithm returned")
                                                     : "result state " + statusText(api, result.state);
    throw BlasError(kCublasLtError, "cublasLtMatmulAlgoGetHeuristic found no algorithm for gemm " + describe(p) +
                                        " on this device (" + why + ")");
  }
  check(api, st, "cublasLtMatmulAlgoGetHeuristic");
  plan.algo = result.algo;
  plan.workspaceBytes = result.workspaceSize;
}

const Plan& planFor(const lt::Api& api, const GemmParams& p) {
  const PlanKey key{p.m, p.n, p.k, p.batch, int32_t(p.input), int32_t(p.output), int32_t(p.epilogue), p.fastAccum,
                    alignX(p), alignW(p), alignY(p), alignmentOf(p.bias)};
  auto& cache = plans();
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  if (cache.size() >= kMaxPlans) {
    for (auto& entry : cache) entry.second.destroy(api);
    cache.clear();
  }
  Plan plan;
  try {
    buildPlan(api, p, plan);
  } catch (...) {
    plan.destroy(api);
    throw;
  }
  return cache.emplace(key, plan).first->second;
}

}  // namespace

void launchGemm(const GemmParams& p, cudaStream_t stream) {
  if (p.m == 0) return;  // an empty product: nothing to store
  const lt::Api& api = cublasLtApi();
  const Plan& plan = planFor(api, p);
  setPointers(api, plan, p);
  const float alpha = 1.0f, beta = 0.0f;  // scale type float32 (CUBLAS_COMPUTE_32F)
  if (plan.workspaceBytes > 0) {
    const ScopedWorkspace workspace(int64_t(plan.workspaceBytes));
    check(api, api.matmul(handle(api), plan.desc, &alpha, p.w, plan.a, p.x, plan.b, &beta, p.y, plan.d, p.y, plan.d,
                          &plan.algo, workspace.as<void>(), plan.workspaceBytes, stream),
          "cublasLtMatmul");
  } else {
    check(api, api.matmul(handle(api), plan.desc, &alpha, p.w, plan.a, p.x, plan.b, &beta, p.y, plan.d, p.y, plan.d,
                          &plan.algo, nullptr, 0, stream),
          "cublasLtMatmul");
  }
}

}  // namespace fpsattn
