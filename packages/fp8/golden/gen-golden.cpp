// Golden vectors for @fpsattn/fp8: CUDA's own host-side conversions (cuda_fp8.h, cuda_bf16.h, cuda_fp16.h) applied
// to float32 inputs chosen to hit every rounding boundary of E4M3, E5M2, BF16 and FP16, plus random bit patterns.
//
// Build (either compiler works; only host code is used, no GPU is needed):
//   nvcc -O2 -std=c++17 -o gen-golden gen-golden.cpp
//   g++  -O2 -std=c++17 -I/usr/local/cuda/include -o gen-golden gen-golden.cpp
// Run:  ./gen-golden OUT.bin [--small]
//   --small: boundary inputs only (the committed file); default: boundaries plus random inputs, over 1M in all.
// File layout: see packages/fp8/src/testing/golden-vectors.ts.
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_fp8.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace {

uint32_t bits_of(float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; }
float float_of(uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

// Adds x, its neighbours up to `ulps` float32 ulps away, and the same for -x.
void add_around(std::vector<uint32_t>& out, float x, int ulps) {
  if (!std::isfinite(x)) return;
  const uint32_t b = bits_of(std::fabs(x));
  for (int d = -ulps; d <= ulps; ++d) {
    const int64_t v = int64_t(b) + d;
    if (v < 0 || v > 0x7f7fffff) continue;
    out.push_back(uint32_t(v));
    out.push_back(uint32_t(v) | 0x80000000u);
  }
}

// Every non-negative value of a minifloat with `mbits` mantissa bits and `bias`, from 0 up to `top` (the first
// magnitude past the largest finite value, so that the overflow threshold is a boundary too).
std::vector<double> minifloat_values(int mbits, int bias, double top) {
  std::vector<double> values;
  const double sub = std::ldexp(1.0, 1 - bias - mbits);
  for (int m = 0; m < (1 << mbits); ++m) values.push_back(m * sub);
  for (int e = 1 - bias;; ++e) {
    for (int m = 0; m < (1 << mbits); ++m) {
      const double v = std::ldexp(1.0 + double(m) / (1 << mbits), e);
      values.push_back(v);
      if (v >= top) return values;
    }
  }
}

// Representable values, midpoints (ties) and their float32 neighbours.
void add_format_boundaries(std::vector<uint32_t>& out, int mbits, int bias, double top, int ulps) {
  const std::vector<double> values = minifloat_values(mbits, bias, top);
  for (size_t i = 0; i < values.size(); ++i) {
    add_around(out, float(values[i]), ulps);
    if (i + 1 < values.size()) add_around(out, float((values[i] + values[i + 1]) / 2), ulps);
  }
}

uint64_t rng_state = 0x9e3779b97f4a7c15ull;
uint32_t next_u32() {  // xorshift64*
  rng_state ^= rng_state >> 12; rng_state ^= rng_state << 25; rng_state ^= rng_state >> 27;
  return uint32_t((rng_state * 0x2545f4914f6cdd1dull) >> 32);
}

std::vector<uint32_t> make_inputs(bool small) {
  std::vector<uint32_t> in;
  const uint32_t specials[] = {
      0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u,  // +-0, +-inf
      0x7fc00000u, 0xffc00000u, 0x7f800001u, 0xff800001u, 0x7fffffffu, 0xffffffffu, 0x7fa00000u,  // NaNs
      0x00000001u, 0x80000001u, 0x007fffffu, 0x00800000u, 0x7f7fffffu, 0xff7fffffu,  // float32 extremes
  };
  for (uint32_t s : specials) in.push_back(s);
  add_format_boundaries(in, 3, 7, 512.0, 3);       // e4m3 up to and past 448 (480, 512 would be next)
  add_format_boundaries(in, 2, 15, 65536.0, 3);    // e5m2 up to and past 57344
  for (int e = -149; e <= 127; ++e) add_around(in, std::ldexp(1.0f, e), 2);  // every binade edge
  for (int i = 0; i < (small ? 2000 : 40000); ++i) {  // bf16 ties: random upper halves, lower half 0x8000 +- 1
    const uint32_t hi = next_u32() & 0x7f7f0000u;
    for (int d = -1; d <= 1; ++d) { in.push_back(hi + 0x8000u + d); in.push_back((hi + 0x8000u + d) | 0x80000000u); }
  }
  if (small) return in;
  add_format_boundaries(in, 10, 15, 65536.0, 1);   // every fp16 value and tie
  // Random inputs: uniform bit patterns, and values inside the FP8 ranges (exponents -20..17).
  while (in.size() < 1100000) {
    in.push_back(next_u32());
    const uint32_t exponent = 127 - 20 + next_u32() % 38;
    in.push_back((next_u32() & 0x807fffffu) | (exponent << 23));
  }
  return in;
}

void write_all(FILE* f, const void* data, size_t bytes) {
  if (std::fwrite(data, 1, bytes, f) != bytes) { std::perror("gen-golden: write"); std::exit(1); }
}

float fp8_to_float(uint8_t code, __nv_fp8_interpretation_t kind) {
  return __half2float(__half(__nv_cvt_fp8_to_halfraw(code, kind)));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) { std::fprintf(stderr, "usage: gen-golden OUT.bin [--small]\n"); return 2; }
  const bool small = argc > 2 && std::string(argv[2]) == "--small";
  const std::vector<uint32_t> in = make_inputs(small);
  const size_t n = in.size();

  std::vector<float> dec_e4m3(256), dec_e5m2(256);
  for (int c = 0; c < 256; ++c) {
    dec_e4m3[c] = fp8_to_float(uint8_t(c), __NV_E4M3);
    dec_e5m2[c] = fp8_to_float(uint8_t(c), __NV_E5M2);
  }
  std::vector<uint8_t> e4s(n), e4n(n), e5s(n), e5n(n);
  std::vector<uint16_t> bf(n), hf(n);
  for (size_t i = 0; i < n; ++i) {
    const float x = float_of(in[i]);
    e4s[i] = __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3);
    e4n[i] = __nv_cvt_float_to_fp8(x, __NV_NOSAT, __NV_E4M3);
    e5s[i] = __nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E5M2);
    e5n[i] = __nv_cvt_float_to_fp8(x, __NV_NOSAT, __NV_E5M2);
    bf[i] = __bfloat16_as_ushort(__float2bfloat16_rn(x));
    hf[i] = __half_as_ushort(__float2half_rn(x));
  }

  const std::string tmp = std::string(argv[1]) + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) { std::perror(tmp.c_str()); return 1; }
  const uint32_t header[3] = {0, 1, uint32_t(n)};
  write_all(f, "FPSG", 4);
  write_all(f, header + 1, 8);
  write_all(f, dec_e4m3.data(), 1024);
  write_all(f, dec_e5m2.data(), 1024);
  write_all(f, in.data(), 4 * n);
  for (auto* v : {&e4s, &e4n, &e5s, &e5n}) write_all(f, v->data(), n);
  write_all(f, bf.data(), 2 * n);
  write_all(f, hf.data(), 2 * n);
  if (std::fclose(f) != 0) { std::perror(tmp.c_str()); return 1; }
  if (std::rename(tmp.c_str(), argv[1]) != 0) { std::perror(argv[1]); return 1; }
  std::printf("gen-golden: wrote %zu vectors to %s\n", n, argv[1]);
  return 0;
}
