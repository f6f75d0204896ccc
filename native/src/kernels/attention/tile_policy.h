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
constexpr int kStagesFp8 = FPSATTN_ATTN_STAGES_FP8;    // Q 16 KiB + 5 x (K 16 + V^T 16 KiB) + 10 x K scales 0.5 KiB = 181 KiB
constexpr int kStagesBf16 = FPSATTN_ATTN_STAGES_BF16;  // Q 32 KiB + 3 x (K 32 + V 32 KiB) = 224 KiB

// Consumer schedule per variant (compile-time; measured on an H200, README.md ladder):
//   PIPELINE  0: serial per block (S, softmax, P V, each waited); 1: intra-warpgroup overlap (softmax of block i under
//             P V of block i-1); 2: paired (S of block i+1 and P V of block i issued in one turn, one wait). (S in two
//             64-key halves, so that a warpgroup's own WGMMAs run under its own softmax, was 24% slower: ladder step
//             28b, removed.)
//   PINGPONG  1: the two consumer warpgroups take turns issuing their WGMMAs (named barriers 1, 2); 0: each issues as
//             soon as it is ready. (Turns around the exponentials instead were 4-5% slower: ladder step 24, removed.)
// FP8 with per-block K scales: paired (720p sparse 8.74 ms vs 9.27 serial), without ping-pong since ladder step 23
// (720p dense 40.3 vs 41.7 ms, sparse 8.33-8.36 vs 8.51-8.54, same call). FP8 with per-key K scales: paired with each
// block's scales read at the start of its softmax (FPSATTN_ATTN_LATE_KEY_SCALES; read one block ahead they spilled:
// 61.7 vs 51.6 ms serial): equal to serial on packed blocks, 18% faster when every block is ragged (Wan's 120-token
// tiles: 720p dense 61.4 vs 74.4 ms, sparse 12.6 vs 15.3), and 4% faster again without ping-pong (58.9 / 12.2).
// BF16: pipelined + ping-pong (56.8-57.2 ms vs 61.5 ms serial).
#ifndef FPSATTN_ATTN_PIPELINE_FP8
#define FPSATTN_ATTN_PIPELINE_FP8 2
#endif
#ifndef FPSATTN_ATTN_PIPELINE_FP8_KEY_SCALE
#define FPSATTN_ATTN_PIPELINE_FP8_KEY_SCALE 2
#endif
#ifndef FPSATTN_ATTN_PINGPONG_FP8
#define FPSATTN_ATTN_PINGPONG_FP8 0
#endif
// Paired schedule with per-row K scales: read each block's scales at the start of its softmax (1) instead of one block
// ahead, before the pair's wait (0; spills).
#ifndef FPSATTN_ATTN_LATE_KEY_SCALES
#define FPSATTN_ATTN_LATE_KEY_SCALES 1
#endif
#ifndef FPSATTN_ATTN_PIPELINE_BF16
#define FPSATTN_ATTN_PIPELINE_BF16 1
#endif
#ifndef FPSATTN_ATTN_PINGPONG_BF16
#define FPSATTN_ATTN_PINGPONG_BF16 1
#endif
template <bool kFp8, bool kKeyScale = false>
struct Schedule {
  static constexpr int kLoop = !kFp8 ? FPSATTN_ATTN_PIPELINE_BF16
                               : kKeyScale ? FPSATTN_ATTN_PIPELINE_FP8_KEY_SCALE
                                           : FPSATTN_ATTN_PIPELINE_FP8;
  static_assert(kLoop >= 0 && kLoop <= 2, "PIPELINE: 0 serial, 1 pipelined, 2 paired");
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
// 2 saves one FFMA per output element every other block (fp8 dense 720p 43.1 vs 44.9 ms), 4 (default) three of
// four (paired: sparse 8.62 vs 8.78 ms); 4 blocks are 512 keys, far inside the accumulator's precision (README).
#ifndef FPSATTN_ATTN_PV_GROUP
#define FPSATTN_ATTN_PV_GROUP 4
#endif
constexpr int kPvGroup = FPSATTN_ATTN_PV_GROUP;
static_assert(kPvGroup >= 1 && kPvGroup <= 8, "P V group: 1..8 key blocks");

// Independent partial row-max chains in the softmax (1 = one 32-deep chain per row); 4 (default): paired 720p sparse
// 8.35-8.39 ms vs 8.59 with 1 chain. Partial row-sum chains (below) measured slower (8.67 with 2, 8.71 with 4).
#ifndef FPSATTN_ATTN_MAX_CHAINS
#define FPSATTN_ATTN_MAX_CHAINS 4
#endif
constexpr int kMaxChains = FPSATTN_ATTN_MAX_CHAINS;
static_assert(kMaxChains == 1 || kMaxChains == 2 || kMaxChains == 4 || kMaxChains == 8, "max chains: 1, 2, 4 or 8");

// Independent partial row-sum chains in the softmax (1 = one 32-deep FADD chain per row).
#ifndef FPSATTN_ATTN_SUM_CHAINS
#define FPSATTN_ATTN_SUM_CHAINS 1
#endif
constexpr int kSumChains = FPSATTN_ATTN_SUM_CHAINS;
static_assert(kSumChains == 1 || kSumChains == 2 || kSumChains == 4, "sum chains: 1, 2 or 4");

// Per-row K scales: read from global memory (1) instead of a bulk copy into the shared-memory K-scale ring (0).
// Measured slower (720p token dense 64.5 ms, README.md); kept as a switch (no ring, no scaleEmpty barriers).
#ifndef FPSATTN_ATTN_KEY_SCALE_FROM_GLOBAL
#define FPSATTN_ATTN_KEY_SCALE_FROM_GLOBAL 0
#endif
constexpr bool kKeyScaleFromGlobal = FPSATTN_ATTN_KEY_SCALE_FROM_GLOBAL != 0;

// How far ahead the consumers read key-block ids (mainloop.cuh KeyBlockStream): 1 (default) reads block i+1's id and,
// right after, the valid-row count and K block scale that depend on it; 2 reads ids one block earlier, so no load waits
// on another (ncu attributed 11% of the consumers' stall samples to that wait) and measured 1-3% slower (ladder step 21).
#ifndef FPSATTN_ATTN_KEY_ID_AHEAD
#define FPSATTN_ATTN_KEY_ID_AHEAD 1
#endif
constexpr int kKeyIdAhead = FPSATTN_ATTN_KEY_ID_AHEAD;
static_assert(kKeyIdAhead == 1 || kKeyIdAhead == 2, "key id prefetch distance: 1 or 2 blocks");

// Where the paired schedule's consumers get each key block's valid-row count and K block scale (FP8 with per-block K
// scales): from the producer, which stores them next to the block's stage (1: no global load in the consumer loop;
// 720p sparse 8.07-8.14 vs 8.31 ms, ragged tiles 9.88 vs 10.5-10.6), or from global memory, read one block ahead
// after the block id (0; that id load's latency sat in every iteration: trace.cuh, README step 29). Per-row K scales
// keep the global reads: the stage metadata made them 2-4% slower on packed blocks.
#ifndef FPSATTN_ATTN_META_FROM_PRODUCER
#define FPSATTN_ATTN_META_FROM_PRODUCER 1
#endif
// One predicate for both sides: the producer stores the metadata exactly where the paired loop reads it.
template <bool kFp8, bool kKeyScale>
constexpr bool kMetaFromProducer =
    FPSATTN_ATTN_META_FROM_PRODUCER != 0 && !kKeyScale && Schedule<kFp8, kKeyScale>::kLoop == 2;

// Paired schedule: probe the full barrier of the block after next while the pair's WGMMAs run (1), so that the next
// iteration issues its WGMMAs without a barrier round trip when that stage has landed (it nearly always has).
// 720p sparse kblock 8.02 vs 8.15-8.18 ms; 7.94-7.98 with FPSATTN_ATTN_UNIFORM_WG (session 8 call 5, README step 30).
#ifndef FPSATTN_ATTN_PROBE_NEXT
#define FPSATTN_ATTN_PROBE_NEXT 1
#endif
constexpr bool kProbeNext = FPSATTN_ATTN_PROBE_NEXT != 0;

// The consumer warpgroup index as a warp-uniform value (a lane-0 shuffle, which ptxas treats as uniform), so that the
// Q descriptor and its k-step offsets can stay in uniform registers instead of being rebuilt per WGMMA group (1):
// 45 fewer instructions in the FP8 kernel, R2UR 24 -> 9; 720p sparse kblock 8.04-8.12 vs 8.15-8.18 ms alone.
#ifndef FPSATTN_ATTN_UNIFORM_WG
#define FPSATTN_ATTN_UNIFORM_WG 1
#endif

// Timing ablations (harness builds only; results are wrong, run with --no-check): bit 1 replaces the exponentials with
// their FFMA input (no MUFU), bit 2 drops the P V WGMMAs, bit 4 drops the S = Q K^T WGMMAs (bits 2 and 4: paired
// schedule). The time each removes is what that part costs on the critical path (README.md, ladder step 27).
#ifndef FPSATTN_ATTN_DIAG
#define FPSATTN_ATTN_DIAG 0
#endif
constexpr bool kDiagNoExp = (FPSATTN_ATTN_DIAG & 1) != 0;
constexpr bool kDiagNoPv = (FPSATTN_ATTN_DIAG & 2) != 0;
constexpr bool kDiagNoQk = (FPSATTN_ATTN_DIAG & 4) != 0;
// Start consumer warpgroup 1 this many nanoseconds after warpgroup 0 (0 = together): whether the two warpgroups run
// their softmaxes in step (sharing the MUFU) or out of phase, as a timing experiment.
#ifndef FPSATTN_ATTN_DIAG_SKEW_NS
#define FPSATTN_ATTN_DIAG_SKEW_NS 0
#endif

// Registers per thread after setmaxnreg: 24 for the producer, 240 for the consumers (24*128 + 2*240*128 <= 64K).
constexpr int kProducerRegs = 24;
constexpr int kConsumerRegs = 240;

}  // namespace attention
}  // namespace fpsattn
