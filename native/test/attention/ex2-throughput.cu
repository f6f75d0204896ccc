// ex2-throughput.cu: MUFU exp2 throughput, fp32 (ex2.approx.ftz.f32, one value per instruction) against packed half
// (ex2.approx.f16x2, two values per instruction), to decide whether the FP8 softmax may take its exponentials in f16x2
// (P is quantized to E4M3 right after, so a 10-bit mantissa is more than enough for the numerator).
// Grid: 132 x 8 blocks of 256 threads; each thread runs kIters rounds of 16 independent chains (enough ILP to
// saturate the unit). Prints values per clock per SM for both, and the SASS is read with cuobjdump -sass.
// Build: nvcc -O3 -arch=sm_90a -o ex2-throughput ex2-throughput.cu
#include <cstdint>
#include <cstdio>
#include <cuda_fp16.h>

constexpr int kIters = 4096;
constexpr int kChains = 16;

__global__ void ex2F32(float* out, float seed) {
  float x[kChains];
  for (int c = 0; c < kChains; ++c) x[c] = seed * (threadIdx.x + c) * 1e-6f - 1.f;
  for (int i = 0; i < kIters; ++i) {
#pragma unroll
    for (int c = 0; c < kChains; ++c) {
      float y;
      asm volatile("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(x[c]));
      x[c] = y - 1.f;  // FADD keeps the chain dependent (value stays in (-1, 0])
    }
  }
  float s = 0.f;
  for (int c = 0; c < kChains; ++c) s += x[c];
  out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

__global__ void ex2F16x2(float* out, float seed) {
  uint32_t x[kChains / 2];
  for (int c = 0; c < kChains / 2; ++c) {
    __half2 h = __floats2half2_rn(seed * (threadIdx.x + c) * 1e-6f - 1.f, -0.5f);
    x[c] = *reinterpret_cast<uint32_t*>(&h);
  }
  const __half2 one = __floats2half2_rn(1.f, 1.f);
  const uint32_t oneBits = *reinterpret_cast<const uint32_t*>(&one);
  for (int i = 0; i < kIters; ++i) {
#pragma unroll
    for (int c = 0; c < kChains / 2; ++c) {
      uint32_t y;
      asm volatile("ex2.approx.f16x2 %0, %1;" : "=r"(y) : "r"(x[c]));
      asm volatile("sub.f16x2 %0, %1, %2;" : "=r"(x[c]) : "r"(y), "r"(oneBits));
    }
  }
  float s = 0.f;
  for (int c = 0; c < kChains / 2; ++c) {
    __half2 h = *reinterpret_cast<__half2*>(&x[c]);
    s += __low2float(h) + __high2float(h);
  }
  out[blockIdx.x * blockDim.x + threadIdx.x] = s;
}

int main() {
  int sms = 0, clockKhz = 0;
  cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0);
  cudaDeviceGetAttribute(&clockKhz, cudaDevAttrClockRate, 0);
  const int blocks = sms * 8, threads = 256;
  float* out;
  cudaMalloc(&out, sizeof(float) * blocks * threads);
  cudaEvent_t a, b;
  cudaEventCreate(&a);
  cudaEventCreate(&b);
  for (int variant = 0; variant < 2; ++variant) {
    float best = 1e30f;
    for (int rep = 0; rep < 5; ++rep) {
      cudaEventRecord(a);
      if (variant == 0) ex2F32<<<blocks, threads>>>(out, 1.f);
      else ex2F16x2<<<blocks, threads>>>(out, 1.f);
      cudaEventRecord(b);
      cudaEventSynchronize(b);
      float ms = 0.f;
      cudaEventElapsedTime(&ms, a, b);
      if (ms < best) best = ms;
    }
    const double values = double(blocks) * threads * kIters * kChains;
    const double perClockPerSm = values / (best * 1e-3) / (double(clockKhz) * 1e3) / sms;
    printf("%s: %.3f ms, %.2f exp2 values / clock / SM (at the nominal %d MHz)\n", variant == 0 ? "ex2.approx.ftz.f32" : "ex2.approx.f16x2", best,
           perClockPerSm, clockKhz / 1000);
  }
  const cudaError_t e = cudaGetLastError();
  if (e != cudaSuccess) {
    printf("CUDA error: %s\n", cudaGetErrorString(e));
    return 1;
  }
  return 0;
}
