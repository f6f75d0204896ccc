// Element types known to the addon, their sizes and names, shared by the binding (validation) and the kernels.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace fpsattn {

enum class DType : int32_t { BF16 = 0, F16 = 1, F32 = 2, E4M3 = 3, E5M2 = 4, I32 = 5, U8 = 6 };

struct DTypeInfo {
  DType dtype;
  const char* name;  // the name used on the JS side
  size_t bytes;
};

inline constexpr DTypeInfo kDTypes[] = {
    {DType::BF16, "bf16", 2}, {DType::F16, "f16", 2}, {DType::F32, "f32", 4}, {DType::E4M3, "e4m3", 1},
    {DType::E5M2, "e5m2", 1}, {DType::I32, "i32", 4}, {DType::U8, "u8", 1},
};

inline const DTypeInfo* dtypeByName(const char* name) {
  for (const auto& d : kDTypes)
    if (std::strcmp(d.name, name) == 0) return &d;
  return nullptr;
}

/// FP8 formats of the quantization kernels (OCP): E4M3 max 448, E5M2 max 57344. They cross the JS boundary as the
/// string of the same index in kFp8FormatNames.
enum class Fp8Format : int32_t { E4M3 = 0, E5M2 = 1 };
inline constexpr const char* kFp8FormatNames[] = {"e4m3", "e5m2"};

template <Fp8Format F>
struct Fp8Traits;
template <>
struct Fp8Traits<Fp8Format::E4M3> {
  static constexpr float kMaxFinite = 448.0f;
  static constexpr const char* kName = "e4m3";
};
template <>
struct Fp8Traits<Fp8Format::E5M2> {
  static constexpr float kMaxFinite = 57344.0f;
  static constexpr const char* kName = "e5m2";
};

}  // namespace fpsattn
