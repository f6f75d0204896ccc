// conv_im2col.cu: the column matrix of a stride-1 (causal 3-D or 2-D) convolution over channels-last frames, BF16, so
// that the convolution runs as one cuBLASLt GEMM per chunk of output pixels (the Wan-VAE decoder's convolutions).
// Math and layout: conv_im2col.h. Not an implicit-GEMM convolution: the columns are written to memory (the caller
// bounds them by chunking the pixels), which costs one extra write and read of kt kh kw C BF16 values per pixel.
//
// Launch shape: flat grid-stride loop, block kThreads = 256, grid flatGrid(items, 256, 4). Vector path (C % 8 == 0):
// an item is one 16-byte pack of 8 channels of one (pixel, tap), items = rows kt kh kw C / 8, item i writes out
// elements [8 i, 8 i + 8) (the column order is tap-major, channel-minor, so consecutive threads write consecutive
// packs and read consecutive packs of one source pixel); a source pack is one 16-byte load (BF16) or two (F32).
// Scalar path (any other C): an item is one element. All indices are 32-bit: the binding checks rows kt kh kw C < 2^31
// and height x width < 2^31. Memory-bound: 2 bytes written and 2 (BF16) or 4 (F32) read per column element, reads
// served mostly from L2 (each source pixel is read by kh kw neighbours).
// Check: gpu-test/vae-ops.test.mjs compares with convIm2colCpu bit for bit.
#include <cstdint>

#include "common/bf16_round.cuh"
#include "common/cuda_check.h"
#include "common/launch_config.h"
#include "kernels/vae/conv_im2col.h"

namespace fpsattn {
namespace {

constexpr int kThreads = 256;
constexpr int kItemsPerThread = 4;  // of the grid-size estimate only (grid-stride loop)

/// kWidth channels of one source pixel as BF16 codes (zeros when `src` is null).
template <typename TIn, int kWidth>
__device__ __forceinline__ void loadPack(const TIn* __restrict__ src, uint32_t (&codes)[kWidth]) {
  if (src == nullptr) {
#pragma unroll
    for (int i = 0; i < kWidth; ++i) codes[i] = 0;
    return;
  }
  if constexpr (sizeof(TIn) == 2) {
    if constexpr (kWidth == 8) {
      const uint4 a = __ldg(reinterpret_cast<const uint4*>(src));
      const uint32_t w[4] = {a.x, a.y, a.z, a.w};
#pragma unroll
      for (int i = 0; i < 4; ++i) {
        codes[2 * i] = w[i] & 0xffffu;
        codes[2 * i + 1] = w[i] >> 16;
      }
    } else {
      codes[0] = __ldg(reinterpret_cast<const unsigned short*>(src));
    }
  } else if constexpr (kWidth == 8) {
    const float4 a = __ldg(reinterpret_cast<const float4*>(src));
    const float4 b = __ldg(reinterpret_cast<const float4*>(src) + 1);
    const float v[8] = {a.x, a.y, a.z, a.w, b.x, b.y, b.z, b.w};
#pragma unroll
    for (int i = 0; i < 8; ++i) codes[i] = bf16BitsRn(v[i]);
  } else {
    codes[0] = bf16BitsRn(__ldg(src));
  }
}

/// TIn: uint16_t (BF16 bits) or float. kWidth: 8 (vector path) or 1 (scalar path).
template <typename TIn, int kWidth>
__global__ void __launch_bounds__(kThreads) convIm2colKernel(const ConvIm2colParams p, uint32_t items) {
  const uint32_t packsPerTap = uint32_t(p.channels) / kWidth;
  const uint32_t khw = uint32_t(p.kh * p.kw);
  const uint32_t taps = uint32_t(p.kt) * khw;
  const int32_t height = int32_t(p.height);
  const int32_t width = int32_t(p.width);
  const int32_t srcWidth = p.upsample ? width / 2 : width;
  const int32_t padH = (p.kh - 1) / 2;
  const int32_t padW = (p.kw - 1) / 2;
  const uint32_t pixel0 = uint32_t(p.rowStart);
  for (uint32_t i = blockIdx.x * kThreads + threadIdx.x; i < items; i += gridDim.x * kThreads) {
    const uint32_t pack = i % packsPerTap;
    const uint32_t rest = i / packsPerTap;
    const uint32_t tap = rest % taps;
    const uint32_t pixel = pixel0 + rest / taps;
    const uint32_t dt = tap / khw;
    const uint32_t spatial = tap - dt * khw;
    const int32_t dy = int32_t(spatial / uint32_t(p.kw));
    const int32_t dx = int32_t(spatial) - dy * p.kw;
    const int32_t y = int32_t(pixel / uint32_t(width));
    const int32_t x = int32_t(pixel) - y * width;
    int32_t sy = y + dy - padH;
    int32_t sx = x + dx - padW;
    // Tap frames by a select chain rather than a run-time index into the params array (which would go to local memory).
    const TIn* frame = static_cast<const TIn*>(dt == 0 ? p.frames[0] : dt == 1 ? p.frames[1] : p.frames[2]);
    const TIn* src = nullptr;
    if (frame != nullptr && sy >= 0 && sy < height && sx >= 0 && sx < width) {
      if (p.upsample) {
        sy >>= 1;
        sx >>= 1;
      }
      src = frame + (int64_t(sy) * srcWidth + sx) * p.channels + int64_t(pack) * kWidth;
    }
    uint32_t codes[kWidth];
    loadPack<TIn, kWidth>(src, codes);
    uint16_t* dst = p.out + int64_t(i) * kWidth;
    if constexpr (kWidth == 8) {
      *reinterpret_cast<uint4*>(dst) = make_uint4(codes[0] | (codes[1] << 16), codes[2] | (codes[3] << 16),
                                                  codes[4] | (codes[5] << 16), codes[6] | (codes[7] << 16));
    } else {
      *dst = uint16_t(codes[0]);
    }
  }
}

template <typename TIn, int kWidth>
void launchWith(const ConvIm2colParams& p, cudaStream_t stream) {
  const int64_t items = p.rows * p.kt * p.kh * p.kw * p.channels / kWidth;
  convIm2colKernel<TIn, kWidth><<<flatGrid(items, kThreads, kItemsPerThread), kThreads, 0, stream>>>(p, uint32_t(items));
  FPSATTN_CHECK_LAUNCH();
}

}  // namespace

void launchConvIm2col(const ConvIm2colParams& p, cudaStream_t stream) {
  if (p.rows == 0) return;
  const bool vec = p.channels % 8 == 0;  // then every pack starts 16-byte aligned (the tensors do: checked)
  if (p.input == Im2colInput::F32) {
    vec ? launchWith<float, 8>(p, stream) : launchWith<float, 1>(p, stream);
  } else {
    vec ? launchWith<uint16_t, 8>(p, stream) : launchWith<uint16_t, 1>(p, stream);
  }
}

}  // namespace fpsattn
