// attention.cu: kernel shell and launcher of the fused FP8/BF16 block-sparse attention (issue 8, docs/attention-contract.md).
//
//   void launchAttention(const AttentionParams& p, cudaStream_t stream)
// computes out = softmax(Q K^T * scales) V per (batch, head, 128-row query block) over the key blocks of the query
// block's CSR list (all blocks when rowPtr is null), with the exact math of the SPEC (FP8: per-row Q scales, per-row or per-key-block K scales,
// per-channel V scales, P quantized to E4M3 with the fixed scale 448; BF16: P rounded to bf16). No workspace.
//
// Launch: grid = numBlocks * heads * batch CTAs (tile_scheduler.cuh), 384 threads = 1 producer + 2 consumer
// warpgroups (mainloop.cuh), dynamic shared memory SmemLayout<kFp8>::kAlloc (smem_layout.cuh: 186,472 B FP8 with
// 5 stages and the 10-slot K-scale ring, 230,456 B BF16 with 3 stages), 1 CTA per SM. Consumer schedule per dtype: tile_policy.h Schedule. Tensor maps (TMA descriptors) are built on the host per call from the params
// (cuTensorMapEncodeTiled, fetched through cudaGetDriverEntryPointByVersion: no libcuda link) and passed as
// __grid_constant__ parameters:
//   FP8  Q: 2-D uint8 [H*D, B*Npad] box 128x128;  K: 5-D permuted view of [H*D, B*KNpad] (smem_layout.cuh
//        kFp8KeyOfRow);  V^T: 2-D uint8 [vTokenStride, B*H*D] box 128 keys x 128 channels.
//   BF16 Q: 2-D bf16 [H*D, B*Npad], K, V: [H*D, B*KNpad], box 64 x 128 (two boxes per 128-column head).
// KNpad = keyNpad with a separate key geometry (cross-attention), else npad: the launcher resolves the key fields
// (keyBlocks, keyNpad, keyValidRows) to the queries' geometry when they are unset, so the kernel always reads them.
// All with 128-byte swizzle. Checks: headDim must be 128, dtype 0/1, pointers 16-byte aligned, B*Npad, B*KNpad and
// B*H*D within int32 TMA coordinates, a consistent key geometry; violations throw std::invalid_argument before any
// launch.
#include <cuda.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <stdexcept>
#include <string>

#include "common/cuda_check.h"
#include "kernels/attention/attention_params.h"
#include "kernels/attention/epilogue.cuh"
#include "kernels/attention/hopper_ptx.cuh"
#include "kernels/attention/mainloop.cuh"
#include "kernels/attention/smem_layout.cuh"
#include "kernels/attention/tile_policy.h"
#include "kernels/attention/tile_scheduler.cuh"

namespace fpsattn {
namespace attention {
namespace {

template <bool kFp8, bool kKeyScale>
__global__ void __launch_bounds__(kThreads, 1)
    attentionKernel(const __grid_constant__ CUtensorMap tmQ, const __grid_constant__ CUtensorMap tmK,
                    const __grid_constant__ CUtensorMap tmV, const AttentionParams p) {
  using L = SmemLayout<kFp8>;
  extern __shared__ __align__(1024) uint8_t smemRaw[];
  const uint32_t rawAddr = ptx::smemAddr(smemRaw);
  const uint32_t base = (rawAddr + 1023u) & ~1023u;
  const TileCoord c = tileOf(blockIdx.x, p);
  const KeyList list = keyListOf(p, c);
  const int wg = threadIdx.x / 128;
  if (threadIdx.x == 0) traceCta(1);

  if (threadIdx.x == 0) {
    ptx::mbarInit(L::qFull(base), 1);
    for (int s = 0; s < L::kStages; ++s) {
      ptx::mbarInit(L::full(base, s), 1);
      ptx::mbarInit(L::empty(base, s), kEmptyArrivals);
    }
    if constexpr (kScalesInSmem<kKeyScale>) {  // K-scale ring (mainloop.cuh): every consumer thread arrives
      ptx::mbarInit(L::scaleEmpty(base, 0), kScaleEmptyArrivals);
      ptx::mbarInit(L::scaleEmpty(base, 1), kScaleEmptyArrivals);
    }
    ptx::fenceBarrierInit();
  }
  __syncthreads();

  if (wg == 0) {
    ptx::setMaxRegsDec<kProducerRegs>();
    if (threadIdx.x == 0) producerLoop<kFp8, kKeyScale>(p, &tmQ, &tmK, &tmV, base, c, list);
  } else {
    ptx::setMaxRegsInc<kConsumerRegs>();
    // FPSATTN_ATTN_UNIFORM_WG (tile_policy.h): the same value, through a lane-0 shuffle that ptxas knows is uniform.
    const int cw = FPSATTN_ATTN_UNIFORM_WG ? __shfl_sync(0xffffffffu, wg - 1, 0) : wg - 1;
    const int t = threadIdx.x % 128;
    const int rowInTile0 = cw * 64 + (t / 32) * 16 + (t % 32) / 4;
    const int quadLane = t % 4;
    float acc[64];
    OnlineSoftmax<kFp8, kKeyScale> sm;
    if constexpr (Schedule<kFp8>::kPingPong) {
      if (cw == 1) ptx::namedBarArrive(1, 2 * 128);  // consumer warpgroup 0 takes the first turn
    }
    if constexpr (FPSATTN_ATTN_DIAG_SKEW_NS > 0) {
      if (cw == 1) __nanosleep(FPSATTN_ATTN_DIAG_SKEW_NS);
    }
    if constexpr (Schedule<kFp8, kKeyScale>::kLoop == 1) {
      consumerLoop<kFp8, kKeyScale>(p, base, c, list, cw, rowInTile0, quadLane, acc, sm, smemRaw, rawAddr);
    } else if constexpr (Schedule<kFp8, kKeyScale>::kLoop == 2) {
      consumerLoopPaired<kFp8, kKeyScale>(p, base, c, list, cw, rowInTile0, quadLane, acc, sm, smemRaw, rawAddr);
    } else {
      consumerLoopSerial<kFp8, kKeyScale>(p, base, c, list, cw, rowInTile0, quadLane, acc, sm, smemRaw, rawAddr);
    }
    if (threadIdx.x == 128) traceCta(3);
    sm.finish();
    storeOutput<kFp8>(p, c, acc, sm.l, rowInTile0, quadLane);
    if (threadIdx.x == 128) traceCta(4);
  }
}

using EncodeTiledFn = CUresult (*)(CUtensorMap*, CUtensorMapDataType, cuuint32_t, void*, const cuuint64_t*,
                                   const cuuint64_t*, const cuuint32_t*, const cuuint32_t*, CUtensorMapInterleave,
                                   CUtensorMapSwizzle, CUtensorMapL2promotion, CUtensorMapFloatOOBfill);

EncodeTiledFn encodeTiled() {
  static EncodeTiledFn fn = nullptr;
  static std::once_flag once;
  static cudaError_t status = cudaSuccess;
  std::call_once(once, [] {
    void* ptr = nullptr;
    cudaDriverEntryPointQueryResult q = cudaDriverEntryPointSymbolNotFound;
    status = cudaGetDriverEntryPointByVersion("cuTensorMapEncodeTiled", &ptr, 12000, cudaEnableDefault, &q);
    if (status == cudaSuccess && q != cudaDriverEntryPointSuccess) status = cudaErrorSymbolNotFound;
    fn = reinterpret_cast<EncodeTiledFn>(ptr);
  });
  FPSATTN_CUDA_CHECK(status);
  return fn;
}

void makeMap(CUtensorMap* map, CUtensorMapDataType type, int rank, const void* ptr, const cuuint64_t* dims,
             const cuuint64_t* stridesBytes, const cuuint32_t* box, const char* what) {
  cuuint32_t elementStrides[5] = {1, 1, 1, 1, 1};
  const CUresult r = encodeTiled()(map, type, cuuint32_t(rank), const_cast<void*>(ptr), dims, stridesBytes, box,
                                   elementStrides, CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                   CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS)
    throw std::invalid_argument(std::string("launchAttention: cuTensorMapEncodeTiled failed for ") + what +
                                " (CUresult " + std::to_string(int(r)) + ")");
}

void require(bool ok, const char* rule) {
  if (!ok) throw std::invalid_argument(std::string("launchAttention: ") + rule);
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

}  // namespace
}  // namespace attention

void launchAttention(const AttentionParams& params, cudaStream_t stream) {
  using namespace attention;
  // The key geometry, resolved once: unset (keyValidRows null, keyBlocks 0) = the queries' geometry.
  AttentionParams p = params;
  if (p.keyValidRows == nullptr) {
    require(p.keyBlocks == 0 || p.keyBlocks == p.numBlocks,
            "keyBlocks without keyValidRows: set keyValidRows [keyBlocks] for a separate key geometry, or keyBlocks 0");
    require(p.keyNpad == 0 || p.keyNpad == p.npad,
            "keyNpad without keyValidRows: set keyValidRows [keyBlocks] for a separate key geometry, or keyNpad 0");
    p.keyValidRows = p.blockValidRows;
    p.keyBlocks = p.numBlocks;
    p.keyNpad = p.npad;
  } else {
    require(p.keyBlocks >= 1, "keyBlocks must be >= 1 with keyValidRows (a separate key geometry)");
    require(p.keyNpad == int64_t(p.keyBlocks) * kBlockN, "keyNpad must be keyBlocks * 128");
  }
  require(p.dtype == kAttentionBf16 || p.dtype == kAttentionE4m3, "dtype must be 0 (bf16) or 1 (e4m3)");
  require(p.headDim == kHeadDim, "headDim must be 128 (64 is not implemented)");
  require(p.batch >= 1 && p.heads >= 1 && p.numBlocks >= 1, "batch, heads and numBlocks must be >= 1");
  require(p.listHeads == 1 || p.listHeads == p.heads, "listHeads must be 1 or heads");
  require(p.npad == int64_t(p.numBlocks) * kBlockM, "npad must be numBlocks * 128");
  require(p.q && p.k && p.v && p.out && p.blockValidRows, "q, k, v, out and blockValidRows are required");
  require(p.rowPtr == nullptr || p.colIdx != nullptr, "colIdx is required with rowPtr");
  require(aligned16(p.q) && aligned16(p.k) && aligned16(p.v) && aligned16(p.out), "q, k, v, out must be 16-byte aligned");
  const int64_t hd = int64_t(p.heads) * kHeadDim;
  const int64_t rows = int64_t(p.batch) * p.npad;
  const int64_t keyRows = int64_t(p.batch) * p.keyNpad;
  require(rows < (int64_t(1) << 31) && keyRows < (int64_t(1) << 31) && int64_t(p.batch) * hd < (int64_t(1) << 31),
          "batch * npad, batch * keyNpad and batch * heads * 128 must fit TMA's int32 coordinates");
  require(int64_t(p.numBlocks) * p.heads * p.batch < (int64_t(1) << 31), "too many query tiles for one grid");
  const bool fp8 = p.dtype == kAttentionE4m3;
  if (fp8) {
    require(p.qScale && p.vScale, "e4m3 needs qScale and vScale");
    require((p.kScale != nullptr) != (p.kBlockScale != nullptr), "e4m3 needs exactly one of kScale (per key) and kBlockScale (per key block)");
    require(p.kScale == nullptr || aligned16(p.kScale), "kScale must be 16-byte aligned");
    require(p.vTokenStride >= p.keyNpad && p.vTokenStride % 16 == 0,
            "vTokenStride must be >= the key rows (keyNpad, or npad without separate keys) and a multiple of 16");
  }

  CUtensorMap tmQ, tmK, tmV;
  if (fp8) {
    const cuuint64_t dq[2] = {cuuint64_t(hd), cuuint64_t(rows)};
    const cuuint64_t sq[1] = {cuuint64_t(hd)};
    const cuuint32_t bq[2] = {128, 128};
    makeMap(&tmQ, CU_TENSOR_MAP_DATA_TYPE_UINT8, 2, p.q, dq, sq, bq, "q");
    // K as [D][b:2][q:4][g:2][rows/16] (smem_layout.cuh kFp8KeyOfRow).
    const cuuint64_t R = cuuint64_t(hd);
    const cuuint64_t dk[5] = {cuuint64_t(hd), 2, 4, 2, cuuint64_t(keyRows / 16)};
    const cuuint64_t sk[4] = {R, 4 * R, 2 * R, 16 * R};
    const cuuint32_t bk[5] = {128, 2, 4, 2, 8};
    makeMap(&tmK, CU_TENSOR_MAP_DATA_TYPE_UINT8, 5, p.k, dk, sk, bk, "k");
    const cuuint64_t dv[2] = {cuuint64_t(p.vTokenStride), cuuint64_t(p.batch * hd)};
    const cuuint64_t sv[1] = {cuuint64_t(p.vTokenStride)};
    const cuuint32_t bv[2] = {128, 128};
    makeMap(&tmV, CU_TENSOR_MAP_DATA_TYPE_UINT8, 2, p.v, dv, sv, bv, "v");
  } else {
    const cuuint64_t d[2] = {cuuint64_t(hd), cuuint64_t(rows)};
    const cuuint64_t dk[2] = {cuuint64_t(hd), cuuint64_t(keyRows)};
    const cuuint64_t s[1] = {cuuint64_t(hd * 2)};
    const cuuint32_t b[2] = {64, 128};
    makeMap(&tmQ, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, p.q, d, s, b, "q");
    makeMap(&tmK, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, p.k, dk, s, b, "k");
    makeMap(&tmV, CU_TENSOR_MAP_DATA_TYPE_BFLOAT16, 2, p.v, dk, s, b, "v");
  }

  const unsigned grid = unsigned(int64_t(p.numBlocks) * p.heads * p.batch);
  auto launch = [&](auto kernel, uint32_t smem) {
    FPSATTN_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
    kernel<<<grid, kThreads, smem, stream>>>(tmQ, tmK, tmV, p);
  };
  if (!fp8) {
    launch(attentionKernel<false, false>, SmemLayout<false>::kAlloc);
  } else if (p.kScale != nullptr) {
    launch(attentionKernel<true, true>, SmemLayout<true>::kAlloc);
  } else {
    launch(attentionKernel<true, false>, SmemLayout<true>::kAlloc);
  }
  FPSATTN_CHECK_LAUNCH();
}

#if FPSATTN_ATTN_TRACE
// Harness builds with -DFPSATTN_ATTN_TRACE=1 (trace.cuh): the timeline probes of the last launch.
void attentionTraceCopy(void* cta, size_t ctaBytes, void* iter, size_t iterBytes) {
  FPSATTN_CUDA_CHECK(cudaDeviceSynchronize());
  FPSATTN_CUDA_CHECK(cudaMemcpyFromSymbol(cta, attention::gTraceCta, std::min(ctaBytes, sizeof attention::gTraceCta)));
  FPSATTN_CUDA_CHECK(
      cudaMemcpyFromSymbol(iter, attention::gTraceIter, std::min(iterBytes, sizeof attention::gTraceIter)));
}
#endif
}  // namespace fpsattn
