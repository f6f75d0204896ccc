// The part of the cuBLASLt C API the addon calls, declared here because the build machine has no cublasLt.h: the
// library is loaded at run time (cublaslt_loader.h), so nothing of cuBLAS is needed to compile or link the addon.
//
// Every value below is ABI: it must equal the public headers'. Where each was checked (cuBLAS 12.6 headers,
// include/cublasLt.h and include/cublas_api.h; the enums have kept their values from 11.x through 13.x, which are
// ABI-compatible for these calls):
//   cublasStatus_t (cublas_api.h)                      SUCCESS 0, NOT_INITIALIZED 1, ALLOC_FAILED 3, INVALID_VALUE 7,
//                                                      ARCH_MISMATCH 8, MAPPING_ERROR 11, EXECUTION_FAILED 13,
//                                                      INTERNAL_ERROR 14, NOT_SUPPORTED 15, LICENSE_ERROR 16
//   cublasComputeType_t (cublas_api.h)                 CUBLAS_COMPUTE_32F 68
//   cublasOperation_t (cublas_api.h)                   CUBLAS_OP_N 0, CUBLAS_OP_T 1
//   cublasLtMatmulDescAttributes_t (cublasLt.h)        TRANSA 3, TRANSB 4 (int32_t), EPILOGUE 7 (uint32_t),
//                                                      BIAS_POINTER 8 (const void*), A_SCALE_POINTER 17,
//                                                      B_SCALE_POINTER 18 (const void*), FAST_ACCUM 25 (int8_t),
//                                                      BIAS_DATA_TYPE 26 (int32_t)
//   cublasLtEpilogue_t (cublasLt.h)                    DEFAULT 1, BIAS 4, GELU 32, GELU_BIAS 36 (= GELU | BIAS)
//   cublasLtMatmulPreferenceAttributes_t (cublasLt.h)  MAX_WORKSPACE_BYTES 1 (uint64_t), MIN_ALIGNMENT_A/B/C/D_BYTES
//                                                      5/6/7/8 (uint32_t, default 256)
//   cublasLtMatmulHeuristicResult_t (cublasLt.h)       { cublasLtMatmulAlgo_t algo (uint64_t[8]); size_t workspaceSize;
//                                                      cublasStatus_t state; float wavesCount; int reserved[4]; }
//   cudaDataType_t (library_types.h; CUDA 13.0 here)   CUDA_R_32F 0, CUDA_R_16BF 14, CUDA_R_8F_E4M3 28
//                                                      (gemm.cu checks these three against the local header)
// The function signatures follow cublasLt.h; enum parameters are passed as int32_t/uint32_t (same ABI as a C enum).
#pragma once

#include <cstddef>
#include <cstdint>

struct CUstream_st;  // the CUDA runtime's stream type (cudaStream_t is CUstream_st*), declared where it declares it

namespace fpsattn::lt {

// ------------------------------------------------------------------------------------------------- opaque types
using Status = int32_t;  // cublasStatus_t
struct Context;          // cublasLtContext
using Handle = Context*;
struct MatmulDescOpaque;
using MatmulDesc = MatmulDescOpaque*;
struct MatrixLayoutOpaque;
using MatrixLayout = MatrixLayoutOpaque*;
struct MatmulPreferenceOpaque;
using MatmulPreference = MatmulPreferenceOpaque*;
/// cublasLtMatmulAlgo_t: semi-opaque, copied by value, so its size matters.
struct MatmulAlgo {
  uint64_t data[8];
};
struct HeuristicResult {
  MatmulAlgo algo;
  size_t workspaceSize;
  Status state;
  float wavesCount;
  int reserved[4];
};
static_assert(sizeof(MatmulAlgo) == 64, "cublasLtMatmulAlgo_t is 8 x uint64_t");
static_assert(sizeof(HeuristicResult) == 96, "cublasLtMatmulHeuristicResult_t layout");

// ------------------------------------------------------------------------------------------------- enum values
constexpr Status kStatusSuccess = 0;
constexpr Status kStatusNotSupported = 15;

constexpr int32_t kComputeType32F = 68;  // CUBLAS_COMPUTE_32F
constexpr int32_t kOpN = 0;              // CUBLAS_OP_N
constexpr int32_t kOpT = 1;              // CUBLAS_OP_T

// cudaDataType_t
constexpr int32_t kDataR32F = 0;
constexpr int32_t kDataR16BF = 14;
constexpr int32_t kDataR8FE4M3 = 28;

// cublasLtMatmulDescAttributes_t
constexpr int32_t kDescTransA = 3;
constexpr int32_t kDescTransB = 4;
constexpr int32_t kDescEpilogue = 7;
constexpr int32_t kDescBiasPointer = 8;
constexpr int32_t kDescAScalePointer = 17;
constexpr int32_t kDescBScalePointer = 18;
constexpr int32_t kDescFastAccum = 25;
constexpr int32_t kDescBiasDataType = 26;

// cublasLtEpilogue_t
constexpr uint32_t kEpilogueDefault = 1;
constexpr uint32_t kEpilogueBias = 4;
constexpr uint32_t kEpilogueGelu = 32;
constexpr uint32_t kEpilogueGeluBias = kEpilogueGelu | kEpilogueBias;  // 36

// cublasLtMatrixLayoutAttribute_t
constexpr int32_t kLayoutBatchCount = 5;          // int32_t, default 1
constexpr int32_t kLayoutStridedBatchOffset = 6;  // int64_t, in elements, default 0

// cublasLtMatmulPreferenceAttributes_t
constexpr int32_t kPrefMaxWorkspaceBytes = 1;
constexpr int32_t kPrefMinAlignmentABytes = 5;
constexpr int32_t kPrefMinAlignmentBBytes = 6;
constexpr int32_t kPrefMinAlignmentCBytes = 7;
constexpr int32_t kPrefMinAlignmentDBytes = 8;

/// cublasStatus_t names, for messages (the library's own cublasLtGetStatusName is used when it exports one).
inline const char* statusName(Status s) {
  switch (s) {
    case 0: return "CUBLAS_STATUS_SUCCESS";
    case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7: return "CUBLAS_STATUS_INVALID_VALUE";
    case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case 16: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "CUBLAS_STATUS_UNKNOWN";
  }
}

// ------------------------------------------------------------------------------------------------- functions
// cudaStream_t crosses as what it is, a CUstream_st* (the runtime's type, so a cudaStream_t converts without a cast).
using StreamPtr = ::CUstream_st*;

using FnCreate = Status (*)(Handle*);
using FnGetVersion = size_t (*)();
using FnGetCudartVersion = size_t (*)();
using FnGetStatusName = const char* (*)(Status);
using FnGetStatusString = const char* (*)(Status);
using FnMatmulDescCreate = Status (*)(MatmulDesc*, int32_t computeType, int32_t scaleType);
using FnMatmulDescDestroy = Status (*)(MatmulDesc);
using FnMatmulDescSetAttribute = Status (*)(MatmulDesc, int32_t attr, const void* buf, size_t sizeInBytes);
using FnMatrixLayoutCreate = Status (*)(MatrixLayout*, int32_t type, uint64_t rows, uint64_t cols, int64_t ld);
using FnMatrixLayoutDestroy = Status (*)(MatrixLayout);
using FnMatrixLayoutSetAttribute = Status (*)(MatrixLayout, int32_t attr, const void* buf, size_t sizeInBytes);
using FnMatmulPreferenceCreate = Status (*)(MatmulPreference*);
using FnMatmulPreferenceDestroy = Status (*)(MatmulPreference);
using FnMatmulPreferenceSetAttribute = Status (*)(MatmulPreference, int32_t attr, const void* buf, size_t sizeInBytes);
using FnMatmulAlgoGetHeuristic = Status (*)(Handle, MatmulDesc, MatrixLayout a, MatrixLayout b, MatrixLayout c,
                                            MatrixLayout d, MatmulPreference, int requestedAlgoCount,
                                            HeuristicResult results[], int* returnAlgoCount);
using FnMatmul = Status (*)(Handle, MatmulDesc, const void* alpha, const void* a, MatrixLayout aDesc, const void* b,
                            MatrixLayout bDesc, const void* beta, const void* c, MatrixLayout cDesc, void* d,
                            MatrixLayout dDesc, const MatmulAlgo* algo, void* workspace, size_t workspaceSizeInBytes,
                            StreamPtr stream);

/// The loaded library's entry points. getStatusName/getStatusString may be null (older libraries); the rest are
/// required for a library to count as found.
struct Api {
  FnCreate create = nullptr;
  FnGetVersion getVersion = nullptr;
  FnGetCudartVersion getCudartVersion = nullptr;
  FnGetStatusName getStatusName = nullptr;
  FnGetStatusString getStatusString = nullptr;
  FnMatmulDescCreate matmulDescCreate = nullptr;
  FnMatmulDescDestroy matmulDescDestroy = nullptr;
  FnMatmulDescSetAttribute matmulDescSetAttribute = nullptr;
  FnMatrixLayoutCreate matrixLayoutCreate = nullptr;
  FnMatrixLayoutDestroy matrixLayoutDestroy = nullptr;
  FnMatrixLayoutSetAttribute matrixLayoutSetAttribute = nullptr;
  FnMatmulPreferenceCreate matmulPreferenceCreate = nullptr;
  FnMatmulPreferenceDestroy matmulPreferenceDestroy = nullptr;
  FnMatmulPreferenceSetAttribute matmulPreferenceSetAttribute = nullptr;
  FnMatmulAlgoGetHeuristic matmulAlgoGetHeuristic = nullptr;
  FnMatmul matmul = nullptr;
};

}  // namespace fpsattn::lt
