// trace.cuh: timeline probes of the attention kernel (harness builds with -DFPSATTN_ATTN_TRACE=1 only; every probe
// compiles to nothing otherwise). They answer what the ncu averages cannot: how long one consumer warpgroup spends in
// each phase of a key block, whether the two warpgroups run in or out of phase, and what a CTA pays outside its loop.
//   gTraceCta[blockIdx][8]   (every CTA, up to kTraceCtas): 0 SM id, 1 kernel entry, 2 first S ready (consumer
//                            warpgroup 0), 3 loop end, 4 output stored; times from %globaltimer (ns, all SMs alike);
//                            5, 6: clock64 at entry and at the store, to convert cycles to ns.
//   gTraceIter[sample][wg][it][4] (CTAs with blockIdx % kTraceEvery == 0, first kTraceIters blocks; clock64 of
//                            thread 0 of consumer warpgroup wg): 0 block it's S ready, 1 softmax and P pack done,
//                            2 next stage's full barrier passed (WGMMAs issued right after), 3 the pair retired.
// Host side: attentionTraceCopy (attention.cu) copies both arrays out after a launch.
#pragma once

#include <cstdint>

#ifndef FPSATTN_ATTN_TRACE
#define FPSATTN_ATTN_TRACE 0
#endif

namespace fpsattn {
namespace attention {

constexpr int kTraceCtas = 16384;
constexpr int kTraceEvery = 64;
constexpr int kTraceSampled = 256;
constexpr int kTraceIters = 160;

// The probes and their buffers live in the kernel's translation unit; a host file that includes this header for the
// constants (the harness) defines FPSATTN_ATTN_TRACE_CONSTANTS_ONLY first.
#if FPSATTN_ATTN_TRACE && !defined(FPSATTN_ATTN_TRACE_CONSTANTS_ONLY)
__device__ unsigned long long gTraceCta[kTraceCtas][8];
__device__ unsigned long long gTraceIter[kTraceSampled][2][kTraceIters][4];

__device__ __forceinline__ unsigned long long traceNs() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
__device__ __forceinline__ unsigned traceSmId() {
  unsigned s;
  asm volatile("mov.u32 %0, %%smid;" : "=r"(s));
  return s;
}
#endif

// CTA event e (1..4; 1 also records the SM id and the entry clock, 4 the exit clock) by the calling thread.
#ifndef FPSATTN_ATTN_TRACE_CONSTANTS_ONLY
__device__ __forceinline__ void traceCta(int e) {
#if FPSATTN_ATTN_TRACE
  if (blockIdx.x >= unsigned(kTraceCtas)) return;
  unsigned long long* r = gTraceCta[blockIdx.x];
  r[e] = traceNs();
  if (e == 1) {
    r[0] = traceSmId();
    r[5] = clock64();
  }
  if (e == 4) r[6] = clock64();
#else
  (void)e;
#endif
}

// Iteration event e of key block it, by thread 0 of consumer warpgroup wg, in sampled CTAs.
__device__ __forceinline__ void traceIter(int wg, int it, int e) {
#if FPSATTN_ATTN_TRACE
  if (threadIdx.x % 128 != 0 || blockIdx.x % kTraceEvery != 0 || it >= kTraceIters) return;
  const unsigned sample = blockIdx.x / kTraceEvery;
  if (sample >= unsigned(kTraceSampled)) return;
  gTraceIter[sample][wg][it][e] = clock64();
#else
  (void)wg, (void)it, (void)e;
#endif
}
#endif  // FPSATTN_ATTN_TRACE_CONSTANTS_ONLY

}  // namespace attention
}  // namespace fpsattn
