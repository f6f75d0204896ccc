// ParamsReader (op.h): reads a params object through its op's field table.
#include <string>

#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/allocator.h"
#endif

namespace fpsattn {

namespace {
/// A binding that reads a field its table does not declare (or with another type) is a bug in the addon, not in the
/// caller's arguments: reported as such (FPSATTN_CUDA_ERROR, the generic code), never as an invalid argument.
[[noreturn]] void internalError(const OpBinding& op, const std::string& what) {
  throw std::logic_error(std::string("internal: the binding of ") + op.name + " " + what +
                         " (native/src/ops: the field table and the reader disagree)");
}
}  // namespace

const FieldSpec& ParamsReader::use(const char* name, FieldType type) {
  for (size_t i = 0; i < op_.fieldCount; ++i) {
    const FieldSpec& f = op_.fields[i];
    if (std::string(f.name) != name) continue;
    if (f.type != type) internalError(op_, std::string("reads field '") + name + "' with another type than its table's");
    read_ |= uint64_t(1) << i;
    return f;
  }
  internalError(op_, std::string("reads field '") + name + "', which its table does not list");
}

int64_t ParamsReader::integer(const char* name) {
  const FieldSpec& f = use(name, FieldType::Int);
  return fieldInt(params_, name, f.min, f.max);
}

double ParamsReader::number(const char* name) {
  use(name, FieldType::Float);
  return fieldNumber(params_, name);
}

bool ParamsReader::flag(const char* name) {
  use(name, FieldType::Bool);
  Napi::Value v = params_.Get(name);
  if (!v.IsBoolean()) throw ArgumentError(std::string("params.") + name + " must be a boolean");
  return v.As<Napi::Boolean>().Value();
}

namespace {
std::string listOf(const FieldSpec& f) {
  std::string s;
  for (size_t i = 0; i < f.valueCount; ++i) s += (i ? (i + 1 == f.valueCount ? " or '" : ", '") : "'") + std::string(f.values[i]) + "'";
  return s;
}
}  // namespace

int32_t ParamsReader::choice(const char* name) {
  const FieldSpec& f = use(name, FieldType::Enum);
  Napi::Value v = params_.Get(name);
  if (!v.IsString()) throw ArgumentError(std::string("params.") + name + " must be " + listOf(f));
  const std::string s = v.As<Napi::String>().Utf8Value();
  for (size_t i = 0; i < f.valueCount; ++i)
    if (s == f.values[i]) return int32_t(i);
  throw ArgumentError(std::string("params.") + name + " must be " + listOf(f) + ", got '" + s + "'");
}

void* ParamsReader::tensorBytes(const char* name, int64_t needBytes, FieldType type) {
  use(name, type);
  Napi::Value v = params_.Get(name);
  if (v.IsUndefined() || v.IsNull()) {
    if (type == FieldType::OptionalTensor) return nullptr;
    throw ArgumentError(std::string("params.") + name + " (a device tensor) is required");
  }
  if (!v.IsObject()) throw ArgumentError(std::string("params.") + name + " must be a tensor reference");
#if FPSATTN_WITH_CUDA
  Napi::Object t = v.As<Napi::Object>();
  const int64_t handle = fieldInt(t, "handle", 1, kMaxSafeInt);
  const int64_t offset = fieldInt(t, "byteOffset", 0, kMaxSafeInt);
  const int64_t length = fieldInt(t, "byteLength", 0, kMaxSafeInt);
  const Block& b = allocator().block(handle);
  if (offset + length > b.requested)
    throw ArgumentError(std::string("params.") + name + ": byte range outside its allocation");
  if (length < needBytes)
    throw ArgumentError(std::string("params.") + name + " holds " + std::to_string(length) + " bytes, needs " +
                        std::to_string(needBytes));
  if (offset % 16 != 0) throw ArgumentError(std::string("params.") + name + " must start 16-byte aligned");
  return static_cast<char*>(b.ptr) + offset;
#else
  (void)needBytes;
  internalError(op_, "reads a tensor in a build without CUDA");
#endif
}

void ParamsReader::finish() const {
  for (size_t i = 0; i < op_.fieldCount; ++i)
    if (!(read_ & (uint64_t(1) << i))) internalError(op_, std::string("never reads field '") + op_.fields[i].name + "'");
}

bool ParamsReader::finished() const {
  for (size_t i = 0; i < op_.fieldCount; ++i)
    if (!(read_ & (uint64_t(1) << i))) return false;
  return true;
}

Napi::Object ParamsReader::resultWithChoice(Napi::Env env, const char* name, const char* value) const {
  for (size_t i = 0; i < op_.resultCount; ++i) {
    const FieldSpec& f = op_.result[i];
    if (std::string(f.name) != name || f.type != FieldType::Enum) continue;
    for (size_t k = 0; k < f.valueCount; ++k) {
      if (std::string(f.values[k]) != value) continue;
      Napi::Object o = Napi::Object::New(env);
      o.Set(name, value);
      return o;
    }
  }
  internalError(op_, std::string("returns ") + name + " = '" + value + "', which its result table does not allow");
}

}  // namespace fpsattn
