// permute_rows.cu: tile-major gather/scatter of whole token rows.
//
// Computes (see PermuteRowsParams in permute_rows.h):
//   gather:  dst[i, :] = src[rowMap[i], :]   (rowMap[i] = -1 or out of range: a zero row, i.e. padding)
//   scatter: dst[rowMap[i], :] = src[i, :]   (rowMap[i] = -1 or out of range: row i is dropped)
// With rowMap = @fpsattn/tiling's permutation (perm[tileMajor] = raster) gather turns raster order into tile-major
// order and scatter turns it back. Not a general strided copy: rows are contiguous, rowBytes % 16 == 0, so the kernel
// is dtype-agnostic ([tokens, heads * 128] BF16 is the case it is tuned for: 192 vectors per row).
//
// Grid/block: a flat grid-stride loop over (row, 16-byte vector) items, 256 threads, kItemsPerThread = 4 items per
// thread loaded before the first store (four 16-byte loads in flight per thread); no shared memory. Consecutive
// threads move consecutive vectors of a row, so loads and stores are fully coalesced 16-byte accesses. 32-bit index
// math when the item count fits (the common case), 64-bit otherwise.
//
// Gather with channel amax (BF16 rows, PermuteRowsParams::amax set): gatherAmaxKernel, in the block layout of
// common/channel_amax.cuh (shared with the V channel-amax pass); each lane stores what it loads and keeps per-channel
// maxima. The amax comes for free with the copy, so V's quantization needs one pass instead of two.
//
// Check: packages/kernels gpu-test (node --test) compares against the CPU twin on random BF16 rows with poisoned
// outputs; scripts/gpu/run-kernels.sh also runs it under compute-sanitizer memcheck.
#include <cstdint>

#include "common/channel_amax.cuh"
#include "common/cuda_check.h"
#include "common/launch_config.h"
#include "kernels/permute_rows.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;        // threads per block
constexpr int kItemsPerThread = 4;   // 16-byte vectors per thread per iteration (loads in flight)

template <typename Index, bool kScatter>
__global__ void __launch_bounds__(kThreads) permuteRowsKernel(const uint4* __restrict__ src, uint4* __restrict__ dst,
                                                              const int32_t* __restrict__ rowMap, Index mapLen,
                                                              Index vecPerRow, int64_t otherRows) {
  const Index total = mapLen * vecPerRow;
  const Index stride = Index(gridDim.x) * kThreads * kItemsPerThread;
  for (Index base = Index(blockIdx.x) * kThreads * kItemsPerThread + threadIdx.x; base < total; base += stride) {
    uint4 v[kItemsPerThread];
    int64_t to[kItemsPerThread];
#pragma unroll
    for (int k = 0; k < kItemsPerThread; ++k) {
      const Index i = base + Index(k) * kThreads;
      v[k] = make_uint4(0u, 0u, 0u, 0u);
      to[k] = -1;
      if (i < total) {
        const Index row = i / vecPerRow;
        const Index col = i - row * vecPerRow;
        const int32_t mapped = __ldg(rowMap + row);
        const bool valid = mapped >= 0 && int64_t(mapped) < otherRows;
        if (kScatter) {
          if (valid) {
            v[k] = __ldcs(src + i);
            to[k] = int64_t(mapped) * int64_t(vecPerRow) + int64_t(col);
          }
        } else {
          if (valid) v[k] = __ldcs(src + int64_t(mapped) * int64_t(vecPerRow) + int64_t(col));
          to[k] = int64_t(i);
        }
      }
    }
#pragma unroll
    for (int k = 0; k < kItemsPerThread; ++k)
      if (to[k] >= 0) __stcs(dst + to[k], v[k]);
  }
}

/// Gather of BF16 rows that also raises amax[c] (layout and reduction: common/channel_amax.cuh): each lane stores
/// what it loads, so the amax costs no extra pass over memory.
__global__ void __launch_bounds__(kChannelAmaxThreads) gatherAmaxKernel(const uint4* __restrict__ src,
                                                                        uint4* __restrict__ dst,
                                                                        const int32_t* __restrict__ rowMap,
                                                                        uint32_t* __restrict__ amax, int64_t mapLen,
                                                                        int64_t vecPerRow, int64_t srcRows) {
  const ChannelAmaxTile t = channelAmaxTile(mapLen);
  float m[8];
#pragma unroll
  for (int j = 0; j < 8; ++j) m[j] = 0.0f;
  if (t.vec < vecPerRow) {
    for (int64_t r = t.r0; r < t.r1; r += kChannelAmaxRowsInFlight) {
      uint4 q[kChannelAmaxRowsInFlight];
#pragma unroll
      for (int k = 0; k < kChannelAmaxRowsInFlight; ++k) {
        q[k] = make_uint4(0u, 0u, 0u, 0u);  // padding rows (and rows past the end) are zeros
        if (r + k < t.r1) {
          const int32_t mapped = __ldg(rowMap + r + k);
          if (mapped >= 0 && int64_t(mapped) < srcRows) q[k] = __ldcs(src + int64_t(mapped) * vecPerRow + t.vec);
        }
      }
#pragma unroll
      for (int k = 0; k < kChannelAmaxRowsInFlight; ++k) {
        if (r + k >= t.r1) break;
        __stcs(dst + (r + k) * vecPerRow + t.vec, q[k]);
        accumulateAbsMax8(m, q[k]);
      }
    }
  }
  publishBlockChannelAmax(m, t, vecPerRow, amax);
}

template <typename Index>
void launchTyped(const PermuteRowsParams& p, cudaStream_t stream) {
  const int64_t vecPerRow = p.rowBytes / kVecBytes;
  const unsigned grid = flatGrid(p.mapLen * vecPerRow, kThreads, kItemsPerThread);
  const auto* src = static_cast<const uint4*>(p.src);
  auto* dst = static_cast<uint4*>(p.dst);
  if (p.scatter) {
    permuteRowsKernel<Index, true><<<grid, kThreads, 0, stream>>>(src, dst, p.rowMap, Index(p.mapLen),
                                                                  Index(vecPerRow), p.dstRows);
  } else {
    permuteRowsKernel<Index, false><<<grid, kThreads, 0, stream>>>(src, dst, p.rowMap, Index(p.mapLen),
                                                                   Index(vecPerRow), p.srcRows);
  }
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace

void launchPermuteRows(const PermuteRowsParams& p, cudaStream_t stream) {
  if (p.amax != nullptr) {
    // Zeroed first: the kernel only raises maxima, and an empty map leaves every channel at 0.
    FPSATTN_CUDA_CHECK(cudaMemsetAsync(p.amax, 0, size_t(p.rowBytes / 2) * sizeof(float), stream));
    if (p.mapLen == 0 || p.rowBytes == 0) return;
    const int64_t vecPerRow = p.rowBytes / kVecBytes;
    gatherAmaxKernel<<<channelAmaxGrid(vecPerRow, p.mapLen), kChannelAmaxThreads, 0, stream>>>(
        static_cast<const uint4*>(p.src), static_cast<uint4*>(p.dst), p.rowMap, reinterpret_cast<uint32_t*>(p.amax),
        p.mapLen, vecPerRow, p.srcRows);
    FPSATTN_CHECK_LAUNCH();
    return;
  }
  if (p.mapLen == 0 || p.rowBytes == 0) return;
  const int64_t items = p.mapLen * (p.rowBytes / kVecBytes);
  // The grid-stride loop adds up to one stride past `total`: keep headroom below 2^32.
  if (items < (int64_t(1) << 31)) {
    launchTyped<uint32_t>(p, stream);
  } else {
    launchTyped<uint64_t>(p, stream);
  }
}

}  // namespace fpsattn
