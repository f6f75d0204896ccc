// Device memory of the addon: a caching allocator behind integer handles (the stream all work runs on is stream.h).
//
// Handles: every allocation gets a fresh id (never reused), so a stale id from JS is detected ("unknown handle")
// instead of touching freed or reused memory. Blocks: sizes round up (512 B below 1 MiB, 2 MiB above); freed blocks go
// to a size-keyed cache and are reused by later allocations of the same rounded size (or up to 1/8 larger), so
// repeated steps do not call cudaMalloc. Because all kernels and copies run on one stream, a block freed by JS can be
// reused at once: any later use is ordered after the earlier work on that stream. On cudaMalloc failure the cache is
// released and the allocation retried once; after that the error is FPSATTN_OUT_OF_MEMORY.
#pragma once

#if FPSATTN_WITH_CUDA
#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <vector>

namespace fpsattn {

struct AllocatorStats {
  int64_t allocRequests = 0;
  int64_t cacheHits = 0;
  int64_t cudaMallocCalls = 0;
  int64_t cudaFreeCalls = 0;
  int64_t liveBlocks = 0;
  int64_t bytesInUse = 0;   // rounded bytes of live blocks
  int64_t bytesCached = 0;  // bytes held in the cache (free for reuse)
  int64_t peakBytesInUse = 0;
  int64_t oomRetries = 0;
};

struct Block {
  void* ptr;
  int64_t size;       // rounded size
  int64_t requested;  // requested size
};

class CachingAllocator {
 public:
  /// Returns a new handle (>= 1) for at least `bytes` bytes of device memory.
  int64_t allocate(int64_t bytes);
  void release(int64_t handle);
  const Block& block(int64_t handle) const;  // throws ArgumentError for an unknown handle
  bool has(int64_t handle) const;
  void emptyCache();
  const AllocatorStats& stats() const { return stats_; }
  static int64_t roundSize(int64_t bytes);

 private:
  // Handle = generation * 2^24 + slot + 1: slots are reused, generations make every handle unique, so a stale handle
  // never names a newer block. No per-call heap allocation once the tables have grown (the allocator's own cost is
  // part of the step time budget).
  static constexpr int64_t kSlotBits = 24;
  static constexpr int64_t kMaxGeneration = (int64_t(1) << 29) - 1;  // generation << kSlotBits stays below 2^53
  struct Slot {
    Block block;
    int64_t generation;
    bool live;
  };
  const Slot* slotOf(int64_t handle) const;
  std::vector<Slot> slots_;
  std::vector<int64_t> freeSlots_;
  std::map<int64_t, std::vector<void*>> cache_;  // rounded size -> free blocks of that size
  AllocatorStats stats_;
};

CachingAllocator& allocator();

/// Device scratch memory for one op: taken from the caching allocator, given back when the op returns or throws.
/// Giving it back before the kernels that use it have run is safe: everything runs on one stream, so any later user
/// of the block is ordered after them.
class ScopedWorkspace {
 public:
  explicit ScopedWorkspace(int64_t bytes) : handle_(allocator().allocate(bytes)) {}
  ~ScopedWorkspace() {
    try {
      allocator().release(handle_);
    } catch (...) {
      // Unreachable (the handle is ours and live); a destructor must not throw.
    }
  }
  ScopedWorkspace(const ScopedWorkspace&) = delete;
  ScopedWorkspace& operator=(const ScopedWorkspace&) = delete;
  template <typename T>
  T* as() const {
    return static_cast<T*>(allocator().block(handle_).ptr);
  }

 private:
  int64_t handle_;
};

}  // namespace fpsattn
#endif
