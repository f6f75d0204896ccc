// GPU suite of the umT5 device encoder: the CUDA encoder against the same encoder on the CPU backend (every op's
// float64 twin, the same BF16 roundings) and against the float32 CPU encoder (t5/encoder.ts, no BF16 at all), on the
// tiny synthetic umT5 at lengths 1, 7 and 16 (its textLen), and on a wider one at the real head width (16 heads of 64,
// dim 256, FFN 640, 2 blocks) at lengths 300 and 512 (every relative bucket, the log-spaced ones included, and the
// 512-key softmax rows). Weights are rounded to BF16 first, as Wan's bf16 checkpoint is, so the float32 encoder runs
// the same network. After dispose the device holds no more than before. Without a CUDA device it is skipped.
// Run: node --test packages/wan/gpu-test/umt5-device.test.mjs (after npm run build; FPSATTN_GPU_TEST_ON_CPU=1: dry run).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorStats } from '@fpsattn/fp8';
import { CpuBackend } from '@fpsattn/kernels';
import { gpuTestBackend } from '@fpsattn/kernels/testing';
import { UMT5_CONFIG_PRESETS, WanUmt5DeviceEncoder, WanUmt5DeviceWeights, syntheticUmt5Weights, umt5EncodeCpu } from '../dist/index.js';

const { backend: gpu, skipReason } = gpuTestBackend({ suite: 'wan umT5 device encoder GPU suite', dryRun: true });

/** ||a - b|| / ||b|| (fp8's errorStats: float64, same length or it throws). */
const relativeL2 = (a, b) => errorStats({ approx: a, reference: b }).relativeL2;
const F32 = new Float32Array(1);
const U32 = new Uint32Array(F32.buffer);
const roundBf16 = (x) => {
  F32[0] = x;
  const bits = U32[0];
  if ((bits & 0x7f800000) === 0x7f800000) return F32[0];
  U32[0] = ((bits + 0x7fff + ((bits >>> 16) & 1)) & 0xffff0000) >>> 0;
  return F32[0];
};

const tiny = UMT5_CONFIG_PRESETS['umt5-tiny'];
const wide = { ...tiny, vocabSize: 1024, dim: 256, dimAttn: 1024, dimFfn: 640, numHeads: 16, numLayers: 2, textLen: 512 };
const CASES = [
  { name: 'umt5-tiny', config: tiny, lengths: [1, 7, 16] },
  { name: 'wide (16 heads of 64, dim 256)', config: wide, lengths: [300, 512] },
];
// Both ways of running the attention's per-head products: one GEMM per head, and one strided-batched GEMM per product.
const HEAD_GEMMS = ['per-head', 'batched'];
const ids = (config, length) => Int32Array.from({ length: config.textLen }, (_, i) => (i >= length ? 0 : i === length - 1 ? 1 : 2 + ((i * 7919 + length) % (config.vocabSize - 2))));

/**
 * CUDA vs the CPU backend: the same ops and roundings, the GEMMs accumulating in another order (cuBLASLt F32 vs
 * float64), which flips a BF16 rounding here and there (2^-8 relative each); the CPU backend itself is 2e-3 to 3e-3
 * off the float32 encoder on the tiny config (vitest), so a bar of 1e-2 is the BF16 level. What holds CUDA to the
 * standard is the float32 rule: its error against the float32 encoder is at most 2x the CPU backend's, and below 1e-2.
 */
const TWIN_TOLERANCE = 1e-2;
const FLOAT32_TOLERANCE = 1e-2;

describe(`wan umT5 device encoder on ${gpu?.device?.name ?? gpu?.name ?? 'no device'}`, { skip: skipReason ?? false }, () => {
  test('CUDA encode = CPU-backend encode (same ops) and ~ float32 CPU encode; nothing leaked', async () => {
    const inUse = () => {
      gpu.emptyCache?.();
      return gpu.memoryStats?.()?.bytesInUse ?? 0;
    };
    const before = inUse();
    const cpu = new CpuBackend();
    for (const c of CASES) {
      const raw = syntheticUmt5Weights({ config: c.config, seed: 2024 });
      const weights = new Map([...raw].map(([name, data]) => [name, data.map(roundBf16)]));
      const onGpu = WanUmt5DeviceWeights.upload({ backend: gpu, config: c.config, weights });
      const onCpu = WanUmt5DeviceWeights.upload({ backend: cpu, config: c.config, weights });
      for (const length of c.lengths) for (const headGemms of HEAD_GEMMS) {
        const tokenIds = ids(c.config, length);
        let t0 = performance.now();
        const a = await new WanUmt5DeviceEncoder({ weights: onGpu }).encode({ ids: tokenIds, length, headGemms });
        const gpuMs = performance.now() - t0;
        t0 = performance.now();
        const b = await new WanUmt5DeviceEncoder({ weights: onCpu }).encode({ ids: tokenIds, length, headGemms });
        const cpuMs = performance.now() - t0;
        assert.equal(a.length, length * c.config.dim);
        assert.ok(a.every(Number.isFinite), `${c.name} length ${length} ${headGemms}: non-finite outputs`);
        const twin = relativeL2(a, b);
        const ref = umt5EncodeCpu({ weights, config: c.config, tokenIds, length, precision: 'float32' });
        const f32 = relativeL2(a, ref);
        const sameLevel = relativeL2(b, ref);
        console.log(
          `# ${c.name} length ${length} ${headGemms}: CUDA vs CPU backend ${twin.toExponential(3)}, CUDA vs float32 ${f32.toExponential(3)} (CPU backend vs float32 ${sameLevel.toExponential(3)}); CUDA ${gpuMs.toFixed(1)} ms, CPU backend ${cpuMs.toFixed(0)} ms`,
        );
        assert.ok(twin < TWIN_TOLERANCE, `${c.name} length ${length} ${headGemms}: CUDA vs CPU backend relL2 ${twin}`);
        assert.ok(f32 < FLOAT32_TOLERANCE, `${c.name} length ${length} ${headGemms}: CUDA vs float32 relL2 ${f32}`);
        assert.ok(f32 <= 2 * sameLevel, `${c.name} length ${length} ${headGemms}: CUDA vs float32 ${f32} is more than 2x the CPU backend's ${sameLevel}`);
      }
      onGpu.dispose();
      onCpu.dispose();
    }
    const after = inUse();
    console.log(`# device bytes in use before ${before}, after ${after}; peak ${gpu.memoryStats?.()?.peakBytesInUse ?? 'n/a'}`);
    assert.ok(after <= before, `device memory not freed: ${after - before} bytes still in use`);
  });
});
