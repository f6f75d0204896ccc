// AttentionParams: the argument block of the fused attention kernel (docs/attention-contract.md).
// Host and device visible, plain data. The caller allocates every buffer (no workspace is needed). Queries have the
// geometry (numBlocks, npad, blockValidRows); keys and values have the key geometry (keyBlocks, keyNpad,
// keyValidRows), which is the queries' own unless set (self-attention; cross-attention sets it: Wan's 512 text keys).
//   q         [B, Npad, H*D]  e4m3 codes (dtype 1) or bf16 (dtype 0), rows tile-major and padded to 128-row blocks
//   k         [B, KNpad, H*D] same dtype as q (KNpad = keyNpad, or npad without separate keys)
//   v         fp8: V^T codes [B, H*D, vTokenStride] (keys contiguous); bf16: [B, KNpad, H*D]
//   qScale    fp8: [B, H, Npad] per-row dequant scale of q (null for bf16)
//   kScale    fp8, per-key K scales: [B, H, KNpad] per-row dequant scale of k; or
//   kBlockScale  fp8, per-key-block K scales: [B, H, KBlocks], one scale for all keys of a block (K quantized per
//             tensor, or per tile with the tile = the attention block): saves a multiply per score. Exactly one of
//             kScale / kBlockScale is set for fp8; both null for bf16
//   vScale    fp8: [B, H*D] per-channel dequant scale of v (null for bf16)
//   blockValidRows [numBlocks]: valid rows of each 128-row query block (0..128); the rest is padding
//   rowPtr    [listHeads, numBlocks + 1] CSR offsets of the key-block lists of each query block (null = dense: key
//             blocks 0..KBlocks-1)
//   colIdx    key block ids of the lists (ascending within a row, < KBlocks)
//   out       bf16 [B, Npad, H*D]; padding rows and rows with no valid key are written as 0
// Separate key geometry (cross-attention): keyValidRows [keyBlocks] valid rows of each 128-row key block, keyBlocks
//   >= 1, keyNpad = keyBlocks * 128. keyValidRows == null and keyBlocks == 0 (the zero-initialised default) means
//   "the queries' geometry": KBlocks = numBlocks, KNpad = npad, key valid rows = blockValidRows. The launcher
//   resolves this once on the host, so the kernel always reads the key fields (no per-block branch).
// Alignment: q, k, v, out 16-byte aligned; kScale 16-byte aligned (bulk copies of 512 bytes per key block).
// Launcher (attention.cu): launchAttention(params, stream) enqueues one kernel on `stream`; throws
// std::invalid_argument for parameters outside the contract and fpsattn::CudaError for CUDA failures.
#pragma once

#include <cstdint>

#include "common/stream_type.h"

namespace fpsattn {

struct AttentionParams {
  const void* q;
  const void* k;
  const void* v;
  const float* qScale;
  const float* kScale;
  const float* vScale;
  const float* kBlockScale;
  const int32_t* blockValidRows;
  const int32_t* rowPtr;
  const int32_t* colIdx;
  void* out;
  int32_t batch, heads, headDim /* 128 */, numBlocks, listHeads /* 1 or heads */;
  int64_t npad /* numBlocks * 128 */, vTokenStride /* >= key rows (keyNpad, or npad), multiple of 16 */;
  float softmaxScale;
  int32_t dtype;  // 0 = bf16, 1 = e4m3
  // Separate key geometry (after the original fields, so positional and `{}` initialisers keep today's meaning).
  const int32_t* keyValidRows;  // [keyBlocks], or null: keys have the queries' geometry
  int32_t keyBlocks;            // 128-row key blocks (0 with keyValidRows null)
  int64_t keyNpad;              // key rows per batch item in k, v (and kScale): keyBlocks * 128 (0 with keyValidRows null)
};

enum AttentionDtype : int32_t { kAttentionBf16 = 0, kAttentionE4m3 = 1 };

void launchAttention(const AttentionParams& p, cudaStream_t stream);

}  // namespace fpsattn
