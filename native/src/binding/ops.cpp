// Kernel bindings: each reads one JS params object, validates it (integers in range, alignment, every tensor's byte
// range inside its allocation and large enough), fills the flat params struct of common/params.h and calls the
// launcher. Tensors arrive as {handle, byteOffset, byteLength} references into the caching allocator.
#include <napi.h>

#include <initializer_list>
#include <optional>
#include <string>

#if FPSATTN_WITH_CUDA
#include "binding/allocator.h"
#include "binding/exports.h"
#include "binding/napi_util.h"
#include "common/params.h"

namespace fpsattn {
namespace {

constexpr int64_t kMaxDim = int64_t(1) << 40;
/// Token rows of the kernels whose grid's y dimension walks the rows: 65,535 blocks of 256 rows (the V transpose;
/// the column reductions take 512 rows per block). packages/kernels MAX_TOKEN_ROWS is the same number.
constexpr int64_t kMaxTokenRows = int64_t(65535) * 256;
/// Largest byte count a size check accepts: 2^53, far above any real tensor and still exact in a JS number.
constexpr int64_t kMaxBytes = int64_t(1) << 53;

/// The product of sizes as a byte count. Each factor may be up to kMaxDim, so the product is computed with overflow
/// checks: a wrapped product could otherwise pass a range check and let a kernel run past its buffer.
int64_t bytesOf(std::initializer_list<int64_t> factors) {
  int64_t n = 1;
  for (const int64_t f : factors) {
    if (f < 0 || __builtin_mul_overflow(n, f, &n) || n > kMaxBytes)
      throw ArgumentError("tensor size overflows: the dimensions multiply past 2^53 bytes");
  }
  return n;
}

/// Device pointer of params[key] = {handle, byteOffset, byteLength}; checks it covers at least `needBytes`, lies inside
/// its allocation and is 16-byte aligned. Optional tensors may be null/undefined (then nullptr).
char* tensorArg(const Napi::Object& params, const char* key, int64_t needBytes, bool optional = false) {
  Napi::Value v = params.Get(key);
  if (v.IsUndefined() || v.IsNull()) {
    if (optional) return nullptr;
    throw ArgumentError(std::string("params.") + key + " (a device tensor) is required");
  }
  if (!v.IsObject()) throw ArgumentError(std::string("params.") + key + " must be a tensor reference");
  Napi::Object t = v.As<Napi::Object>();
  const int64_t handle = fieldInt(t, "handle", 1, kMaxSafeInt);
  const int64_t offset = fieldInt(t, "byteOffset", 0, kMaxSafeInt);
  const int64_t length = fieldInt(t, "byteLength", 0, kMaxSafeInt);
  const Block& b = allocator().block(handle);
  if (offset + length > b.requested)
    throw ArgumentError(std::string("params.") + key + ": byte range outside its allocation");
  if (length < needBytes)
    throw ArgumentError(std::string("params.") + key + " holds " + std::to_string(length) + " bytes, needs " +
                        std::to_string(needBytes));
  if (offset % 16 != 0) throw ArgumentError(std::string("params.") + key + " must start 16-byte aligned");
  return static_cast<char*>(b.ptr) + offset;
}

Fp8Format formatArg(const Napi::Object& params) {
  Napi::Value v = params.Get("format");
  if (!v.IsString()) throw ArgumentError("params.format must be 'e4m3' or 'e5m2'");
  const std::string s = v.As<Napi::String>().Utf8Value();
  if (s == "e4m3") return Fp8Format::E4M3;
  if (s == "e5m2") return Fp8Format::E5M2;
  throw ArgumentError("params.format must be 'e4m3' or 'e5m2', got '" + s + "'");
}

bool isPow2(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

void checkHeads(int64_t cols, int64_t headDim, int64_t heads) {
  if (!isPow2(headDim) || headDim < 16 || headDim > 256)
    throw ArgumentError("params.headDim must be a power of two in [16, 256], got " + std::to_string(headDim));
  if (heads * headDim != cols)
    throw ArgumentError("params.cols (" + std::to_string(cols) + ") must equal heads * headDim (" +
                        std::to_string(heads) + " * " + std::to_string(headDim) + ")");
}

Napi::Value jsPermuteRows(const Napi::CallbackInfo& info) {
  return guarded(info, "permuteRows", [&]() -> Napi::Value {
    Napi::Object o = argObject(info, 0, "params");
    PermuteRowsParams p{};
    p.srcRows = fieldInt(o, "srcRows", 0, kMaxDim);
    p.dstRows = fieldInt(o, "dstRows", 0, kMaxDim);
    p.mapLen = fieldInt(o, "mapLen", 0, kMaxDim);
    p.rowBytes = fieldInt(o, "rowBytes", 0, kMaxDim);
    p.scatter = o.Get("scatter").ToBoolean().Value();
    if (p.rowBytes % 16 != 0) throw ArgumentError("params.rowBytes must be a multiple of 16");
    if (!p.scatter && p.dstRows != p.mapLen) throw ArgumentError("gather: dstRows must equal mapLen");
    if (p.scatter && p.srcRows != p.mapLen) throw ArgumentError("scatter: srcRows must equal mapLen");
    p.src = tensorArg(o, "src", bytesOf({p.srcRows, p.rowBytes}));
    p.dst = tensorArg(o, "dst", bytesOf({p.dstRows, p.rowBytes}));
    p.rowMap = reinterpret_cast<const int32_t*>(tensorArg(o, "rowMap", bytesOf({p.mapLen, 4})));
    // Optional per-channel amax of the gathered BF16 rows (one float per 2 bytes of a row).
    p.amax = reinterpret_cast<float*>(tensorArg(o, "amax", bytesOf({p.rowBytes / 2, 4}), true));
    if (p.amax != nullptr && p.scatter) throw ArgumentError("params.amax is for gather only");
    if (p.amax != nullptr && p.mapLen > kMaxTokenRows)
      throw ArgumentError("params.mapLen must be at most " + std::to_string(kMaxTokenRows) + " with amax");
    launchPermuteRows(p, stream());
    afterOp();
    return info.Env().Undefined();
  });
}

Napi::Value jsChannelMean(const Napi::CallbackInfo& info) {
  return guarded(info, "channelMean", [&]() -> Napi::Value {
    Napi::Object o = argObject(info, 0, "params");
    ChannelMeanParams p{};
    p.rows = fieldInt(o, "rows", 0, kMaxTokenRows);
    p.cols = fieldInt(o, "cols", 0, kMaxDim);
    if (p.cols % 8 != 0) throw ArgumentError("params.cols must be a multiple of 8");
    p.x = tensorArg(o, "x", bytesOf({p.rows, p.cols, 2}));
    p.mean = reinterpret_cast<float*>(tensorArg(o, "mean", bytesOf({p.cols, 4})));
    const ScopedWorkspace partials(channelMeanWorkspaceBytes(p.rows, p.cols));
    p.partials = partials.as<double>();
    launchChannelMean(p, stream());
    afterOp();
    return info.Env().Undefined();
  });
}

Napi::Value jsQuantizeRows(const Napi::CallbackInfo& info) {
  return guarded(info, "quantizeRows", [&]() -> Napi::Value {
    Napi::Object o = argObject(info, 0, "params");
    QuantizeRowsParams p{};
    p.rows = fieldInt(o, "rows", 0, kMaxDim);
    p.cols = fieldInt(o, "cols", 0, kMaxDim);
    p.headDim = int32_t(fieldInt(o, "headDim", 1, 4096));
    p.heads = int32_t(fieldInt(o, "heads", 1, 65535));
    p.groupCount = fieldInt(o, "groupCount", 0, int64_t(1) << 31);
    p.maxGroupRows = fieldInt(o, "maxGroupRows", 0, kMaxDim);
    p.path = int32_t(fieldInt(o, "path", 0, 2));
    p.format = formatArg(o);
    checkHeads(p.cols, p.headDim, p.heads);
    if (p.rows > 0 && p.groupCount == 0) throw ArgumentError("params.groupCount must be >= 1 when rows > 0");
    p.x = tensorArg(o, "x", bytesOf({p.rows, p.cols, 2}));
    p.groupOfRow = reinterpret_cast<const int32_t*>(tensorArg(o, "groupOfRow", bytesOf({p.rows, 4})));
    p.groupStart = reinterpret_cast<const int32_t*>(tensorArg(o, "groupStart", bytesOf({p.groupCount + 1, 4}), true));
    p.mean = reinterpret_cast<const float*>(tensorArg(o, "mean", bytesOf({p.cols, 4}), true));
    p.codes = reinterpret_cast<uint8_t*>(tensorArg(o, "codes", bytesOf({p.rows, p.cols})));
    p.scales = reinterpret_cast<float*>(tensorArg(o, "scales", bytesOf({p.groupCount, p.heads, 4})));
    if (p.path == 2 && (p.groupStart == nullptr || !quantizeRowsUsesFusedPath(p)))
      throw ArgumentError("params.path = 2 (fused) needs groupStart and groups of at most " +
                          std::to_string(quantizeRowsFusedMaxGroupRows(p.headDim)) + " rows");
    const bool fused = quantizeRowsUsesFusedPath(p);
    std::optional<ScopedWorkspace> amaxWork;  // the two-pass path's per-(group, head) amax
    if (!fused) p.amaxWork = amaxWork.emplace(p.groupCount * p.heads * 4).as<uint32_t>();
    launchQuantizeRows(p, stream());
    afterOp();
    Napi::Object r = Napi::Object::New(info.Env());
    r.Set("path", fused ? "fused" : "two-pass");
    return r;
  });
}

Napi::Value jsQuantizeV(const Napi::CallbackInfo& info) {
  return guarded(info, "quantizeV", [&]() -> Napi::Value {
    Napi::Object o = argObject(info, 0, "params");
    QuantizeVParams p{};
    p.rows = fieldInt(o, "rows", 0, kMaxDim);
    p.cols = fieldInt(o, "cols", 0, kMaxDim);
    p.tokenStride = fieldInt(o, "tokenStride", 0, kMaxTokenRows);
    p.format = formatArg(o);
    if (p.cols % 64 != 0) throw ArgumentError("params.cols must be a multiple of 64 for V");
    if (p.tokenStride < p.rows || p.tokenStride % 16 != 0)
      throw ArgumentError("params.tokenStride must be >= rows and a multiple of 16");
    p.v = tensorArg(o, "v", bytesOf({p.rows, p.cols, 2}));
    p.codesT = reinterpret_cast<uint8_t*>(tensorArg(o, "codesT", bytesOf({p.cols, p.tokenStride})));
    p.scales = reinterpret_cast<float*>(tensorArg(o, "scales", bytesOf({p.cols, 4})));
    p.amaxIn = reinterpret_cast<const float*>(tensorArg(o, "amax", bytesOf({p.cols, 4}), true));
    const ScopedWorkspace amaxWork(p.cols * 4);
    p.amaxWork = amaxWork.as<uint32_t>();
    launchQuantizeV(p, stream());
    afterOp();
    return info.Env().Undefined();
  });
}

Napi::Value jsDequantizeRows(const Napi::CallbackInfo& info) {
  return guarded(info, "dequantizeRows", [&]() -> Napi::Value {
    Napi::Object o = argObject(info, 0, "params");
    DequantizeRowsParams p{};
    p.rows = fieldInt(o, "rows", 0, kMaxDim);
    p.cols = fieldInt(o, "cols", 0, kMaxDim);
    p.headDim = int32_t(fieldInt(o, "headDim", 1, 4096));
    p.heads = int32_t(fieldInt(o, "heads", 1, 65535));
    p.groupCount = fieldInt(o, "groupCount", 0, int64_t(1) << 31);
    p.format = formatArg(o);
    checkHeads(p.cols, p.headDim, p.heads);
    p.codes = reinterpret_cast<const uint8_t*>(tensorArg(o, "codes", bytesOf({p.rows, p.cols})));
    p.scales = reinterpret_cast<const float*>(tensorArg(o, "scales", bytesOf({p.groupCount, p.heads, 4})));
    p.groupOfRow = reinterpret_cast<const int32_t*>(tensorArg(o, "groupOfRow", bytesOf({p.rows, 4})));
    p.out = reinterpret_cast<float*>(tensorArg(o, "out", bytesOf({p.rows, p.cols, 4})));
    launchDequantizeRows(p, stream());
    afterOp();
    return info.Env().Undefined();
  });
}

Napi::Value jsDequantizeV(const Napi::CallbackInfo& info) {
  return guarded(info, "dequantizeV", [&]() -> Napi::Value {
    Napi::Object o = argObject(info, 0, "params");
    DequantizeVParams p{};
    p.rows = fieldInt(o, "rows", 0, kMaxDim);
    p.cols = fieldInt(o, "cols", 0, kMaxDim);
    p.tokenStride = fieldInt(o, "tokenStride", 0, kMaxDim);
    p.format = formatArg(o);
    if (p.tokenStride < p.rows) throw ArgumentError("params.tokenStride must be >= rows");
    p.codesT = reinterpret_cast<const uint8_t*>(tensorArg(o, "codesT", bytesOf({p.cols, p.tokenStride})));
    p.scales = reinterpret_cast<const float*>(tensorArg(o, "scales", bytesOf({p.cols, 4})));
    p.out = reinterpret_cast<float*>(tensorArg(o, "out", bytesOf({p.rows, p.cols, 4})));
    launchDequantizeV(p, stream());
    afterOp();
    return info.Env().Undefined();
  });
}

}  // namespace

void registerOps(Napi::Env env, Napi::Object exports) {
  exports.Set("permuteRows", Napi::Function::New(env, jsPermuteRows, "permuteRows"));
  exports.Set("channelMean", Napi::Function::New(env, jsChannelMean, "channelMean"));
  exports.Set("quantizeRows", Napi::Function::New(env, jsQuantizeRows, "quantizeRows"));
  exports.Set("quantizeV", Napi::Function::New(env, jsQuantizeV, "quantizeV"));
  exports.Set("dequantizeRows", Napi::Function::New(env, jsDequantizeRows, "dequantizeRows"));
  exports.Set("dequantizeV", Napi::Function::New(env, jsDequantizeV, "dequantizeV"));
}

}  // namespace fpsattn
#endif  // FPSATTN_WITH_CUDA
