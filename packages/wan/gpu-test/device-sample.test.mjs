// GPU suite of the device-resident sampling loop (sampleOnDevice + wanDeviceTensorModel, CUDA's default): on CUDA, the same
// tiny DiT driven by the host sampler (`sample` + wanDeviceVelocityModel: velocities downloaded, solver in JS) and by
// the device loop (latents on the device, one flowSolverStep per step) must give the same final latents bit for bit,
// for UniPC and Euler, guided, several step counts; forwardDevice must equal forward bit for bit; a NaN velocity must
// raise the host sampler's error; nothing leaks. Without a CUDA device the suite is skipped with the reason.
// Run: node --test packages/wan/gpu-test/device-sample.test.mjs (after npm run build; FPSATTN_GPU_TEST_ON_CPU=1: dry run).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { defaultAttentionGeometryCache } from '@fpsattn/attention';
import { gpuTestBackend } from '@fpsattn/kernels/testing';
import {
  SamplerNonFiniteError,
  WAN_CONFIG_PRESETS,
  WanDeviceDit,
  WanDeviceWeights,
  sample,
  sampleOnDevice,
  syntheticWanInputs,
  syntheticWanWeights,
  wanDeviceTensorModel,
  wanDeviceVelocityModel,
} from '../dist/index.js';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];
const { backend: gpu, skipReason } = gpuTestBackend({ suite: 'wan device sampler GPU suite', dryRun: true });
const LATENT_SHAPE = [16, 5, 24, 40]; // 1,200 tokens
const bits = (a) => new Uint32Array(a.buffer, a.byteOffset, a.length);
const sameBits = (a, b) => a.length === b.length && bits(a).every((v, i) => v === bits(b)[i]);

describe(`wan device sampler on ${gpu?.device?.name ?? gpu?.name ?? 'no device'}`, { skip: skipReason ?? false }, () => {
  test('sampleOnDevice = sample bit for bit with the same DiT (UniPC and Euler, 1, 2, 3 and 10 steps); errors match; nothing leaked', async () => {
    const inUse = () => {
      defaultAttentionGeometryCache.clear();
      gpu.emptyCache?.();
      return gpu.memoryStats?.()?.bytesInUse ?? 0;
    };
    const before = inUse();
    const weights = WanDeviceWeights.upload({ backend: gpu, config: tiny, weights: syntheticWanWeights({ config: tiny, seed: 31 }) });
    const dit = new WanDeviceDit(weights);
    const inputs = [7, 2].map((contextLength, i) => syntheticWanInputs({ config: tiny, seed: 40 + i, latentShape: LATENT_SHAPE, contextLength }));
    const text = dit.encodeText({ contexts: inputs.map((x, i) => ({ values: x.context, length: [7, 2][i] })) });

    // forwardDevice = forward
    const x = inputs[0].latents;
    const host = await dit.forward({ latents: [x, x], latentShape: LATENT_SHAPE, timestep: 777, text });
    const latents = gpu.fromArray(x, [1, ...LATENT_SHAPE], 'f32');
    const velocity = await dit.forwardDevice({ latents, repeat: 2, latentShape: LATENT_SHAPE, timestep: 777, text });
    const v = await velocity.download();
    velocity.dispose();
    latents.dispose();
    assert.ok(sameBits(v.subarray(0, x.length), host[0]) && sameBits(v.subarray(x.length), host[1]), 'forwardDevice differs from forward');

    for (const solver of ['unipc', 'euler']) {
      for (const steps of [1, 2, 3, 10]) {
        const common = { latentShape: LATENT_SHAPE, seed: 100 + steps, steps, shift: 5, guidance: 5, solver };
        const a = await sample({ ...common, model: wanDeviceVelocityModel({ dit, text, latentShape: LATENT_SHAPE }) });
        const t0 = performance.now();
        const b = await sampleOnDevice({ ...common, backend: gpu, model: wanDeviceTensorModel({ dit, text, latentShape: LATENT_SHAPE }) });
        console.log(`# ${solver} ${steps} steps: device loop ${(performance.now() - t0).toFixed(0)} ms`);
        assert.ok(sameBits(b.latents, a.latents), `${solver} ${steps} steps: device loop differs from the host sampler`);
      }
    }

    // a NaN in cond at step 1: the host sampler's error, message included
    const poisoned = (base) => async (input) => {
      const out = await base(input);
      if (input.stepIndex !== 1) return out;
      if (out.cond instanceof Float32Array) {
        out.cond[123] = Number.NaN;
        return out;
      }
      const cond = await out.cond.download();
      cond[123] = Number.NaN;
      out.cond.dispose();
      return { cond: gpu.fromArray(cond, [1, ...LATENT_SHAPE], 'f32'), uncond: out.uncond };
    };
    const common = { latentShape: LATENT_SHAPE, seed: 9, steps: 3, solver: 'unipc' };
    const hostError = await sample({ ...common, model: poisoned(wanDeviceVelocityModel({ dit, text, latentShape: LATENT_SHAPE })) }).catch((e) => e);
    const deviceError = await sampleOnDevice({ ...common, backend: gpu, model: poisoned(wanDeviceTensorModel({ dit, text, latentShape: LATENT_SHAPE })) }).catch((e) => e);
    assert.ok(hostError instanceof SamplerNonFiniteError && deviceError instanceof SamplerNonFiniteError);
    assert.equal(deviceError.message, hostError.message);

    text.dispose();
    dit.dispose();
    weights.dispose();
    assert.ok(inUse() <= before, 'device memory left after dispose');
  });
});
