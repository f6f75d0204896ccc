// Caching allocator and the memory functions exposed to JS (alloc, free, upload, download, memset, copy, allocator
// stats). See allocator.h for the allocation policy; the stream is binding/stream.cpp.
#include "binding/allocator.h"

#include <napi.h>

#include <cstring>
#include <map>
#include <mutex>

#include "binding/exports.h"
#include "binding/napi_util.h"
#include "binding/stream.h"

#if FPSATTN_WITH_CUDA
namespace fpsattn {

namespace {
constexpr int64_t kSmallRound = 512;
constexpr int64_t kLargeRound = 2 << 20;
constexpr int64_t kLargeThreshold = 1 << 20;
}  // namespace

int64_t CachingAllocator::roundSize(int64_t bytes) {
  if (bytes <= 0) return kSmallRound;
  const int64_t unit = bytes < kLargeThreshold ? kSmallRound : kLargeRound;
  return (bytes + unit - 1) / unit * unit;
}

int64_t CachingAllocator::allocate(int64_t bytes) {
  const int64_t size = roundSize(bytes);
  ++stats_.allocRequests;
  void* ptr = nullptr;
  int64_t got = size;
  auto it = cache_.lower_bound(size);  // size classes with no free block are erased, so this finds a real one
  if (it != cache_.end() && it->first <= size + size / 8) {
    ptr = it->second.back();
    it->second.pop_back();
    got = it->first;
    if (it->second.empty()) cache_.erase(it);
    stats_.bytesCached -= got;
    ++stats_.cacheHits;
  } else {
    cudaError_t st = cudaMalloc(&ptr, size_t(size));
    ++stats_.cudaMallocCalls;
    if (st == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      ++stats_.oomRetries;
      emptyCache();
      st = cudaMalloc(&ptr, size_t(size));
      ++stats_.cudaMallocCalls;
    }
    if (st == cudaErrorMemoryAllocation) {
      (void)cudaGetLastError();
      size_t freeB = 0, totalB = 0;
      (void)cudaMemGetInfo(&freeB, &totalB);
      throw CodedError("FPSATTN_OUT_OF_MEMORY",
                       "out of device memory: cudaMalloc(" + std::to_string(size) + " bytes) failed after releasing " +
                           "the cache; free " + std::to_string(freeB) + " of " + std::to_string(totalB) +
                           " bytes, " + std::to_string(stats_.bytesInUse) + " bytes held by live fpsattn tensors");
    }
    cudaCheck(st, "cudaMalloc", __FILE__, __LINE__);
  }
  int64_t slot;
  if (!freeSlots_.empty()) {
    slot = freeSlots_.back();
    freeSlots_.pop_back();
  } else {
    if (int64_t(slots_.size()) >= (int64_t(1) << kSlotBits) - 1) {
      cache_[got].push_back(ptr);
      throw CodedError("FPSATTN_OUT_OF_MEMORY", "too many live allocations (16M)");
    }
    slot = int64_t(slots_.size());
    slots_.push_back(Slot{Block{nullptr, 0, 0}, 0, false});
  }
  Slot& s = slots_[size_t(slot)];
  s.block = Block{ptr, got, bytes};
  // Generations wrap below 2^29 so that handles stay exact JS numbers (< 2^53): a stale handle could then alias a
  // live one only after 2^29 - 1 reuses of the same slot in between.
  s.generation = s.generation % kMaxGeneration + 1;
  s.live = true;
  ++stats_.liveBlocks;
  stats_.bytesInUse += got;
  if (stats_.bytesInUse > stats_.peakBytesInUse) stats_.peakBytesInUse = stats_.bytesInUse;
  return (s.generation << kSlotBits) + slot + 1;
}

const CachingAllocator::Slot* CachingAllocator::slotOf(int64_t handle) const {
  if (handle < 1) return nullptr;
  const int64_t slot = (handle - 1) & ((int64_t(1) << kSlotBits) - 1);
  const int64_t generation = (handle - 1) >> kSlotBits;
  if (slot >= int64_t(slots_.size())) return nullptr;
  const Slot& s = slots_[size_t(slot)];
  return (s.live && s.generation == generation) ? &s : nullptr;
}

bool CachingAllocator::has(int64_t handle) const { return slotOf(handle) != nullptr; }

void CachingAllocator::release(int64_t handle) {
  Slot* s = const_cast<Slot*>(slotOf(handle));
  if (s == nullptr) throw ArgumentError("unknown or already freed handle " + std::to_string(handle));
  cache_[s->block.size].push_back(s->block.ptr);
  stats_.bytesCached += s->block.size;
  stats_.bytesInUse -= s->block.size;
  --stats_.liveBlocks;
  s->live = false;
  freeSlots_.push_back((handle - 1) & ((int64_t(1) << kSlotBits) - 1));
}

const Block& CachingAllocator::block(int64_t handle) const {
  const Slot* s = slotOf(handle);
  if (s == nullptr)
    throw ArgumentError("unknown or already freed handle " + std::to_string(handle) + " (tensor used after dispose?)");
  return s->block;
}

void CachingAllocator::emptyCache() {
  // A kernel enqueued before a block was freed may still be running on it: wait for the stream before giving memory
  // back to the driver.
  if (stats_.bytesCached > 0) FPSATTN_CUDA_CHECK(cudaStreamSynchronize(stream()));
  for (auto& [size, ptrs] : cache_) {
    for (void* ptr : ptrs) {
      FPSATTN_CUDA_CHECK(cudaFree(ptr));
      ++stats_.cudaFreeCalls;
    }
  }
  cache_.clear();
  stats_.bytesCached = 0;
}

CachingAllocator& allocator() {
  static CachingAllocator instance;
  return instance;
}

// ---------------------------------------------------------------------------------------------- pinned staging
namespace {
std::mutex gPinnedMutex;  // released from worker completion on the main thread; the mutex keeps it simple
std::multimap<size_t, void*> gPinnedFree;

void* takePinned(size_t bytes, size_t* got) {
  {
    std::lock_guard<std::mutex> lock(gPinnedMutex);
    auto it = gPinnedFree.lower_bound(bytes);
    if (it != gPinnedFree.end() && it->first <= bytes * 2) {
      *got = it->first;
      void* p = it->second;
      gPinnedFree.erase(it);
      return p;
    }
  }
  void* p = nullptr;
  FPSATTN_CUDA_CHECK(cudaMallocHost(&p, bytes));
  *got = bytes;
  return p;
}
void givePinned(void* p, size_t bytes) {
  std::lock_guard<std::mutex> lock(gPinnedMutex);
  gPinnedFree.emplace(bytes, p);
}

/// A device pointer for [offset, offset + bytes) of a handle's block, checked against the block's size.
char* rangeOf(int64_t handle, int64_t offset, int64_t bytes) {
  const Block& b = allocator().block(handle);
  if (offset < 0 || bytes < 0 || offset + bytes > b.requested)
    throw ArgumentError("byte range [" + std::to_string(offset) + ", " + std::to_string(offset + bytes) +
                        ") is outside the allocation of " + std::to_string(b.requested) + " bytes");
  return static_cast<char*>(b.ptr) + offset;
}

struct HostView {
  void* data;
  size_t bytes;
};
HostView hostView(const Napi::Value& v, const char* name) {
  if (v.IsTypedArray()) {
    auto ta = v.As<Napi::TypedArray>();
    auto ab = ta.ArrayBuffer();
    return {static_cast<char*>(ab.Data()) + ta.ByteOffset(), ta.ByteLength()};
  }
  if (v.IsArrayBuffer()) {
    auto ab = v.As<Napi::ArrayBuffer>();
    return {ab.Data(), ab.ByteLength()};
  }
  throw ArgumentError(std::string(name) + " must be a TypedArray or ArrayBuffer");
}

class DownloadWorker : public Napi::AsyncWorker {
 public:
  DownloadWorker(Napi::Env env, Napi::Value target, void* host, size_t bytes)
      : Napi::AsyncWorker(env, "fpsattn.download"), deferred_(Napi::Promise::Deferred::New(env)), host_(host),
        bytes_(bytes) {
    target_ = Napi::Persistent(target.As<Napi::Object>());
  }
  ~DownloadWorker() override {
    if (event_ != nullptr) (void)cudaEventDestroy(event_);
    if (pinned_ != nullptr) givePinned(pinned_, pinnedBytes_);
  }
  /// Main thread: enqueue the device-to-pinned copy and an event on the stream.
  void enqueue(const char* src) {
    pinned_ = takePinned(bytes_ == 0 ? 1 : bytes_, &pinnedBytes_);
    FPSATTN_CUDA_CHECK(cudaEventCreateWithFlags(&event_, cudaEventDisableTiming));
    if (bytes_ > 0) FPSATTN_CUDA_CHECK(cudaMemcpyAsync(pinned_, src, bytes_, cudaMemcpyDeviceToHost, stream()));
    FPSATTN_CUDA_CHECK(cudaEventRecord(event_, stream()));
  }
  Napi::Promise promise() { return deferred_.Promise(); }

 protected:
  void Execute() override {  // worker thread: wait without blocking the event loop, then copy out of pinned memory
    const cudaError_t st = cudaEventSynchronize(event_);
    if (st != cudaSuccess) {
      status_ = st;
      SetError(std::string("cudaEventSynchronize failed: ") + cudaGetErrorName(st) + ": " + cudaGetErrorString(st));
      return;
    }
    if (bytes_ > 0) std::memcpy(host_, pinned_, bytes_);
  }
  void OnOK() override { deferred_.Resolve(target_.Value()); }
  void OnError(const Napi::Error& e) override {
    const char* code = status_ == cudaErrorMemoryAllocation ? "FPSATTN_OUT_OF_MEMORY" : "FPSATTN_CUDA_ERROR";
    deferred_.Reject(makeError(Env(), code, std::string("fpsattn.download: ") + e.Message()).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  Napi::ObjectReference target_;
  void* host_;
  size_t bytes_;
  void* pinned_ = nullptr;
  size_t pinnedBytes_ = 0;
  cudaEvent_t event_ = nullptr;
  cudaError_t status_ = cudaSuccess;
};

}  // namespace

// ---------------------------------------------------------------------------------------------- JS functions
static Napi::Value jsAlloc(const Napi::CallbackInfo& info) {
  return guarded(info, "alloc", [&]() -> Napi::Value {
    const int64_t bytes = argInt(info, 0, "bytes", 0, int64_t(1) << 46);
    return Napi::Number::New(info.Env(), double(allocator().allocate(bytes)));
  });
}

static Napi::Value jsFree(const Napi::CallbackInfo& info) {
  return guarded(info, "free", [&]() -> Napi::Value {
    allocator().release(argInt(info, 0, "handle", 1, kMaxSafeInt));
    return info.Env().Undefined();
  });
}

static Napi::Value jsIsLive(const Napi::CallbackInfo& info) {
  return guarded(info, "isLive", [&]() -> Napi::Value {
    return Napi::Boolean::New(info.Env(), allocator().has(argInt(info, 0, "handle", 0, kMaxSafeInt)));
  });
}

static Napi::Value jsUpload(const Napi::CallbackInfo& info) {
  return guarded(info, "upload", [&]() -> Napi::Value {
    const int64_t handle = argInt(info, 0, "handle", 1, kMaxSafeInt);
    const int64_t offset = argInt(info, 1, "byteOffset", 0, kMaxSafeInt);
    if (info.Length() < 3) throw ArgumentError("missing source array");
    const HostView hv = hostView(info[2], "source");
    char* dst = rangeOf(handle, offset, int64_t(hv.bytes));
    // Pageable source: cudaMemcpyAsync returns once the data is staged, so the JS array may change afterwards.
    if (hv.bytes > 0) FPSATTN_CUDA_CHECK(cudaMemcpyAsync(dst, hv.data, hv.bytes, cudaMemcpyHostToDevice, stream()));
    afterOp();
    return info.Env().Undefined();
  });
}

static Napi::Value jsDownloadSync(const Napi::CallbackInfo& info) {
  return guarded(info, "downloadSync", [&]() -> Napi::Value {
    const int64_t handle = argInt(info, 0, "handle", 1, kMaxSafeInt);
    const int64_t offset = argInt(info, 1, "byteOffset", 0, kMaxSafeInt);
    if (info.Length() < 3) throw ArgumentError("missing target array");
    const HostView hv = hostView(info[2], "target");
    const char* src = rangeOf(handle, offset, int64_t(hv.bytes));
    if (hv.bytes > 0) FPSATTN_CUDA_CHECK(cudaMemcpyAsync(hv.data, src, hv.bytes, cudaMemcpyDeviceToHost, stream()));
    FPSATTN_CUDA_CHECK(cudaStreamSynchronize(stream()));
    return info[2];
  });
}

static Napi::Value jsDownload(const Napi::CallbackInfo& info) {
  return guarded(info, "download", [&]() -> Napi::Value {
    const int64_t handle = argInt(info, 0, "handle", 1, kMaxSafeInt);
    const int64_t offset = argInt(info, 1, "byteOffset", 0, kMaxSafeInt);
    if (info.Length() < 3) throw ArgumentError("missing target array");
    const HostView hv = hostView(info[2], "target");
    const char* src = rangeOf(handle, offset, int64_t(hv.bytes));
    auto* worker = new DownloadWorker(info.Env(), info[2], hv.data, hv.bytes);
    try {
      worker->enqueue(src);
    } catch (...) {
      delete worker;
      throw;
    }
    Napi::Promise p = worker->promise();
    worker->Queue();
    return p;
  });
}

static Napi::Value jsMemset(const Napi::CallbackInfo& info) {
  return guarded(info, "memset", [&]() -> Napi::Value {
    const int64_t handle = argInt(info, 0, "handle", 1, kMaxSafeInt);
    const int64_t offset = argInt(info, 1, "byteOffset", 0, kMaxSafeInt);
    const int64_t bytes = argInt(info, 2, "byteLength", 0, kMaxSafeInt);
    const int64_t value = argInt(info, 3, "value", 0, 255);
    char* dst = rangeOf(handle, offset, bytes);
    if (bytes > 0) FPSATTN_CUDA_CHECK(cudaMemsetAsync(dst, int(value), size_t(bytes), stream()));
    afterOp();
    return info.Env().Undefined();
  });
}

static Napi::Value jsCopy(const Napi::CallbackInfo& info) {
  return guarded(info, "copy", [&]() -> Napi::Value {
    const int64_t dstH = argInt(info, 0, "dstHandle", 1, kMaxSafeInt);
    const int64_t dstOff = argInt(info, 1, "dstOffset", 0, kMaxSafeInt);
    const int64_t srcH = argInt(info, 2, "srcHandle", 1, kMaxSafeInt);
    const int64_t srcOff = argInt(info, 3, "srcOffset", 0, kMaxSafeInt);
    const int64_t bytes = argInt(info, 4, "byteLength", 0, kMaxSafeInt);
    char* dst = rangeOf(dstH, dstOff, bytes);
    const char* src = rangeOf(srcH, srcOff, bytes);
    if (bytes > 0) FPSATTN_CUDA_CHECK(cudaMemcpyAsync(dst, src, size_t(bytes), cudaMemcpyDeviceToDevice, stream()));
    afterOp();
    return info.Env().Undefined();
  });
}

static Napi::Value jsAllocatorStats(const Napi::CallbackInfo& info) {
  return guarded(info, "allocatorStats", [&]() -> Napi::Value {
    const AllocatorStats& s = allocator().stats();
    Napi::Object o = Napi::Object::New(info.Env());
    o.Set("allocRequests", double(s.allocRequests));
    o.Set("cacheHits", double(s.cacheHits));
    o.Set("cudaMallocCalls", double(s.cudaMallocCalls));
    o.Set("cudaFreeCalls", double(s.cudaFreeCalls));
    o.Set("liveBlocks", double(s.liveBlocks));
    o.Set("bytesInUse", double(s.bytesInUse));
    o.Set("bytesCached", double(s.bytesCached));
    o.Set("peakBytesInUse", double(s.peakBytesInUse));
    o.Set("oomRetries", double(s.oomRetries));
    return o;
  });
}

static Napi::Value jsEmptyCache(const Napi::CallbackInfo& info) {
  return guarded(info, "emptyCache", [&]() -> Napi::Value {
    allocator().emptyCache();
    return info.Env().Undefined();
  });
}

static Napi::Value jsSetSyncCheck(const Napi::CallbackInfo& info) {
  return guarded(info, "setSyncCheck", [&]() -> Napi::Value {
    setSyncCheck(info.Length() > 0 && info[0].ToBoolean().Value());
    return info.Env().Undefined();
  });
}

void registerMemory(Napi::Env env, Napi::Object exports) {
  exports.Set("alloc", Napi::Function::New(env, jsAlloc, "alloc"));
  exports.Set("free", Napi::Function::New(env, jsFree, "free"));
  exports.Set("isLive", Napi::Function::New(env, jsIsLive, "isLive"));
  exports.Set("upload", Napi::Function::New(env, jsUpload, "upload"));
  exports.Set("download", Napi::Function::New(env, jsDownload, "download"));
  exports.Set("downloadSync", Napi::Function::New(env, jsDownloadSync, "downloadSync"));
  exports.Set("memset", Napi::Function::New(env, jsMemset, "memset"));
  exports.Set("copy", Napi::Function::New(env, jsCopy, "copy"));
  exports.Set("allocatorStats", Napi::Function::New(env, jsAllocatorStats, "allocatorStats"));
  exports.Set("emptyCache", Napi::Function::New(env, jsEmptyCache, "emptyCache"));
  exports.Set("setSyncCheck", Napi::Function::New(env, jsSetSyncCheck, "setSyncCheck"));
}

}  // namespace fpsattn
#endif
