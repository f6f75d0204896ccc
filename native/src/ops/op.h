// One native op = one file in native/src/ops/ holding its description (the params field table) and its binding (read
// the JS params object through that table, fill the params struct of its kernel header, launch), closed by
// FPSATTN_DEFINE_OP, plus one FPSATTN_OP line in op_list.h. The same table answers the addon's opDescriptions(),
// which packages/kernels tests against its TypeScript declarations (src/core/native-op.test.ts).
//
//   namespace {
//   constexpr FieldSpec kFields[] = {tensorField("x"), intField("rows", 0, kMaxDim), enumField("format", kFp8FormatNames)};
//   Napi::Value run(const Napi::CallbackInfo& info, ParamsReader& r) {   // CUDA builds only
//     ScaleRowsParams p{};
//     p.rows = r.integer("rows");  ...  r.finish();                       // every field read, then launch
//     launchScaleRows(p, stream());
//     return info.Env().Undefined();
//   }
//   }  // namespace
//   FPSATTN_DEFINE_OP(ScaleRows, scaleRows, "scale_rows.cu", kFields, run)
#pragma once

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <iterator>
#include <string>
#include <type_traits>

#include "binding/napi_util.h"
#include "common/stream_type.h"

namespace fpsattn {

// ------------------------------------------------------------------------------------------------- limits
constexpr int64_t kMaxDim = int64_t(1) << 40;
/// Token rows of the kernels whose grid's y dimension walks the rows: 65,535 blocks of 256 rows (the V transpose;
/// the column reductions take 512 rows per block). packages/kernels MAX_TOKEN_ROWS is the same number.
constexpr int64_t kMaxTokenRows = int64_t(65535) * 256;
/// Largest byte count a size check accepts: 2^53, far above any real tensor and still exact in a JS number.
constexpr int64_t kMaxBytes = int64_t(1) << 53;
/// Largest count a kernel that indexes with 32-bit ints accepts (the VAE ops: pixels, channels, columns).
constexpr int64_t kMaxInt32Index = (int64_t(1) << 31) - 1;

// ------------------------------------------------------------------------------------------------- descriptions
/// Field types of a params object; their names in opDescriptions() are "tensor", "tensor?", "int", "float", "bool",
/// "enum" (packages/kernels NativeFieldType).
enum class FieldType { Tensor, OptionalTensor, Int, Float, Bool, Enum };

struct FieldSpec {
  const char* name;
  FieldType type;
  int64_t min = 0;  // Int: accepted range
  int64_t max = 0;
  const char* const* values = nullptr;  // Enum: the accepted strings; the index is the C++ enum's value
  size_t valueCount = 0;
};

constexpr FieldSpec tensorField(const char* name) { return {name, FieldType::Tensor}; }
constexpr FieldSpec optionalTensorField(const char* name) { return {name, FieldType::OptionalTensor}; }
constexpr FieldSpec intField(const char* name, int64_t min, int64_t max) { return {name, FieldType::Int, min, max}; }
constexpr FieldSpec floatField(const char* name) { return {name, FieldType::Float}; }
constexpr FieldSpec boolField(const char* name) { return {name, FieldType::Bool}; }
template <size_t N>
constexpr FieldSpec enumField(const char* name, const char* const (&values)[N]) {
  return {name, FieldType::Enum, 0, int64_t(N) - 1, values, N};
}

class ParamsReader;
using OpRun = Napi::Value (*)(const Napi::CallbackInfo& info, ParamsReader& reader);

/// Everything about one native op: names end to end, its params fields, its result fields, its binding.
struct OpBinding {
  const char* name;        // the addon export and the TS NativeOp name, e.g. "quantizeRows"
  const char* params;      // its params struct, e.g. "QuantizeRowsParams"
  const char* launcher;    // its launcher, e.g. "launchQuantizeRows"
  const char* kernelFile;  // its kernel file under native/src/kernels/, e.g. "quantize_rows.cu"
  const FieldSpec* fields;
  size_t fieldCount;
  const FieldSpec* result;  // fields of the returned object; nullptr: returns undefined
  size_t resultCount;
  OpRun run;                // nullptr in CPU-only builds (the export then throws "built without CUDA")
};

// ------------------------------------------------------------------------------------------------- reading params
/// Reads one params object through its op's field table: each read names a field of the table with its type (an
/// internal error otherwise), applies the table's range, and marks the field read; finish() checks that none is left.
/// Tensors arrive as {handle, byteOffset, byteLength} references into the caching allocator (CUDA builds).
class ParamsReader {
 public:
  ParamsReader(Napi::Object params, const OpBinding& op) : params_(params), op_(op) {}

  int64_t integer(const char* name);
  double number(const char* name);
  bool flag(const char* name);
  /// The index of the field's string in its value list (the C++ enum's value).
  int32_t choice(const char* name);
  template <typename E>
  E choice(const char* name) {
    return static_cast<E>(choice(name));
  }
  /// Device pointer of a tensor field: its byte range lies inside its allocation, holds at least `needBytes`, and
  /// starts 16-byte aligned. Optional tensors read as nullptr when null or undefined.
  template <typename T = void>
  T* tensor(const char* name, int64_t needBytes) {
    return static_cast<T*>(tensorBytes(name, needBytes, FieldType::Tensor));
  }
  template <typename T = void>
  T* optionalTensor(const char* name, int64_t needBytes) {
    return static_cast<T*>(tensorBytes(name, needBytes, FieldType::OptionalTensor));
  }
  /// Every field of the table has been read (call before launching; an internal error names the first one left).
  void finish() const;
  bool finished() const;
  /// A result object with `name` (an Enum field of the op's result table) set to `value` (checked against it).
  Napi::Object resultWithChoice(Napi::Env env, const char* name, const char* value) const;

 private:
  const FieldSpec& use(const char* name, FieldType type);
  void* tensorBytes(const char* name, int64_t needBytes, FieldType type);
  Napi::Object params_;
  const OpBinding& op_;
  uint64_t read_ = 0;  // bit i: field i read (tables have at most 64 fields)
};

/// The product of sizes as a byte count, overflow-checked: a wrapped product could otherwise pass a range check and
/// let a kernel run past its buffer.
inline int64_t bytesOf(std::initializer_list<int64_t> factors) {
  int64_t n = 1;
  for (const int64_t f : factors) {
    if (f < 0 || __builtin_mul_overflow(n, f, &n) || n > kMaxBytes)
      throw ArgumentError("tensor size overflows: the dimensions multiply past 2^53 bytes");
  }
  return n;
}

// ------------------------------------------------------------------------------------------------- definition
#if FPSATTN_WITH_CUDA
#define FPSATTN_OP_RUN(run) (run)
#else
#define FPSATTN_OP_RUN(run) nullptr
#endif

/// Defines k<Pascal>Op for op_list.h. The launcher must be launch<Pascal>(const <Pascal>Params&, cudaStream_t): the
/// names in the description are the compiler's.
#define FPSATTN_DEFINE_OP_IMPL(Pascal, camel, kernelFile, fields, result, resultCount, run)                      \
  static_assert(std::is_same_v<decltype(&launch##Pascal), void (*)(const Pascal##Params&, cudaStream_t)>,       \
                "launch" #Pascal " must take (const " #Pascal "Params&, cudaStream_t)");                        \
  static_assert(std::size(fields) <= 64, "at most 64 params fields");                                            \
  extern const OpBinding k##Pascal##Op;                                                                          \
  const OpBinding k##Pascal##Op = {#camel,  #Pascal "Params", "launch" #Pascal, kernelFile, fields,             \
                                   std::size(fields), result, resultCount, FPSATTN_OP_RUN(run)};

#define FPSATTN_DEFINE_OP(Pascal, camel, kernelFile, fields, run) \
  FPSATTN_DEFINE_OP_IMPL(Pascal, camel, kernelFile, fields, nullptr, 0, run)
#define FPSATTN_DEFINE_OP_WITH_RESULT(Pascal, camel, kernelFile, fields, result, run) \
  FPSATTN_DEFINE_OP_IMPL(Pascal, camel, kernelFile, fields, result, std::size(result), run)

/// Registers every op of op_list.h (the op functions and opDescriptions()); addon.cpp calls it in every build.
void registerOps(Napi::Env env, Napi::Object exports);

}  // namespace fpsattn
