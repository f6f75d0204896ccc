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
// A stage is released only after the P V of its block retired, one iteration after its S = Q K^T: 3+ stages keep
// the next block's load in flight during that iteration.
#ifndef FPSATTN_ATTN_STAGES_FP8
#define FPSATTN_ATTN_STAGES_FP8 5
#endif
#ifndef FPSATTN_ATTN_STAGES_BF16
#define FPSATTN_ATTN_STAGES_BF16 3
#endif
constexpr int kStagesFp8 = FPSATTN_ATTN_STAGES_FP8;    // Q 16 KiB + 5 x (K 16 + V^T 16 KiB + K scales 0.5 KiB) = 179 KiB
constexpr int kStagesBf16 = FPSATTN_ATTN_STAGES_BF16;  // Q 32 KiB + 3 x (K 32 + V 32 KiB) = 224 KiB

// Consumer schedule per dtype (compile-time; measured on an H200, README.md ladder):
//   PIPELINE  1: intra-warpgroup overlap (softmax of block i under P V of block i-1); 0: serial per block
//   PINGPONG  1: the two consumer warpgroups take turns issuing their WGMMAs (named barriers 1, 2)
// FP8 is fastest serial + ping-pong (703 TFLOP/s at 720p vs 675 pipelined + ping-pong, 696 serial alone: the
// pipelined loop holds S, the P V temporary, O and P at once and its extra latency was not repaid); BF16 is fastest
// pipelined + ping-pong (56.8-57.2 ms vs 61.5 ms serial).
#ifndef FPSATTN_ATTN_PIPELINE_FP8
#define FPSATTN_ATTN_PIPELINE_FP8 0
#endif
#ifndef FPSATTN_ATTN_PINGPONG_FP8
#define FPSATTN_ATTN_PINGPONG_FP8 1
#endif
#ifndef FPSATTN_ATTN_PIPELINE_BF16
#define FPSATTN_ATTN_PIPELINE_BF16 1
#endif
#ifndef FPSATTN_ATTN_PINGPONG_BF16
#define FPSATTN_ATTN_PINGPONG_BF16 1
#endif
template <bool kFp8>
struct Schedule {
  static constexpr bool kPipeline = kFp8 ? FPSATTN_ATTN_PIPELINE_FP8 != 0 : FPSATTN_ATTN_PIPELINE_BF16 != 0;
  static constexpr bool kPingPong = kFp8 ? FPSATTN_ATTN_PINGPONG_FP8 != 0 : FPSATTN_ATTN_PINGPONG_BF16 != 0;
};

// Exponentials on the FMA pipes (softmax.cuh ex2Poly): every kPolyExp2Every-th 8-column group of a thread's 16 takes
// the polynomial instead of MUFU ex2 (0 = none, 4 = a quarter, 8 = an eighth). Measured in README.md's ladder.
#ifndef FPSATTN_ATTN_POLY_EXP2_EVERY
#define FPSATTN_ATTN_POLY_EXP2_EVERY 0
#endif
constexpr int kPolyExp2Every = FPSATTN_ATTN_POLY_EXP2_EVERY;
static_assert(kPolyExp2Every == 0 || (kPolyExp2Every >= 2 && kPolyExp2Every <= 16), "poly exp2 share: 0 or 2..16");

// Two-level accumulation depth of the serial schedule: P V of kPvGroup consecutive key blocks accumulates in the
// WGMMA accumulator (FP8: ~22 mantissa bits) before one fp32 FFMA adds it into the true accumulator. 1 = every block;
// 2 (default) saves one FFMA per output element every other block: fp8 dense 720p 43.1 vs 44.9 ms (README ladder).
#ifndef FPSATTN_ATTN_PV_GROUP
#define FPSATTN_ATTN_PV_GROUP 2
#endif
constexpr int kPvGroup = FPSATTN_ATTN_PV_GROUP;
static_assert(kPvGroup >= 1 && kPvGroup <= 4, "P V group: 1..4 key blocks");

// Registers per thread after setmaxnreg: 24 for the producer, 240 for the consumers (24*128 + 2*240*128 <= 64K).
constexpr int kProducerRegs = 24;
constexpr int kConsumerRegs = 240;

}  // namespace attention
}  // namespace fpsattn
