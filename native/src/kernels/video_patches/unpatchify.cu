// unpatchify.cu: the DiT head's token vectors f32 [items tokens, pt ph pw C] -> video f32 [items, C, F, H, W] (math:
// unpatchify.h). A pure float32 copy in another order; patchify.cu's tiles in the other direction.
//
// Launch shape: grid min(tiles, 2^31 - 1) blocks striding over the tiles, block kThreads = 256, dynamic shared memory
// tokens x paddedLength floats (<= 32 KB, or one token of at most kPatchMaxLength values). A tile is a run of `tokens`
// tokens along w' of one (item, f', h') (patch_grid.h patchTiles; Wan 720p: the whole row, 80 tokens). Its token side
// is one contiguous run of tokens x pt ph pw C floats, its video side C pt ph rows (c, dt, dh) of tokens pw contiguous
// floats each. So:
//   load   the block copies the tile's run into shared memory in order (coalesced), token t at t x paddedLength;
//   store  warp w takes video rows w, w + 8, ...; its lanes write consecutive floats of the row (coalesced), lane x
//          reading tile[x / pw][((dt ph + dh) pw + x % pw) C + c].
// paddedLength is the patch length made odd, so that tokens sit an odd number of words apart and the store's lanes
// spread over the banks (Wan: 64 values per token, stride 65; lane x reads word 65 (x / 2) + 16 (x % 2) + const, 32
// lanes on 32 banks).
// Memory-bound: 4 bytes read and 4 written per value (Wan 720p, CFG: 38.7 MB each way).
// Check: gpu-test/video-patches.test.mjs compares with unpatchifyCpu bit for bit (small shapes, every patch size, 720p).
#include <algorithm>
#include <cstdint>

#include "common/cuda_check.h"
#include "kernels/video_patches/patch_tile.cuh"
#include "kernels/video_patches/unpatchify.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int64_t kTileValues = 8192;  // staged floats per tile: 32 KB of shared memory

__global__ void __launch_bounds__(kThreads) unpatchifyKernel(const UnpatchifyParams p, const PatchTiles tiles, int padded) {
  extern __shared__ float smemTile[];  // [tiles.tokens][padded]
  const PatchGrid& g = p.grid;
  const int channels = int(g.channels);
  const int rows = channels * g.pt * g.ph;  // video rows (c, dt, dh) of a tile
  const int length = rows * g.pw;           // values per token
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int64_t index = blockIdx.x; index < tiles.count; index += gridDim.x) {
    const TilePosition tile = tilePosition(g, tiles, index);
    // Load: the tile's contiguous run of token vectors.
    const float* __restrict__ src = p.tokens + tile.token0 * length;
    const int values = tile.tokens * length;
    for (int o = threadIdx.x; o < values; o += kThreads) {
      const int t = o / length;
      smemTile[t * padded + (o - t * length)] = __ldcs(src + o);
    }
    __syncthreads();
    // Store: video rows; feature ((dt ph + dh) pw + dw) C + c of each token.
    const int rowValues = tile.tokens * g.pw;
    for (int row = warp; row < rows; row += kWarps) {
      const int c = row / (g.pt * g.ph);
      const int feature0 = (row % (g.pt * g.ph)) * g.pw * channels + c;  // (dt ph + dh) pw C + c
      float* __restrict__ dst = p.out + videoRowStart(g, tile, row);
      for (int x = lane; x < rowValues; x += 32) {
        const int t = x / g.pw;
        dst[x] = smemTile[t * padded + feature0 + (x - t * g.pw) * channels];
      }
    }
    __syncthreads();  // the tile is read before the next one overwrites it
  }
}

}  // namespace

void launchUnpatchify(const UnpatchifyParams& p, cudaStream_t stream) {
  const int64_t length = patchLength(p.grid);
  const int64_t padded = length | 1;
  const PatchTiles tiles = patchTiles(p.grid, padded, kTileValues);
  if (tiles.count == 0) return;
  const unsigned blocks = unsigned(std::min<int64_t>(tiles.count, 2147483647LL));
  const size_t smemBytes = size_t(tiles.tokens) * size_t(padded) * sizeof(float);
  unpatchifyKernel<<<blocks, kThreads, smemBytes, stream>>>(p, tiles, int(padded));
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace fpsattn
