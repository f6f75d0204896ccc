// Standalone GPU harness of the fused attention kernel (native/src/kernels/attention): correctness against a
// float64 CPU reference of the SPEC math (docs/attention-contract.md) and CUDA-event timings.
//
//   build: native/test/attention/build.sh  ->  .gpu/attention_harness
//   run:   .gpu/attention_harness [--quick] [--no-bench] [--no-check] [--reps N] [--dtype fp8|bf16]
//          [--only small | NAME | ,NAME,NAME,]   large NAMEs: 480p 720p 720p-tiles 720p-b2 14b-720p 720p-cross
//          720p-cross-b2 (default 480p, 720p, 720p-cross, 720p-cross-b2)
//
// Inputs: random N(0,1) fields or "DiT-like" fields (smooth 3-D fields over a (T,H,W) token grid, 3-D RoPE applied
// to Q and K, a few K outlier channels with 20-50x the typical magnitude). FP8 mode quantizes Q and K per row
// ('token' scales, or one scale per (batch, head): 'tensor') and V per channel, exactly like the kernel layer's
// quantizers (scale = amax / 448, codes = e4m3_rne_satfinite(x / scale)); the reference decodes the same codes.
// The reference follows the SPEC's block-streaming math in float64 (online max over 128-key blocks in CSR order,
// P quantized against the running max), for every row at small shapes and for a sample of rows at large shapes.
// The output is poisoned (0xFF bytes = bf16 NaN) before every checked run; every element is checked: padding rows
// must be exactly 0 and no NaN may remain anywhere.
// Cross-attention cases ("cross", in small and as 720p-cross*) give the keys their own geometry (AttentionParams
// keyBlocks / keyNpad / keyValidRows: e.g. 75,600 video queries x 512 text keys); every K/V access of the inputs, the
// reference and the kernel then uses the key geometry, and self-attention cases leave the key fields unset.
#include <cuda_bf16.h>
#include <cuda_fp8.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <stdexcept>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "kernels/attention/attention_params.h"
#define FPSATTN_ATTN_TRACE_CONSTANTS_ONLY  // the kernel TU owns the probes
#include "kernels/attention/trace.cuh"

#define CK(x)                                                                                          \
  do {                                                                                                 \
    cudaError_t e_ = (x);                                                                              \
    if (e_ != cudaSuccess) {                                                                           \
      fprintf(stderr, "CUDA error %s at %s:%d: %s\n", cudaGetErrorName(e_), __FILE__, __LINE__, #x); \
      exit(2);                                                                                         \
    }                                                                                                  \
  } while (0)

static int gFailures = 0;

static void parallelFor(int64_t n, const std::function<void(int64_t, int64_t)>& f) {
  int nt = int(std::max(1u, std::thread::hardware_concurrency()));
  if (n < nt) nt = int(std::max<int64_t>(1, n));
  std::vector<std::thread> ts;
  const int64_t chunk = (n + nt - 1) / nt;
  for (int t = 0; t < nt; ++t) {
    const int64_t a = t * chunk, b = std::min(n, a + chunk);
    if (a >= b) break;
    ts.emplace_back(f, a, b);
  }
  for (auto& t : ts) t.join();
}

static inline uint64_t splitmix(uint64_t& s) {
  uint64_t z = (s += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static inline double uniform(uint64_t& s) { return (splitmix(s) >> 11) * (1.0 / 9007199254740992.0); }
static inline float gauss(uint64_t& s) {
  const double u1 = std::max(uniform(s), 1e-300), u2 = uniform(s);
  return float(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

static float gDecodeE4m3[256];
static void initDecode() {
  for (int c = 0; c < 256; ++c) {
    const int sgn = c >> 7, e = (c >> 3) & 15, m = c & 7;
    float v;
    if (e == 15 && m == 7)
      v = NAN;
    else if (e == 0)
      v = std::ldexp(float(m) / 8.f, -6);
    else
      v = std::ldexp(1.f + float(m) / 8.f, e - 7);
    gDecodeE4m3[c] = sgn ? -v : v;
  }
}
static inline uint8_t encE4m3(float x) { return uint8_t(__nv_cvt_float_to_fp8(x, __NV_SATFINITE, __NV_E4M3)); }
static inline uint8_t encE4m3d(double x) { return uint8_t(__nv_cvt_double_to_fp8(x, __NV_SATFINITE, __NV_E4M3)); }
static inline uint16_t bf16Bits(float x) {
  __nv_bfloat16 b = __float2bfloat16_rn(x);
  uint16_t u;
  memcpy(&u, &b, 2);
  return u;
}
static inline float bf16ToF(uint16_t u) {
  uint32_t w = uint32_t(u) << 16;
  float f;
  memcpy(&f, &w, 4);
  return f;
}

// ------------------------------------------------------------------------------------------------------------------
struct Shape {
  int B, H, nb;  // batch, heads, blocks
  int64_t npad;
  std::vector<int32_t> valid;  // [nb]
  int64_t vStride;
  // Key geometry: the queries' own (cross = false) or separate keys (cross-attention; passed as keyBlocks etc.).
  bool cross = false;
  int knb = 0;
  int64_t knpad = 0;
  std::vector<int32_t> kvalid;  // [knb]
};

// Float inputs [B, npad, H*128] (padding rows hold garbage on purpose).
struct FloatData {
  Shape sh;
  std::vector<float> q, k, v;
};

static Shape makeShape(int B, int H, const std::vector<int32_t>& valid) {
  Shape s;
  s.B = B;
  s.H = H;
  s.nb = int(valid.size());
  s.npad = int64_t(s.nb) * 128;
  s.valid = valid;
  s.vStride = s.npad + 16;  // a stride != npad on purpose
  s.knb = s.nb;
  s.knpad = s.npad;
  s.kvalid = valid;
  return s;
}
// Cross-attention: queries with valid rows qValid, keys (and values) with their own blocks kValid.
static Shape makeCrossShape(int B, int H, const std::vector<int32_t>& qValid, const std::vector<int32_t>& kValid) {
  Shape s = makeShape(B, H, qValid);
  s.cross = true;
  s.knb = int(kValid.size());
  s.knpad = int64_t(s.knb) * 128;
  s.kvalid = kValid;
  s.vStride = s.knpad + 16;  // V^T token stride: past the key rows on purpose
  return s;
}
static std::vector<int32_t> packedValid(int64_t nReal) {
  const int nb = int((nReal + 127) / 128);
  std::vector<int32_t> v(nb, 128);
  v[nb - 1] = int32_t(nReal - int64_t(nb - 1) * 128);
  return v;
}

// Cross-attention inputs: random N(0,1) queries [B, npad, H*128], keys and values [B, knpad, H*128] (text-like keys
// with a few 20-50x outlier channels); padding rows hold large garbage that the kernel must mask.
static FloatData makeCrossData(const Shape& sh, uint64_t seed) {
  FloatData d;
  d.sh = sh;
  const int64_t HD = int64_t(sh.H) * 128;
  d.q.resize(int64_t(sh.B) * sh.npad * HD);
  d.k.resize(int64_t(sh.B) * sh.knpad * HD);
  d.v.resize(int64_t(sh.B) * sh.knpad * HD);
  parallelFor(int64_t(sh.B) * sh.npad, [&](int64_t a, int64_t e) {
    for (int64_t row = a; row < e; ++row) {
      uint64_t s = seed * 1000003ull + uint64_t(row) * 2654435761ull;
      for (int64_t c = 0; c < HD; ++c) d.q[row * HD + c] = gauss(s);
    }
  });
  parallelFor(int64_t(sh.B) * sh.knpad, [&](int64_t a, int64_t e) {
    for (int64_t row = a; row < e; ++row) {
      uint64_t s = seed * 7777777ull + uint64_t(row) * 2246822519ull + 1;
      const int64_t r = row % sh.knpad;
      const bool pad = int(r % 128) >= sh.kvalid[r / 128];
      for (int64_t c = 0; c < HD; ++c) {
        d.k[row * HD + c] = gauss(s) * (pad ? 50.f : 1.f);
        d.v[row * HD + c] = gauss(s) * (pad ? 100.f : 1.f);
      }
      if (!pad)
        for (int h = 0; h < sh.H; ++h) {
          d.k[row * HD + h * 128 + 5] = d.k[row * HD + h * 128 + 5] * 25.f + 20.f;
          d.k[row * HD + h * 128 + 101] *= 50.f;
        }
    }
  });
  return d;
}

// kind 0 = random N(0,1); kind 1 = DiT-like on grid (T, Hh, W) (tokens = valid rows in order, raster).
static FloatData makeData(const Shape& sh, int kind, uint64_t seed, int gT = 0, int gH = 0, int gW = 0) {
  if (sh.cross) return makeCrossData(sh, seed);
  FloatData d;
  d.sh = sh;
  const int64_t HD = int64_t(sh.H) * 128, rows = int64_t(sh.B) * sh.npad;
  d.q.resize(rows * HD);
  d.k.resize(rows * HD);
  d.v.resize(rows * HD);
  // token index of each padded row (-1 = padding)
  std::vector<int64_t> tokOf(sh.npad, -1);
  {
    int64_t t = 0;
    for (int b = 0; b < sh.nb; ++b)
      for (int r = 0; r < sh.valid[b]; ++r) tokOf[int64_t(b) * 128 + r] = t++;
  }
  // per (head, channel) field parameters for DiT-like data
  const int nParam = sh.H * 128 * 3;
  std::vector<float> fq(nParam * 4), fk(nParam * 4), fv(nParam * 4);
  uint64_t ps = seed * 7919 + 17;
  for (int i = 0; i < nParam; ++i) {
    for (auto* f : {&fq, &fk, &fv}) {
      (*f)[4 * i + 0] = float(uniform(ps) * 0.6);                 // freq t
      (*f)[4 * i + 1] = float(uniform(ps) * 0.4);                 // freq h
      (*f)[4 * i + 2] = float(uniform(ps) * 0.4);                 // freq w
      (*f)[4 * i + 3] = float(uniform(ps) * 6.283185307179586);  // phase
    }
  }
  parallelFor(rows, [&](int64_t a, int64_t e) {
    for (int64_t row = a; row < e; ++row) {
      uint64_t s = seed * 1000003ull + uint64_t(row) * 2654435761ull;
      const int64_t tok = tokOf[row % sh.npad];
      for (int h = 0; h < sh.H; ++h) {
        float* pq = &d.q[row * HD + h * 128];
        float* pk = &d.k[row * HD + h * 128];
        float* pv = &d.v[row * HD + h * 128];
        if (kind == 0 || tok < 0) {
          for (int c = 0; c < 128; ++c) {
            pq[c] = gauss(s);
            pk[c] = gauss(s) * (tok < 0 ? 50.f : 1.f);  // padding keys: large garbage (must be masked)
            pv[c] = gauss(s) * (tok < 0 ? 100.f : 1.f);
          }
          continue;
        }
        const int t = int(tok / (int64_t(gH) * gW)), y = int((tok / gW) % gH), x = int(tok % gW);
        for (int c = 0; c < 128; ++c) {
          float vals[3];
          int idx = 0;
          for (auto* f : {&fq, &fk, &fv}) {
            float acc = 0.f;
            for (int m = 0; m < 3; ++m) {
              const float* P = &(*f)[4 * ((h * 128 + c) * 3 + m)];
              acc += std::sin(P[0] * t + P[1] * y + P[2] * x + P[3]);
            }
            vals[idx++] = acc * 0.8f + 0.3f * gauss(s);
          }
          pq[c] = vals[0];
          pk[c] = vals[1];
          pv[c] = vals[2];
        }
        // 3-D RoPE on Q and K: channel pairs (2i, 2i+1); pairs 0..21 -> t, 22..42 -> h, 43..63 -> w
        for (int i = 0; i < 64; ++i) {
          int axis, li, n;
          if (i < 22) axis = 0, li = i, n = 22;
          else if (i < 43) axis = 1, li = i - 22, n = 21;
          else axis = 2, li = i - 43, n = 21;
          const float pos = axis == 0 ? t : axis == 1 ? y : x;
          const float ang = pos * std::pow(10000.f, -float(li) / n);
          const float cs = std::cos(ang), sn = std::sin(ang);
          for (float* p : {pq, pk}) {
            const float a0 = p[2 * i], a1 = p[2 * i + 1];
            p[2 * i] = a0 * cs - a1 * sn;
            p[2 * i + 1] = a0 * sn + a1 * cs;
          }
        }
        // K outlier channels: 20-50x the typical magnitude
        pk[5] = pk[5] * 25.f + 20.f;
        pk[70] = pk[70] * 40.f - 30.f;
        pk[101] *= 50.f;
      }
    }
  });
  return d;
}

// Device-ready operands of one dtype + host copies of what the reference decodes.
struct Prepared {
  Shape sh;
  bool fp8;
  std::vector<uint8_t> qc, kc, vct;   // fp8 codes; vct = V^T [B, HD, vStride]
  std::vector<uint16_t> qb, kb, vb;   // bf16
  std::vector<float> qs, ks, vs;      // [B,H,npad], [B,H,knpad], [B,HD]
  std::vector<float> kbs;             // kScales::block: [B,H,knb] (ks then holds each row's block scale)
  void *dq = nullptr, *dk = nullptr, *dv = nullptr;
  float *dqs = nullptr, *dks = nullptr, *dvs = nullptr, *dkbs = nullptr;
  int32_t* dvalid = nullptr;
  int32_t* dkvalid = nullptr;  // cross-attention: the key blocks' valid rows
};

// Q/K scale granularity of the FP8 preparation: per row ('token'), one per (batch, head) ('tensor'), or for K one per
// (batch, head, key block) passed to the kernel as kBlockScale ('block'; Q stays per row).
enum class Scales { token, tensor, block };
static const char* scalesName(Scales s) { return s == Scales::token ? "fp8-token" : s == Scales::tensor ? "fp8-tensor" : "fp8-kblock"; }

static void prepare(const FloatData& d, bool fp8, Scales scales, Prepared& P) {
  const Shape& sh = d.sh;
  P.sh = sh;
  P.fp8 = fp8;
  const int64_t HD = int64_t(sh.H) * 128, rows = int64_t(sh.B) * sh.npad, n = rows * HD;
  const int64_t nk = int64_t(sh.B) * sh.knpad * HD;  // K and V elements (key geometry)
  if (!fp8) {
    P.qb.resize(n);
    P.kb.resize(nk);
    P.vb.resize(nk);
    parallelFor(n, [&](int64_t a, int64_t e) {
      for (int64_t i = a; i < e; ++i) P.qb[i] = bf16Bits(d.q[i]);
    });
    parallelFor(nk, [&](int64_t a, int64_t e) {
      for (int64_t i = a; i < e; ++i) {
        P.kb[i] = bf16Bits(d.k[i]);
        P.vb[i] = bf16Bits(d.v[i]);
      }
    });
  } else {
    P.qc.resize(n);
    P.kc.resize(nk);
    P.qs.assign(int64_t(sh.B) * sh.H * sh.npad, 1.f);
    P.ks.assign(int64_t(sh.B) * sh.H * sh.knpad, 1.f);
    // rows of x: npadX per batch item in blocks with validX real rows
    auto quantRows = [&](const std::vector<float>& x, std::vector<uint8_t>& codes, std::vector<float>& sc, Scales mode,
                         int64_t npadX, const std::vector<int32_t>& validX) {
      const int nbX = int(validX.size());
      // per (b, h): per-row amax, or the max over valid rows ('tensor')
      parallelFor(int64_t(sh.B) * sh.H, [&](int64_t a, int64_t e) {
        for (int64_t bh = a; bh < e; ++bh) {
          const int b = int(bh / sh.H), h = int(bh % sh.H);
          float tensorAmax = 0.f;
          std::vector<float> am(npadX);
          for (int64_t r = 0; r < npadX; ++r) {
            const float* px = &x[(int64_t(b) * npadX + r) * HD + h * 128];
            float m = 0.f;
            for (int c = 0; c < 128; ++c) m = std::max(m, std::fabs(px[c]));
            am[r] = m;
            if (int(r % 128) < validX[r / 128]) tensorAmax = std::max(tensorAmax, m);
          }
          std::vector<float> blockAmax(nbX, 0.f);
          for (int64_t r = 0; r < npadX; ++r)
            if (int(r % 128) < validX[r / 128]) blockAmax[r / 128] = std::max(blockAmax[r / 128], am[r]);
          for (int64_t r = 0; r < npadX; ++r) {
            const float amax = mode == Scales::tensor ? tensorAmax : mode == Scales::block ? blockAmax[r / 128] : am[r];
            const float scale = amax > 0.f ? amax / 448.f : 1.f;
            sc[(int64_t(b) * sh.H + h) * npadX + r] = scale;
            const float* px = &x[(int64_t(b) * npadX + r) * HD + h * 128];
            uint8_t* pc = &codes[(int64_t(b) * npadX + r) * HD + h * 128];
            for (int c = 0; c < 128; ++c) pc[c] = encE4m3(px[c] / scale);
          }
        }
      });
    };
    quantRows(d.q, P.qc, P.qs, scales == Scales::tensor ? Scales::tensor : Scales::token, sh.npad, sh.valid);
    quantRows(d.k, P.kc, P.ks, scales, sh.knpad, sh.kvalid);
    if (scales == Scales::block) {
      P.kbs.resize(int64_t(sh.B) * sh.H * sh.knb);
      for (int64_t bh = 0; bh < int64_t(sh.B) * sh.H; ++bh)
        for (int kb = 0; kb < sh.knb; ++kb) P.kbs[bh * sh.knb + kb] = P.ks[bh * sh.knpad + int64_t(kb) * 128];
    }
    // V: per channel over valid key rows, V^T layout
    P.vs.assign(int64_t(sh.B) * HD, 1.f);
    P.vct.assign(int64_t(sh.B) * HD * sh.vStride, 0x7E);  // garbage beyond the key rows (448)
    parallelFor(int64_t(sh.B) * HD, [&](int64_t a, int64_t e) {
      for (int64_t bc = a; bc < e; ++bc) {
        const int b = int(bc / HD);
        const int64_t c = bc % HD;
        float m = 0.f;
        for (int64_t r = 0; r < sh.knpad; ++r)
          if (int(r % 128) < sh.kvalid[r / 128]) m = std::max(m, std::fabs(d.v[(int64_t(b) * sh.knpad + r) * HD + c]));
        const float scale = m > 0.f ? m / 448.f : 1.f;
        P.vs[bc] = scale;
        for (int64_t r = 0; r < sh.knpad; ++r)
          P.vct[bc * sh.vStride + r] = encE4m3(d.v[(int64_t(b) * sh.knpad + r) * HD + c] / scale);
      }
    });
  }
  auto up = [](const void* h, size_t bytes) {
    void* p;
    CK(cudaMalloc(&p, bytes));
    CK(cudaMemcpy(p, h, bytes, cudaMemcpyHostToDevice));
    return p;
  };
  if (fp8) {
    P.dq = up(P.qc.data(), n);
    P.dk = up(P.kc.data(), nk);
    P.dv = up(P.vct.data(), P.vct.size());
    P.dqs = (float*)up(P.qs.data(), P.qs.size() * 4);
    if (scales == Scales::block)
      P.dkbs = (float*)up(P.kbs.data(), P.kbs.size() * 4);
    else
      P.dks = (float*)up(P.ks.data(), P.ks.size() * 4);
    P.dvs = (float*)up(P.vs.data(), P.vs.size() * 4);
  } else {
    P.dq = up(P.qb.data(), n * 2);
    P.dk = up(P.kb.data(), nk * 2);
    P.dv = up(P.vb.data(), nk * 2);
  }
  P.dvalid = (int32_t*)up(sh.valid.data(), sh.valid.size() * 4);
  if (sh.cross) P.dkvalid = (int32_t*)up(sh.kvalid.data(), sh.kvalid.size() * 4);
}
static void release(Prepared& P) {
  for (void* p : {P.dq, P.dk, P.dv, (void*)P.dqs, (void*)P.dks, (void*)P.dvs, (void*)P.dkbs, (void*)P.dvalid,
                  (void*)P.dkvalid})
    if (p) CK(cudaFree(p));
  P = Prepared();
}

// CSR lists: listHeads x (nb + 1)
struct Lists {
  int listHeads = 1;
  bool dense = true;
  std::vector<int32_t> rowPtr, colIdx;
  int32_t *dRow = nullptr, *dCol = nullptr;
};
static void uploadLists(Lists& L) {
  if (L.dense) return;
  CK(cudaMalloc(&L.dRow, L.rowPtr.size() * 4));
  CK(cudaMemcpy(L.dRow, L.rowPtr.data(), L.rowPtr.size() * 4, cudaMemcpyHostToDevice));
  CK(cudaMalloc(&L.dCol, std::max<size_t>(1, L.colIdx.size()) * 4));
  if (!L.colIdx.empty()) CK(cudaMemcpy(L.dCol, L.colIdx.data(), L.colIdx.size() * 4, cudaMemcpyHostToDevice));
}
static void freeLists(Lists& L) {
  if (L.dRow) CK(cudaFree(L.dRow));
  if (L.dCol) CK(cudaFree(L.dCol));
  L.dRow = L.dCol = nullptr;
}
// window of w blocks around qb, clamped inside [0, nb) (sliding-tile style); per-head width w + head offset
static Lists windowLists(int nb, int w, int listHeads) {
  Lists L;
  L.dense = false;
  L.listHeads = listHeads;
  for (int h = 0; h < listHeads; ++h) {
    const int wh = std::min(nb, std::max(1, w + (listHeads > 1 ? (h % 3) - 1 : 0)));
    L.rowPtr.push_back(int32_t(L.colIdx.size()));
    for (int qb = 0; qb < nb; ++qb) {
      int start = qb - wh / 2;
      start = std::max(0, std::min(start, nb - wh));
      for (int kb = start; kb < start + wh; ++kb) L.colIdx.push_back(kb);
      L.rowPtr.push_back(int32_t(L.colIdx.size()));
    }
  }
  return L;
}
// keyNb: key blocks (cross-attention; default = nb). Query block qb always lists key block qb % keyNb.
static Lists randomLists(int nb, int listHeads, double density, uint64_t seed, int emptyQb, int emptyHead,
                         int keyNb = -1) {
  if (keyNb < 0) keyNb = nb;
  Lists L;
  L.dense = false;
  L.listHeads = listHeads;
  uint64_t s = seed;
  for (int h = 0; h < listHeads; ++h) {
    for (int qb = 0; qb < nb; ++qb) {
      L.rowPtr.push_back(int32_t(L.colIdx.size()));
      if (qb == emptyQb && h == emptyHead) continue;
      for (int kb = 0; kb < keyNb; ++kb)
        if (uniform(s) < density || kb == qb % keyNb) L.colIdx.push_back(kb);
    }
    L.rowPtr.push_back(int32_t(L.colIdx.size()));
  }
  return L;
}
// Key blocks [a, b) of query block qb's list (dense: every key block of the key geometry).
static void listRange(const Lists& L, const Shape& sh, int h, int qb, int& a, int& b) {
  if (L.dense) {
    a = 0;
    b = sh.knb;
    return;
  }
  const int lh = L.listHeads == 1 ? 0 : h;
  a = L.rowPtr[lh * (sh.nb + 1) + qb];
  b = L.rowPtr[lh * (sh.nb + 1) + qb + 1];
}
static inline int listBlock(const Lists& L, int i) { return L.dense ? i : L.colIdx[i]; }

static double realPairs(const Shape& sh, const Lists& L) {
  double pairs = 0;
  for (int h = 0; h < sh.H; ++h)
    for (int qb = 0; qb < sh.nb; ++qb) {
      int a, b;
      listRange(L, sh, h, qb, a, b);
      double keys = 0;
      for (int i = a; i < b; ++i) keys += sh.kvalid[listBlock(L, i)];
      pairs += keys * sh.valid[qb];
    }
  return pairs * sh.B;
}

static void runKernel(const Prepared& P, const Lists& L, void* out, float scale) {
  fpsattn::AttentionParams p{};
  p.q = P.dq;
  p.k = P.dk;
  p.v = P.dv;
  p.qScale = P.dqs;
  p.kScale = P.dks;
  p.kBlockScale = P.dkbs;
  p.vScale = P.dvs;
  p.blockValidRows = P.dvalid;
  if (P.sh.cross) {  // separate key geometry; self-attention leaves the key fields 0 / null (the default)
    p.keyValidRows = P.dkvalid;
    p.keyBlocks = P.sh.knb;
    p.keyNpad = P.sh.knpad;
  }
  p.rowPtr = L.dense ? nullptr : L.dRow;
  p.colIdx = L.dense ? nullptr : L.dCol;
  p.out = out;
  p.batch = P.sh.B;
  p.heads = P.sh.H;
  p.headDim = 128;
  p.numBlocks = P.sh.nb;
  p.listHeads = L.listHeads;
  p.npad = P.sh.npad;
  p.vTokenStride = P.fp8 ? P.sh.vStride : P.sh.knpad;
  p.softmaxScale = scale;
  p.dtype = P.fp8 ? 1 : 0;
  fpsattn::launchAttention(p, 0);
}

// float64 reference of one output row (SPEC math), o[128]
static void referenceRow(const Prepared& P, const Lists& L, int b, int h, int64_t row, double scale, double* o) {
  const Shape& sh = P.sh;
  const int64_t HD = int64_t(sh.H) * 128;
  const int qb = int(row / 128);
  for (int c = 0; c < 128; ++c) o[c] = 0;
  if (int(row % 128) >= sh.valid[qb]) return;
  double q[128];
  const int64_t qoff = (int64_t(b) * sh.npad + row) * HD + h * 128;
  for (int c = 0; c < 128; ++c) q[c] = P.fp8 ? gDecodeE4m3[P.qc[qoff + c]] : bf16ToF(P.qb[qoff + c]);
  const double qsc = P.fp8 ? P.qs[(int64_t(b) * sh.H + h) * sh.npad + row] : 1.0;
  double m = -INFINITY, l = 0, acc[128] = {0};
  int a, e;
  listRange(L, sh, h, qb, a, e);
  std::vector<double> sv(128);
  for (int i = a; i < e; ++i) {
    const int kb = listBlock(L, i);
    const int nv = sh.kvalid[kb];
    if (nv == 0) continue;
    double bm = -INFINITY;
    for (int j = 0; j < nv; ++j) {
      const int64_t key = int64_t(kb) * 128 + j;
      const int64_t koff = (int64_t(b) * sh.knpad + key) * HD + h * 128;
      double dot = 0;
      if (P.fp8)
        for (int c = 0; c < 128; ++c) dot += q[c] * gDecodeE4m3[P.kc[koff + c]];
      else
        for (int c = 0; c < 128; ++c) dot += q[c] * bf16ToF(P.kb[koff + c]);
      const double ksc = P.fp8 ? P.ks[(int64_t(b) * sh.H + h) * sh.knpad + key] : 1.0;
      sv[j] = dot * qsc * ksc * scale;
      bm = std::max(bm, sv[j]);
    }
    const double mNew = std::max(m, bm);
    const double alpha = m == -INFINITY ? 0.0 : std::exp(m - mNew);
    l *= alpha;
    for (int c = 0; c < 128; ++c) acc[c] *= alpha;
    for (int j = 0; j < nv; ++j) {
      const int64_t key = int64_t(kb) * 128 + j;
      const double pj = std::exp(sv[j] - mNew);
      l += pj;
      if (P.fp8) {
        const double pq = gDecodeE4m3[encE4m3d(pj * 448.0)];
        for (int c = 0; c < 128; ++c) acc[c] += pq * gDecodeE4m3[P.vct[(int64_t(b) * HD + h * 128 + c) * sh.vStride + key]];
      } else {
        const double pb = bf16ToF(bf16Bits(float(pj)));
        const int64_t voff = (int64_t(b) * sh.knpad + key) * HD + h * 128;
        for (int c = 0; c < 128; ++c) acc[c] += pb * bf16ToF(P.vb[voff + c]);
      }
    }
    m = mNew;
  }
  if (l == 0) return;
  for (int c = 0; c < 128; ++c)
    o[c] = P.fp8 ? acc[c] / (448.0 * l) * P.vs[int64_t(b) * HD + h * 128 + c] : acc[c] / l;
}

// float64 attention on the unquantized float inputs (same lists and masks): the error of the whole method.
static void exactRow(const FloatData& d, const Lists& L, int b, int h, int64_t row, double scale, double* o) {
  const Shape& sh = d.sh;
  const int64_t HD = int64_t(sh.H) * 128;
  const int qb = int(row / 128);
  for (int c = 0; c < 128; ++c) o[c] = 0;
  if (int(row % 128) >= sh.valid[qb]) return;
  const float* q = &d.q[(int64_t(b) * sh.npad + row) * HD + h * 128];
  int a, e;
  listRange(L, sh, h, qb, a, e);
  std::vector<double> sv;
  std::vector<int64_t> keys;
  double m = -INFINITY;
  for (int i = a; i < e; ++i) {
    const int kb = listBlock(L, i);
    for (int j = 0; j < sh.kvalid[kb]; ++j) {
      const int64_t key = int64_t(kb) * 128 + j;
      const float* k = &d.k[(int64_t(b) * sh.knpad + key) * HD + h * 128];
      double dot = 0;
      for (int c = 0; c < 128; ++c) dot += double(q[c]) * k[c];
      sv.push_back(dot * scale);
      keys.push_back(key);
      m = std::max(m, dot * scale);
    }
  }
  double l = 0, acc[128] = {0};
  for (size_t t = 0; t < sv.size(); ++t) {
    const double p = std::exp(sv[t] - m);
    l += p;
    const float* v = &d.v[(int64_t(b) * sh.knpad + keys[t]) * HD + h * 128];
    for (int c = 0; c < 128; ++c) acc[c] += p * v[c];
  }
  if (l > 0)
    for (int c = 0; c < 128; ++c) o[c] = acc[c] / l;
}

struct CheckResult {
  double relL2, cosine, maxAbs;
  int64_t nanCount, badPadding, rowsChecked;
  double exactRelL2 = -1;  // vs float64 attention on unquantized inputs (when asked)
};

// rowsPerHead < 0: all rows
static CheckResult check(const Prepared& P, const Lists& L, void* dOut, float scale, int rowsPerHead, int headsToCheck,
                         uint64_t seed, const FloatData* exact = nullptr) {
  const Shape& sh = P.sh;
  const int64_t HD = int64_t(sh.H) * 128, n = int64_t(sh.B) * sh.npad * HD;
  CK(cudaMemset(dOut, 0xFF, n * 2));
  runKernel(P, L, dOut, scale);
  CK(cudaGetLastError());
  CK(cudaDeviceSynchronize());
  std::vector<uint16_t> out(n);
  CK(cudaMemcpy(out.data(), dOut, n * 2, cudaMemcpyDeviceToHost));
  CheckResult r{};
  for (int64_t i = 0; i < n; ++i) {
    const float f = bf16ToF(out[i]);
    if (f != f) ++r.nanCount;
    const int64_t row = (i / HD) % sh.npad;
    if (int(row % 128) >= sh.valid[row / 128] && out[i] != 0) ++r.badPadding;
  }
  // rows to check
  std::vector<std::tuple<int, int, int64_t>> todo;
  uint64_t s = seed;
  for (int b = 0; b < sh.B; ++b)
    for (int hh = 0; hh < std::min(headsToCheck, sh.H); ++hh) {
      const int h = headsToCheck >= sh.H ? hh : int(splitmix(s) % sh.H);
      if (rowsPerHead < 0) {
        for (int64_t row = 0; row < sh.npad; ++row) todo.emplace_back(b, h, row);
      } else {
        for (int k = 0; k < rowsPerHead; ++k) todo.emplace_back(b, h, int64_t(splitmix(s) % sh.npad));
      }
    }
  std::vector<double> ref(todo.size() * 128);
  parallelFor(int64_t(todo.size()), [&](int64_t a, int64_t e) {
    for (int64_t t = a; t < e; ++t) {
      auto [b, h, row] = todo[t];
      referenceRow(P, L, b, h, row, scale, &ref[t * 128]);
    }
  });
  double num = 0, den = 0, dot = 0, nk = 0;
  for (size_t t = 0; t < todo.size(); ++t) {
    auto [b, h, row] = todo[t];
    for (int c = 0; c < 128; ++c) {
      const double k = bf16ToF(out[(int64_t(b) * sh.npad + row) * HD + h * 128 + c]);
      const double g = ref[t * 128 + c];
      num += (k - g) * (k - g);
      den += g * g;
      dot += k * g;
      nk += k * k;
      if (!(std::fabs(k - g) <= r.maxAbs)) r.maxAbs = std::fabs(k - g);
    }
  }
  if (exact) {
    std::vector<double> ex(todo.size() * 128);
    parallelFor(int64_t(todo.size()), [&](int64_t a, int64_t e) {
      for (int64_t t = a; t < e; ++t) {
        auto [b, h, row] = todo[t];
        exactRow(*exact, L, b, h, row, scale, &ex[t * 128]);
      }
    });
    double en = 0, ed = 0;
    for (size_t t = 0; t < todo.size(); ++t) {
      auto [b, h, row] = todo[t];
      for (int c = 0; c < 128; ++c) {
        const double k = bf16ToF(out[(int64_t(b) * sh.npad + row) * HD + h * 128 + c]);
        en += (k - ex[t * 128 + c]) * (k - ex[t * 128 + c]);
        ed += ex[t * 128 + c] * ex[t * 128 + c];
      }
    }
    r.exactRelL2 = ed > 0 ? std::sqrt(en / ed) : std::sqrt(en);
  }
  r.relL2 = den > 0 ? std::sqrt(num / den) : std::sqrt(num);
  r.cosine = (den > 0 && nk > 0) ? dot / std::sqrt(den * nk) : 1.0;
  r.rowsChecked = int64_t(todo.size());
  return r;
}

static void report(const char* name, const CheckResult& r, double tol) {
  const bool ok = r.nanCount == 0 && r.badPadding == 0 && r.relL2 <= tol && std::isfinite(r.relL2);
  if (!ok) ++gFailures;
  printf("CHECK %-50s rows %6lld  relL2 %.3e  cos %.6f  maxAbs %.3e  nan %lld  badPad %lld  tol %.0e  %s", name,
         (long long)r.rowsChecked, r.relL2, r.cosine, r.maxAbs, (long long)r.nanCount, (long long)r.badPadding, tol,
         ok ? "PASS" : "FAIL");
  if (r.exactRelL2 >= 0) printf("  | vs unquantized fp64: relL2 %.3e", r.exactRelL2);
  printf("\n");
  fflush(stdout);
}

static double timeMs(const Prepared& P, const Lists& L, void* dOut, float scale, int reps) {
  cudaEvent_t a, b;
  CK(cudaEventCreate(&a));
  CK(cudaEventCreate(&b));
  for (int i = 0; i < 2; ++i) runKernel(P, L, dOut, scale);
  CK(cudaDeviceSynchronize());
  std::vector<float> ts;
  for (int i = 0; i < reps; ++i) {
    CK(cudaEventRecord(a));
    runKernel(P, L, dOut, scale);
    CK(cudaEventRecord(b));
    CK(cudaEventSynchronize(b));
    float ms;
    CK(cudaEventElapsedTime(&ms, a, b));
    ts.push_back(ms);
  }
  CK(cudaEventDestroy(a));
  CK(cudaEventDestroy(b));
  std::sort(ts.begin(), ts.end());
  return ts[ts.size() / 2];
}

#if FPSATTN_ATTN_TRACE
namespace fpsattn {
void attentionTraceCopy(void* cta, size_t ctaBytes, void* iter, size_t iterBytes);
}
static std::string gTracePrefix;  // --trace PREFIX: after each timing, the last launch's probes (trace.cuh)
static void dumpTrace(const char* name) {
  if (gTracePrefix.empty()) return;
  std::vector<unsigned long long> cta(size_t(fpsattn::attention::kTraceCtas) * 8);
  std::vector<unsigned long long> iter(size_t(fpsattn::attention::kTraceSampled) * 2 * fpsattn::attention::kTraceIters * 4);
  fpsattn::attentionTraceCopy(cta.data(), cta.size() * 8, iter.data(), iter.size() * 8);
  std::string file = gTracePrefix + "-" + name + ".bin";
  for (char& ch : file) if (ch == ' ' || ch == '(' || ch == ')') ch = '_';
  FILE* f = fopen(file.c_str(), "wb");
  if (!f) { fprintf(stderr, "cannot write %s\n", file.c_str()); return; }
  fwrite(cta.data(), 8, cta.size(), f);
  fwrite(iter.data(), 8, iter.size(), f);
  fclose(f);
  printf("TRACE %s -> %s\n", name, file.c_str());
}
#else
static void dumpTrace(const char*) {}
#endif

static void bench(const char* name, const Prepared& P, const Lists& L, void* dOut, float scale, int reps) {
  const double ms = timeMs(P, L, dOut, scale, reps);
  dumpTrace(name);
  const double pairs = realPairs(P.sh, L);
  int64_t nReal = 0, nKeys = 0;
  for (int v : P.sh.valid) nReal += v;
  for (int v : P.sh.kvalid) nKeys += v;
  const double density = pairs / (double(P.sh.B) * P.sh.H * double(nReal) * double(nKeys));
  const double tflops = 4.0 * 128 * pairs / (ms * 1e-3) / 1e12;  // pairs already summed over heads and batch
  printf("BENCH %-44s %9.3f ms  %7.1f TFLOP/s (real pairs)  density %.4f  B%d H%d tokens %lld", name, ms, tflops,
         density, P.sh.B, P.sh.H, (long long)nReal);
  if (P.sh.cross) printf(" keys %lld", (long long)nKeys);
  printf("\n");
  fflush(stdout);
}

int main(int argc, char** argv) {
  bool quick = false, doBench = true, doCheck = true;
  int reps = 10;
  std::string only, dtypeOnly;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--quick")) quick = true;
    else if (!strcmp(argv[i], "--no-bench")) doBench = false;
    else if (!strcmp(argv[i], "--no-check")) doCheck = false;  // large shapes: timings only
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--only") && i + 1 < argc) only = argv[++i];
    else if (!strcmp(argv[i], "--dtype") && i + 1 < argc) dtypeOnly = argv[++i];  // fp8 | bf16 (large shapes)
#if FPSATTN_ATTN_TRACE
    else if (!strcmp(argv[i], "--trace") && i + 1 < argc) gTracePrefix = argv[++i];
#endif
  }
  initDecode();
  cudaDeviceProp prop;
  CK(cudaGetDeviceProperties(&prop, 0));
  printf("device %s, %d SMs, cc %d.%d\n", prop.name, prop.multiProcessorCount, prop.major, prop.minor);
  const float sc = 1.f / std::sqrt(128.f);
  const double tolFp8 = 2e-2, tolBf16 = 1e-2;

  // ---- small cases: every row against the float64 reference ----------------------------------------------------
  // fp8Scales: the FP8 preparations to check (each against its own fake-quantized reference); doBf16: the bf16 run.
  auto smallCase = [&](const char* tag, const FloatData& d, const Lists& Lin, std::vector<Scales> fp8Scales,
                       double tf8, double tb16, bool doBf16 = true) {
    Lists L = Lin;
    uploadLists(L);
    void* dOut;
    const int64_t n = int64_t(d.sh.B) * d.sh.npad * d.sh.H * 128;
    CK(cudaMalloc(&dOut, n * 2));
    for (Scales sc8 : fp8Scales) {
      Prepared P;
      prepare(d, true, sc8, P);
      char name[128];
      snprintf(name, sizeof name, "%s %s", tag, scalesName(sc8));
      report(name, check(P, L, dOut, sc, -1, d.sh.H, 1, &d), tf8);
      release(P);
    }
    if (doBf16) {
      Prepared P;
      prepare(d, false, Scales::token, P);
      char name[128];
      snprintf(name, sizeof name, "%s bf16", tag);
      report(name, check(P, L, dOut, sc, -1, d.sh.H, 1, &d), tb16);
      release(P);
    }
    CK(cudaFree(dOut));
    freeLists(L);
  };
  const std::vector<Scales> tokenAndBlock = {Scales::token, Scales::block};
  if (only.empty() || only == "small" || only.find(",small,") != std::string::npos) {
    Lists dense;
    {
      FloatData d = makeData(makeShape(2, 2, packedValid(1000)), 0, 11);
      smallCase("random B2 H2 N1000 dense", d, dense, tokenAndBlock, tolFp8, tolBf16);
      smallCase("random B2 H2 N1000 sparse(per-head, empty list)", d, randomLists(d.sh.nb, 2, 0.4, 5, 3, 1),
                tokenAndBlock, tolFp8, tolBf16);
    }
    {
      std::vector<int32_t> v(10, 120);
      v[7] = 0;   // a listed block with no valid row
      v[9] = 37;  // ragged last block
      FloatData d = makeData(makeShape(1, 2, v), 0, 12);
      smallCase("random tile120 (block 7 empty) window3", d, windowLists(10, 3, 1), tokenAndBlock, tolFp8, tolBf16);
      smallCase("random tile120 dense", d, dense, tokenAndBlock, tolFp8, tolBf16);
    }
    {
      // every valid-row count a block can have past the first 32-key chunk and inside it (masking per column group)
      std::vector<int32_t> v = {1, 7, 31, 32, 33, 64, 95, 96, 97, 127, 128, 8, 16};
      FloatData d = makeData(makeShape(1, 1, v), 0, 15);
      smallCase("random ragged counts 1..128 dense", d, dense, tokenAndBlock, tolFp8, tolBf16);
    }
    {
      FloatData d = makeData(makeShape(1, 1, packedValid(50)), 0, 13);
      smallCase("random single block N50 H1", d, dense, tokenAndBlock, tolFp8, tolBf16);
    }
    {
      FloatData d = makeData(makeShape(1, 2, packedValid(4 * 32 * 32)), 1, 14, 4, 32, 32);
      smallCase("DiT-like B1 H2 4x32x32 dense", d, dense, {Scales::token, Scales::tensor, Scales::block}, tolFp8,
                tolBf16);
      smallCase("DiT-like B1 H2 4x32x32 window 9", d, windowLists(32, 9, 2), tokenAndBlock, tolFp8, tolBf16);
    }
    // Cross-attention: keys with their own geometry (keyBlocks, keyNpad, keyValidRows), Lq != Lk.
    {
      FloatData d = makeData(makeCrossShape(2, 2, packedValid(300), packedValid(16)), 0, 31);
      smallCase("cross B2 H2 300q x 16k dense", d, dense, tokenAndBlock, tolFp8, tolBf16);
    }
    {
      FloatData d = makeData(makeCrossShape(2, 2, packedValid(1000), packedValid(200)), 0, 32);
      smallCase("cross B2 H2 1000q x 200k dense", d, dense, tokenAndBlock, tolFp8, tolBf16);
      smallCase("cross B2 H2 1000q x 200k sparse(per-head, empty list)", d,
                randomLists(d.sh.nb, 2, 0.5, 6, 3, 1, d.sh.knb), tokenAndBlock, tolFp8, tolBf16);
    }
    {
      // more key blocks than query blocks; a key block with no valid row, a ragged and a short one
      FloatData d = makeData(makeCrossShape(1, 2, packedValid(200), {128, 0, 77, 16, 128}), 0, 33);
      smallCase("cross B1 H2 200q x 5 key blocks (one empty) dense", d, dense, tokenAndBlock, tolFp8, tolBf16);
      smallCase("cross B1 H2 200q x 5 key blocks sparse(per-head)", d, randomLists(d.sh.nb, 2, 0.5, 7, -1, -1, d.sh.knb),
                tokenAndBlock, tolFp8, tolBf16);
    }
    {
      // The launcher rejects an inconsistent key geometry before any launch (std::invalid_argument).
      fpsattn::AttentionParams p{};
      int32_t* dummy = nullptr;
      CK(cudaMalloc(&dummy, 1 << 20));
      p.q = p.k = p.v = p.out = dummy;
      p.blockValidRows = dummy;
      p.batch = 1;
      p.heads = 1;
      p.headDim = 128;
      p.numBlocks = 2;
      p.listHeads = 1;
      p.npad = 256;
      p.vTokenStride = 256;
      p.softmaxScale = 1.f;
      p.dtype = 0;
      auto rejects = [&](const char* what, const fpsattn::AttentionParams& bad) {
        bool threw = false;
        try {
          fpsattn::launchAttention(bad, 0);
        } catch (const std::invalid_argument& e) {
          threw = true;
          printf("  (%s: %s)\n", what, e.what());
        }
        CK(cudaDeviceSynchronize());
        if (!threw) ++gFailures;
        printf("CHECK %-50s %s\n", what, threw ? "PASS" : "FAIL");
      };
      fpsattn::AttentionParams bad = p;
      bad.keyValidRows = dummy, bad.keyBlocks = 1, bad.keyNpad = 256;
      rejects("cross rejects keyNpad != keyBlocks * 128", bad);
      bad = p;
      bad.keyValidRows = dummy, bad.keyBlocks = 0, bad.keyNpad = 0;
      rejects("cross rejects keyValidRows with keyBlocks 0", bad);
      bad = p;
      bad.keyBlocks = 1, bad.keyNpad = 128;
      rejects("cross rejects keyBlocks without keyValidRows", bad);
      bad = p;
      bad.dtype = 1, bad.qScale = bad.vScale = bad.kBlockScale = reinterpret_cast<float*>(dummy);
      bad.keyValidRows = dummy, bad.keyBlocks = 4, bad.keyNpad = 512, bad.vTokenStride = 256;
      rejects("cross rejects fp8 vTokenStride < keyNpad", bad);
      CK(cudaFree(dummy));
    }
  }
  if (quick) {
    printf("SUMMARY failures %d\n", gFailures);
    return gFailures ? 1 : 0;
  }

  // ---- Wan shapes: sampled rows against the reference, then timings ---------------------------------------------
  // "packed": tokens packed into 128-row blocks (only the last is ragged). "tiles": the op's geometry for Wan's
  // (3, 5, 8) attention tile, 120 tokens per block padded to 128 (every block ragged), K scale per tile = per block.
  // "cross": cross-attention of the video tokens (queries) to `keys` text tokens (Wan: 512, all of them attended),
  // dense, random inputs (makeCrossData); the b2 variant is a bf16 timing at batch 2 (plus its check).
  struct Big {
    const char* name;
    int T, Hh, W, B, H;
    bool tiles;
    int keys = 0;  // > 0: cross-attention to this many keys
  };
  const Big bigs[] = {{"480p", 21, 30, 52, 1, 12, false},      {"720p", 21, 45, 80, 1, 12, false},
                      {"720p-tiles", 21, 45, 80, 1, 12, true}, {"720p-b2", 21, 45, 80, 2, 12, false},
                      {"14b-720p", 21, 45, 80, 1, 40, false},  {"720p-cross", 21, 45, 80, 1, 12, false, 512},
                      {"720p-cross-b2", 21, 45, 80, 2, 12, false, 512}};
  for (const Big& g : bigs) {
    const bool byDefault = strcmp(g.name, "480p") == 0 || strcmp(g.name, "720p") == 0 || g.keys > 0;
    const bool listed = only.empty() ? byDefault : only.find(std::string(",") + g.name + ",") != std::string::npos || only == g.name;
    if (!listed) continue;
    const int64_t nReal = int64_t(g.T) * g.Hh * g.W;
    std::vector<int32_t> valid = g.tiles ? std::vector<int32_t>(size_t(nReal / 120), 120) : packedValid(nReal);
    if (g.keys > 0) {
      FloatData d = makeData(makeCrossShape(g.B, g.H, valid, packedValid(g.keys)), 0, 41);
      Lists dense;
      void* dOut;
      const int64_t n = int64_t(d.sh.B) * d.sh.npad * d.sh.H * 128;
      CK(cudaMalloc(&dOut, n * 2));
      std::vector<std::pair<bool, Scales>> runs;
      if (g.B == 1 && (dtypeOnly.empty() || dtypeOnly == "fp8")) {
        runs.push_back({true, Scales::block});
        runs.push_back({true, Scales::token});
      }
      if (dtypeOnly.empty() || dtypeOnly == "bf16") runs.push_back({false, Scales::token});
      for (auto [fp8, sc8] : runs) {
        Prepared P;
        prepare(d, fp8, sc8, P);
        char name[128];
        snprintf(name, sizeof name, "%s dense %s (%d keys)", g.name, fp8 ? scalesName(sc8) : "bf16", g.keys);
        if (doCheck) report(name, check(P, dense, dOut, sc, 24, 2, 3, &d), fp8 ? tolFp8 : tolBf16);
        if (doBench) bench(name, P, dense, dOut, sc, reps);
        release(P);
      }
      CK(cudaFree(dOut));
      continue;
    }
    FloatData d = makeData(makeShape(g.B, g.H, valid), 1, 21, g.T, g.Hh, g.W);
    const int nb = d.sh.nb;
    Lists dense;
    // ~20% density: clamped window of round(0.2 * nb) blocks
    Lists sparse = windowLists(nb, int(std::lround(0.2 * nb)), 1);
    uploadLists(sparse);
    void* dOut;
    const int64_t n = int64_t(d.sh.B) * d.sh.npad * d.sh.H * 128;
    CK(cudaMalloc(&dOut, n * 2));
    std::vector<std::pair<bool, Scales>> runs;
    if (dtypeOnly.empty() || dtypeOnly == "fp8") {
      runs.push_back({true, Scales::block});
      runs.push_back({true, Scales::token});  // tiles too: per-row K scales with every block ragged
    }
    if (dtypeOnly.empty() || dtypeOnly == "bf16") runs.push_back({false, Scales::token});
    for (auto [fp8, sc8] : runs) {
      Prepared P;
      prepare(d, fp8, sc8, P);
      const char* kind = fp8 ? scalesName(sc8) : "bf16";
      char name[128];
      snprintf(name, sizeof name, "%s dense %s", g.name, kind);
      if (doCheck) report(name, check(P, dense, dOut, sc, 24, 2, 3, &d), fp8 ? tolFp8 : tolBf16);
      if (doBench) bench(name, P, dense, dOut, sc, reps);
      snprintf(name, sizeof name, "%s sparse20 %s", g.name, kind);
      if (doCheck) report(name, check(P, sparse, dOut, sc, 24, 2, 4, &d), fp8 ? tolFp8 : tolBf16);
      if (doBench) bench(name, P, sparse, dOut, sc, reps);
      release(P);
    }
    CK(cudaFree(dOut));
    freeLists(sparse);
  }
  printf("SUMMARY failures %d\n", gFailures);
  return gFailures ? 1 : 0;
}
