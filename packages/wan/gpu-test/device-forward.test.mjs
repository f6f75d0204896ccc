// GPU suite of the Wan DiT's device forward (wan-tiny, synthetic weights): the CUDA forward against the same forward on
// the CPU backend (every op's float64 twin with the same BF16 roundings) and against the float32 CPU forward
// (model/cpu-forward.ts, no BF16 at all), per batch item, for dense BF16 and for FP8 / sparse plans; after dispose the
// device holds no more than before. Without a CUDA device the suite is skipped with the reason.
// Run: node --test packages/wan/gpu-test/device-forward.test.mjs (after npm run build; FPSATTN_GPU_TEST_ON_CPU=1: dry run).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultAttentionGeometryCache } from '@fpsattn/attention';
import { errorStats } from '@fpsattn/fp8';
import { CpuBackend } from '@fpsattn/kernels';
import { gpuTestBackend } from '@fpsattn/kernels/testing';
import { WAN_CONFIG_PRESETS, WanDeviceDit, WanDeviceWeights, syntheticWanInputs, syntheticWanWeights, wanForwardCpu } from '../dist/index.js';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];
const { backend: gpu, skipReason } = gpuTestBackend({ suite: 'wan device forward GPU suite', dryRun: true });

/** ||a - b|| / ||b|| (fp8's errorStats: float64, same length or it throws). */
const relativeL2 = (a, b) => errorStats({ approx: a, reference: b }).relativeL2;

const SEED = 2024;
const weights = syntheticWanWeights({ config: tiny, seed: SEED });
const CASES = [
  // 3 x 4 x 5 = 60 tokens (one partial block), and 5 x 12 x 20 = 1,200 tokens (10 blocks, the last partial).
  { name: '60 tokens', latentShape: [16, 3, 8, 10], lengths: [5, 0] },
  { name: '1,200 tokens', latentShape: [16, 5, 24, 40], lengths: [16, 3] },
];
const PLANS = {
  'dense-bf16': undefined,
  'fp8 tile / fp8-sparse per layer': (layer) =>
    layer === 0
      ? { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 4, 5] } }
      : { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 4, 5] }, sparsity: { tile: [1, 4, 5], window: { kind: 'clamped', tiles: [1, 1, 1] } } },
};

describe(`wan device forward on ${gpu?.device?.name ?? gpu?.name ?? 'no device'}`, { skip: skipReason ?? false }, () => {
  test('CUDA forward = CPU-backend forward (same ops) and ~ float32 CPU forward, batch 2, every plan; nothing leaked', async () => {
    // bytesInUse counts storages parked in the pool too: empty it around the measurement. The attention op's geometry
    // cache keeps its device maps on purpose (across steps), so it is cleared as well.
    const inUse = () => {
      defaultAttentionGeometryCache.clear();
      gpu.emptyCache?.();
      return gpu.memoryStats?.()?.bytesInUse ?? 0;
    };
    const before = inUse();
    const cpu = new CpuBackend();
    const onGpu = WanDeviceWeights.upload({ backend: gpu, config: tiny, weights });
    const onCpu = WanDeviceWeights.upload({ backend: cpu, config: tiny, weights });
    const [ditGpu, ditCpu] = [new WanDeviceDit(onGpu), new WanDeviceDit(onCpu)];
    for (const c of CASES) {
      const inputs = c.lengths.map((contextLength, i) => syntheticWanInputs({ config: tiny, seed: SEED + i, latentShape: c.latentShape, contextLength }));
      const contexts = inputs.map((x, i) => ({ values: x.context, length: c.lengths[i] }));
      const [textGpu, textCpu] = [ditGpu.encodeText({ contexts }), ditCpu.encodeText({ contexts })];
      const timestep = 811;
      const ref = inputs.map((x, b) => wanForwardCpu({ weights, config: tiny, latents: x.latents, latentShape: c.latentShape, timestep, context: x.context, contextLength: c.lengths[b] }));
      for (const [planName, plan] of Object.entries(PLANS)) {
        const options = { latents: inputs.map((x) => x.latents), latentShape: c.latentShape, timestep, ...(plan ? { attention: plan } : {}) };
        const a = await ditGpu.forward({ ...options, text: textGpu });
        const b = await ditCpu.forward({ ...options, text: textCpu });
        for (let item = 0; item < 2; item++) {
          assert.ok(a[item].every(Number.isFinite), `${c.name} ${planName} item ${item}: non-finite output`);
          const twin = relativeL2(a[item], b[item]);
          const f32 = relativeL2(a[item], ref[item]);
          const twinF32 = relativeL2(b[item], ref[item]);
          console.log(`# ${c.name} ${planName} item ${item}: CUDA vs CPU backend ${twin.toExponential(3)}, CUDA vs float32 forward ${f32.toExponential(3)} (CPU backend vs float32 ${twinF32.toExponential(3)})`);
          // Same ops, same BF16 roundings; only accumulation order differs, which can flip a BF16 rounding here and
          // there: far below the BF16-vs-float32 gap itself.
          assert.ok(twin < 3e-3, `${c.name} ${planName} item ${item}: CUDA vs CPU backend relL2 ${twin}`);
          if (!plan) assert.ok(f32 < 1e-2, `${c.name} item ${item}: CUDA vs float32 forward relL2 ${f32}`);
          else assert.ok(f32 < 0.08, `${c.name} ${planName} item ${item}: CUDA vs float32 forward relL2 ${f32}`);
        }
      }
      textGpu.dispose();
      textCpu.dispose();
    }
    ditGpu.dispose();
    ditCpu.dispose();
    onGpu.dispose();
    onCpu.dispose();
    const after = inUse();
    console.log(`# device bytes in use before ${before}, after ${after}`);
    assert.ok(after <= before, `device memory not freed: ${after - before} bytes still in use`);
  });
});
