// The native op registry: every op of op_list.h becomes an export (its binding, or in a CPU-only build a stub that
// throws FPSATTN_BACKEND_UNAVAILABLE), and opDescriptions() returns their field tables in every build.
#include <napi.h>

#include <string>

#include "binding/napi_util.h"
#include "ops/op.h"

#if FPSATTN_WITH_CUDA
#include "binding/stream.h"
#endif

namespace fpsattn {

#define FPSATTN_OP(Pascal) extern const OpBinding k##Pascal##Op;
#include "ops/op_list.h"
#undef FPSATTN_OP

namespace {

const OpBinding* const kOps[] = {
#define FPSATTN_OP(Pascal) &k##Pascal##Op,
#include "ops/op_list.h"
#undef FPSATTN_OP
};

const char* typeName(FieldType t) {
  switch (t) {
    case FieldType::Tensor: return "tensor";
    case FieldType::OptionalTensor: return "tensor?";
    case FieldType::Int: return "int";
    case FieldType::Float: return "float";
    case FieldType::Bool: return "bool";
    case FieldType::Enum: return "enum";
  }
  return "?";
}

Napi::Array describeFields(Napi::Env env, const FieldSpec* fields, size_t count) {
  Napi::Array out = Napi::Array::New(env, count);
  for (size_t i = 0; i < count; ++i) {
    const FieldSpec& f = fields[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", f.name);
    o.Set("type", typeName(f.type));
    if (f.type == FieldType::Enum) {
      Napi::Array values = Napi::Array::New(env, f.valueCount);
      for (size_t k = 0; k < f.valueCount; ++k) values.Set(uint32_t(k), f.values[k]);
      o.Set("values", values);
    }
    if (f.type == FieldType::Int) {
      o.Set("min", double(f.min));
      o.Set("max", double(f.max));
    }
    out.Set(uint32_t(i), o);
  }
  return out;
}

/// [{name, params, launcher, kernelFile, fields, result}] for every registered op.
Napi::Value jsOpDescriptions(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env, std::size(kOps));
  for (size_t i = 0; i < std::size(kOps); ++i) {
    const OpBinding& op = *kOps[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", op.name);
    o.Set("params", op.params);
    o.Set("launcher", op.launcher);
    o.Set("kernelFile", op.kernelFile);
    o.Set("fields", describeFields(env, op.fields, op.fieldCount));
    o.Set("result", op.result == nullptr ? env.Null() : Napi::Value(describeFields(env, op.result, op.resultCount)));
    out.Set(uint32_t(i), o);
  }
  return out;
}

/// Every op export: reads the params object through the op's table, runs its binding (which launches on the
/// addon's stream), then the sync check.
Napi::Value jsRunOp(const Napi::CallbackInfo& info) {
  const OpBinding& op = *static_cast<const OpBinding*>(info.Data());
  if (op.run == nullptr)
    throw makeError(info.Env(), "FPSATTN_BACKEND_UNAVAILABLE",
                    std::string("fpsattn.") + op.name + ": built without CUDA (rebuild native/ on a machine with nvcc)");
  return guarded(info, op.name, [&]() -> Napi::Value {
    ParamsReader reader(argObject(info, 0, "params"), op);
    Napi::Value result = op.run(info, reader);
    reader.finish();  // a binding that forgot a field fails on its first call (the GPU suite calls every op)
#if FPSATTN_WITH_CUDA
    afterOp();
#endif
    return result;
  });
}

}  // namespace

void registerOps(Napi::Env env, Napi::Object exports) {
  for (const OpBinding* op : kOps)
    exports.Set(op->name, Napi::Function::New(env, jsRunOp, op->name, const_cast<OpBinding*>(op)));
  exports.Set("opDescriptions", Napi::Function::New(env, jsOpDescriptions, "opDescriptions"));
}

}  // namespace fpsattn
