// GPU suite of the Wan-VAE device decoder: the CUDA decoder against the same decoder on the CPU backend (every op's
// float64 twin, the same BF16 roundings) and against the float32 CPU decoder (vae/decode.ts, no BF16 at all), on the
// tiny synthetic VAE (5 latent frames: every cache state), on the real widths (wan-vae, 384/192/96 channels) at a
// small latent, and on tiny widths at a larger latent (240-token attention, 13 frames of 96 x 160); with a small
// column budget (many chunks per convolution) and BF16 output once; after dispose the device holds no more than before.
// Without a CUDA device the suite is skipped with the reason.
// Run: node --test packages/wan/gpu-test/vae-device.test.mjs (after npm run build; FPSATTN_GPU_TEST_ON_CPU=1: dry run).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { errorStats } from '@fpsattn/fp8';
import { CpuBackend } from '@fpsattn/kernels';
import { gpuTestBackend } from '@fpsattn/kernels/testing';
import { WAN_VAE_CONFIG_PRESETS, WanVaeDeviceDecoder, WanVaeDeviceWeights, syntheticWanVaeLatents, syntheticWanVaeWeights, wanVaeDecodeCpu } from '../dist/index.js';

const { backend: gpu, skipReason } = gpuTestBackend({ suite: 'wan VAE device decoder GPU suite', dryRun: true });

/** ||a - b|| / ||b|| (fp8's errorStats: float64, same length or it throws). */
const relativeL2 = (a, b) => errorStats({ approx: a, reference: b }).relativeL2;

const tiny = WAN_VAE_CONFIG_PRESETS['wan-vae-tiny'];
const real = WAN_VAE_CONFIG_PRESETS['wan-vae'];
const CASES = [
  // float32: also against the float32 CPU decoder (cheap at these sizes).
  { name: 'wan-vae-tiny [16, 5, 4, 6]', config: tiny, latentShape: [16, 5, 4, 6], float32: true, im2colBytes: 20_000 },
  { name: 'wan-vae (real widths) [16, 2, 2, 3]', config: real, latentShape: [16, 2, 2, 3], float32: false },
  { name: 'wan-vae-tiny [16, 4, 12, 20]', config: tiny, latentShape: [16, 4, 12, 20], float32: true },
];
/**
 * CUDA vs the CPU backend: the same ops and roundings, accumulation in another order (cuBLASLt F32 vs float64), which
 * flips a BF16 rounding here and there and lets it travel through ~30 layers and the caches. Measured on an H200
 * (session 5): 8.6e-3 (5 latent frames), 9.4e-3 (real widths), 1.8e-2 (tiny widths, 4 frames of 12 x 20 latents):
 * the size of the BF16 level itself (CPU backend vs float32 decoder 2.0e-2 on these random networks), so the bar is
 * 3e-2. What holds CUDA to the standard is the float32 comparison: its error against the float32 decoder must be at
 * most 2x the CPU backend's (the same-precision reference), and below the vitest bar (3e-2 on BF16-exact weights;
 * these weights are not rounded first, which adds about 1.5e-2).
 */
const TWIN_TOLERANCE = 3e-2;
const FLOAT32_TOLERANCE = 5e-2;

describe(`wan VAE device decoder on ${gpu?.device?.name ?? gpu?.name ?? 'no device'}`, { skip: skipReason ?? false }, () => {
  test('CUDA decode = CPU-backend decode (same ops) and ~ float32 CPU decode; nothing leaked', async () => {
    const inUse = () => {
      gpu.emptyCache?.();
      return gpu.memoryStats?.()?.bytesInUse ?? 0;
    };
    const before = inUse();
    const cpu = new CpuBackend();
    for (const c of CASES) {
      const weights = syntheticWanVaeWeights({ config: c.config, seed: 2024 });
      const latents = syntheticWanVaeLatents({ latentShape: c.latentShape, seed: 17 });
      const onGpu = WanVaeDeviceWeights.upload({ backend: gpu, config: c.config, weights });
      const onCpu = WanVaeDeviceWeights.upload({ backend: cpu, config: c.config, weights });
      const budget = c.im2colBytes === undefined ? {} : { im2colBytes: c.im2colBytes };
      let t0 = performance.now();
      const a = await new WanVaeDeviceDecoder({ weights: onGpu, ...budget }).decode({ latents, latentShape: c.latentShape });
      const gpuMs = performance.now() - t0;
      t0 = performance.now();
      const b = await new WanVaeDeviceDecoder({ weights: onCpu, ...budget }).decode({ latents, latentShape: c.latentShape });
      const cpuMs = performance.now() - t0;
      assert.deepEqual(a.shape, b.shape);
      assert.ok(a.frames.every((v) => v >= -1 && v <= 1), `${c.name}: values outside [-1, 1] or NaN`);
      const twin = relativeL2(a.frames, b.frames);
      let line = `# ${c.name} -> [${a.shape.join(', ')}]: CUDA vs CPU backend ${twin.toExponential(3)} (CUDA ${gpuMs.toFixed(0)} ms, CPU backend ${cpuMs.toFixed(0)} ms)`;
      assert.ok(twin < TWIN_TOLERANCE, `${c.name}: CUDA vs CPU backend relL2 ${twin}`);
      if (c.float32) {
        const ref = wanVaeDecodeCpu({ weights, config: c.config, latents, latentShape: c.latentShape });
        const f32 = relativeL2(a.frames, ref.frames);
        const sameLevel = relativeL2(b.frames, ref.frames);
        line += `, CUDA vs float32 decoder ${f32.toExponential(3)} (CPU backend vs float32 ${sameLevel.toExponential(3)})`;
        assert.ok(f32 < FLOAT32_TOLERANCE, `${c.name}: CUDA vs float32 decoder relL2 ${f32}`);
        assert.ok(f32 <= 2 * sameLevel, `${c.name}: CUDA vs float32 ${f32} is more than 2x the CPU backend's ${sameLevel}`);
        // BF16 output: the same frames rounded once (another decode: cuBLASLt may pick another order, so compare values).
        const half = await new WanVaeDeviceDecoder({ weights: onGpu, ...budget }).decode({ latents, latentShape: c.latentShape, outDtype: 'bf16' });
        const widened = Float32Array.from(half.frames, (bits) => new Float32Array(new Uint32Array([bits << 16]).buffer)[0]);
        const bf16 = relativeL2(widened, a.frames);
        line += `, BF16 output vs F32 output ${bf16.toExponential(3)}`;
        assert.ok(bf16 < 4e-3, `${c.name}: BF16 output relL2 ${bf16}`);
      }
      console.log(line);
      onGpu.dispose();
      onCpu.dispose();
    }
    const after = inUse();
    console.log(`# device bytes in use before ${before}, after ${after}; peak ${gpu.memoryStats?.()?.peakBytesInUse ?? 'n/a'}`);
    assert.ok(after <= before, `device memory not freed: ${after - before} bytes still in use`);
  });
});
