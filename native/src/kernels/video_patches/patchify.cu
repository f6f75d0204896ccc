// patchify.cu: latent video f32 [items, C, F, H, W] -> patch rows bf16 [repeat items tokens, C pt ph pw], the DiT's
// patch-embedding GEMM input (math: patchify.h). A pure data movement with one BF16 rounding per value.
//
// Launch shape: grid min(tiles, 2^31 - 1) blocks striding over the tiles, block kThreads = 256, dynamic shared memory
// tokens x paddedLength BF16 values (<= 16 KB, or one token of at most kPatchMaxLength values). A tile is a run of
// `tokens` tokens along w' of one (item, f', h') (patch_grid.h patchTiles; Wan 720p [16, 21, 90, 160], patch
// [1, 2, 2]: the whole row, 80 tokens, 945 tiles per item). Its video side is C pt ph rows (c, dt, dh) of tokens pw
// contiguous floats each, its token side one contiguous run of tokens x C pt ph pw BF16 values. So:
//   load   warp w takes rows w, w + 8, ...; its lanes read consecutive floats of the row (coalesced) and write
//          BF16(value) into the tile in token order: tile[t][((c pt + dt) ph + dh) pw + dw];
//   store  the block writes the tile's run to `out` in order (coalesced), once per repeat.
// The tile's token stride paddedLength is the patch length rounded up to 2 mod 4 values (an odd number of 4-byte
// words), so the load's lanes, one token apart, hit different banks (64 values per token at Wan: stride 66).
// Memory-bound: 4 bytes read and 2 x repeat written per value (Wan 720p, CFG: 19.4 MB read, 19.4 MB written).
// Check: gpu-test/video-patches.test.mjs compares with patchifyCpu bit for bit (small shapes, every patch size, 720p).
#include <algorithm>
#include <cstdint>

#include "common/bf16_round.cuh"
#include "common/cuda_check.h"
#include "kernels/video_patches/patch_tile.cuh"
#include "kernels/video_patches/patchify.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;
constexpr int kWarps = kThreads / 32;
constexpr int64_t kTileValues = 8192;  // staged BF16 values per tile: 16 KB of shared memory

/// The patch length rounded up to 2 mod 4 (bank-conflict padding, see the header).
inline int64_t paddedBf16Length(int64_t length) { return length + (6 - length % 4) % 4; }

__global__ void __launch_bounds__(kThreads) patchifyKernel(const PatchifyParams p, const PatchTiles tiles, int padded) {
  extern __shared__ uint16_t smemTile[];  // [tiles.tokens][padded] BF16 bits
  const PatchGrid& g = p.grid;
  const int rows = int(g.channels) * g.pt * g.ph;  // video rows (c, dt, dh) of a tile
  const int length = rows * g.pw;                 // values per token
  const int64_t tokensPerItem = g.gridF * g.gridH * g.gridW;
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  for (int64_t index = blockIdx.x; index < tiles.count; index += gridDim.x) {
    const TilePosition tile = tilePosition(g, tiles, index);
    const int rowValues = tile.tokens * g.pw;
    // Load: video rows -> BF16 tile in token order.
    for (int row = warp; row < rows; row += kWarps) {
      const float* __restrict__ src = p.latents + videoRowStart(g, tile, row);
      for (int x = lane; x < rowValues; x += 32) {
        const int t = x / g.pw;
        smemTile[t * padded + row * g.pw + (x - t * g.pw)] = uint16_t(bf16BitsRn(__ldcs(src + x)));
      }
    }
    __syncthreads();
    // Store: the tile's contiguous run of token rows, once per batch copy.
    const int values = tile.tokens * length;
    for (int64_t rep = 0; rep < p.repeat; ++rep) {
      uint16_t* __restrict__ dst = p.out + (rep * g.items * tokensPerItem + tile.token0) * length;
      for (int o = threadIdx.x; o < values; o += kThreads) {
        const int t = o / length;
        dst[o] = smemTile[t * padded + (o - t * length)];
      }
    }
    __syncthreads();  // the tile is read before the next one overwrites it
  }
}

}  // namespace

void launchPatchify(const PatchifyParams& p, cudaStream_t stream) {
  const int64_t padded = paddedBf16Length(patchLength(p.grid));
  const PatchTiles tiles = patchTiles(p.grid, padded, kTileValues);
  if (tiles.count == 0 || p.repeat == 0) return;
  const unsigned blocks = unsigned(std::min<int64_t>(tiles.count, 2147483647LL));
  const size_t smemBytes = size_t(tiles.tokens) * size_t(padded) * sizeof(uint16_t);
  patchifyKernel<<<blocks, kThreads, smemBytes, stream>>>(p, tiles, int(padded));
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace fpsattn
