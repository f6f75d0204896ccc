// The device DiT on device latents (forwardDevice, wanDeviceTensorModel) against its host-array path, on the CPU
// backend: the same forward, so the same bits; and a whole device-sampler run against `sample` with the host model.
import { CpuBackend } from '@fpsattn/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import { WAN_CONFIG_PRESETS } from '../model/config';
import { WanInputError } from '../model/errors';
import { syntheticWanInputs } from '../model/synthetic-inputs';
import { syntheticWanWeights } from '../model/synthetic-weights';
import { sample } from '../sampler/sample';
import { WanDeviceDit, type WanDeviceText } from './device-forward';
import { sampleOnDevice } from './device-sample';
import { WanDeviceWeights } from './device-weights';
import { wanDeviceTensorModel, wanDeviceVelocityModel } from './velocity-model';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];
const LATENT_SHAPE = [16, 2, 4, 6];
const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

let backend: CpuBackend;
let dit: WanDeviceDit;
let text: WanDeviceText;
const inputs = [4, 0].map((contextLength, i) => syntheticWanInputs({ config: tiny, seed: 91 + i, latentShape: LATENT_SHAPE, contextLength }));

beforeAll(() => {
  backend = new CpuBackend();
  dit = new WanDeviceDit(WanDeviceWeights.upload({ backend, config: tiny, weights: syntheticWanWeights({ config: tiny, seed: 90 }) }));
  text = dit.encodeText({ contexts: inputs.map((x, i) => ({ values: x.context, length: [4, 0][i]! })) });
});

describe('WanDeviceDit.forwardDevice', () => {
  it('returns forward\'s velocities bit for bit, as one tensor [items x repeat, outDim, F, H, W]', async () => {
    const x = inputs[0]!.latents;
    const host = await dit.forward({ latents: [x, x], latentShape: LATENT_SHAPE, timestep: 801, text });
    const latents = backend.fromArray(x, [1, ...LATENT_SHAPE], 'f32');
    const velocity = await dit.forwardDevice({ latents, repeat: 2, latentShape: LATENT_SHAPE, timestep: 801, text });
    expect(velocity.shape).toEqual([2, ...LATENT_SHAPE]);
    const values = velocity.downloadSync();
    const n = x.length;
    expect(bits(values.subarray(0, n))).toEqual(bits(host[0]!));
    expect(bits(values.subarray(n))).toEqual(bits(host[1]!));
    expect(bits(host[0]!)).not.toEqual(bits(host[1]!)); // the two prompts differ
    velocity.dispose();
    // two different items, repeat 1
    const two = await dit.forward({ latents: inputs.map((i) => i.latents), latentShape: LATENT_SHAPE, timestep: 500, text });
    const both = backend.fromArray(Float32Array.of(...inputs[0]!.latents, ...inputs[1]!.latents), [2, ...LATENT_SHAPE], 'f32');
    const v2 = await dit.forwardDevice({ latents: both, latentShape: LATENT_SHAPE, timestep: 500, text });
    expect(bits(v2.downloadSync())).toEqual(bits(Float32Array.of(...two[0]!, ...two[1]!)));
    v2.dispose();
    expect(both.disposed).toBe(false); // the caller's latents are only read
  });

  it('refuses latents of the wrong shape or batch, naming the input', async () => {
    const latents = backend.fromArray(inputs[0]!.latents, [1, ...LATENT_SHAPE], 'f32');
    await expect(dit.forwardDevice({ latents, latentShape: LATENT_SHAPE, timestep: 1, text })).rejects.toMatchObject({ input: 'text' });
    await expect(dit.forwardDevice({ latents: latents.reshape([1, 16, 2, 6, 4]), repeat: 2, latentShape: LATENT_SHAPE, timestep: 1, text })).rejects.toBeInstanceOf(WanInputError);
  });
});

describe('sampleOnDevice with the device DiT', () => {
  it.each(['unipc', 'euler'] as const)('gives sample()\'s latents bit for bit with the same DiT (%s, 3 steps)', async (solver) => {
    const common = { latentShape: LATENT_SHAPE, seed: 5, steps: 3, shift: 5, guidance: 5, solver };
    const host = await sample({ ...common, model: wanDeviceVelocityModel({ dit, text, latentShape: LATENT_SHAPE }) });
    const device = await sampleOnDevice({ ...common, backend, model: wanDeviceTensorModel({ dit, text, latentShape: LATENT_SHAPE }) });
    expect(bits(device.latents)).toEqual(bits(host.latents));
  });
});
