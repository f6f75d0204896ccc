// Tile-size policy of the attention kernel family. The TS side exports the same numbers as ATTENTION_TILE_POLICY;
// the composed op reads them from there and never hard-codes 128.
//   kBlockM  query rows per CTA tile (2 consumer warpgroups x 64 rows)
//   kBlockN  keys per key block (one CSR entry = one key block = one pipeline stage)
//   kHeadDim the only head dimension implemented (64 is not implemented: the launcher rejects it)
#pragma once

namespace fpsattn {
namespace attention {

constexpr int kBlockM = 128;
constexpr int kBlockN = 128;
constexpr int kHeadDim = 128;

constexpr int kConsumerWarpgroups = 2;
constexpr int kThreads = 128 * (1 + kConsumerWarpgroups);  // warpgroup 0 = producer

// Pipeline depth (key blocks in flight) per dtype, bounded by the 227 KiB of shared memory per CTA.
constexpr int kStagesFp8 = 4;   // Q 16 KiB + 4 x (K 16 + V^T 16 KiB + K scales 0.5 KiB)
constexpr int kStagesBf16 = 2;  // Q 32 KiB + 2 x (K 32 + V 32 KiB)

// Registers per thread after setmaxnreg: 24 for the producer, 240 for the consumers (24*128 + 2*240*128 <= 64K).
constexpr int kProducerRegs = 24;
constexpr int kConsumerRegs = 240;

}  // namespace attention
}  // namespace fpsattn
