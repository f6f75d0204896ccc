import { CpuBackend, type Tensor } from '@fpsattn/kernels';
import { describe, expect, it } from 'vitest';
import { SamplerNonFiniteError } from '../sampler/errors';
import { sample } from '../sampler/sample';
import type { VelocityModelInput } from '../sampler/types';
import { type DeviceVelocityModelInput, sampleOnDevice } from './device-sample';

const backend = new CpuBackend();

/** A velocity field that depends on the latents, the step and the position (not linear, so every buffer matters). */
function velocities(latents: Float32Array, stepIndex: number, sigma: number): { cond: Float32Array; uncond: Float32Array } {
  const cond = new Float32Array(latents.length);
  const uncond = new Float32Array(latents.length);
  for (let k = 0; k < latents.length; k++) {
    const x = latents[k]!;
    cond[k] = Math.sin(1.3 * x + 0.01 * k + stepIndex) * (1 + sigma) - 0.4 * x;
    uncond[k] = Math.cos(0.7 * x - 0.02 * k) * 0.8 + 0.1 * stepIndex;
  }
  return { cond, uncond };
}

const hostModel = ({ latents, stepIndex, sigma }: VelocityModelInput) => velocities(latents, stepIndex, sigma);

function deviceModel(options: { poison?: { step: number; tensor: 'cond' | 'uncond'; index: number; value: number } } = {}) {
  return ({ latents, stepIndex, sigma }: DeviceVelocityModelInput) => {
    const { cond, uncond } = velocities(latents.downloadSync(), stepIndex, sigma);
    const { poison } = options;
    if (poison && poison.step === stepIndex) (poison.tensor === 'cond' ? cond : uncond)[poison.index] = poison.value;
    return { cond: backend.fromArray(cond, [...latents.shape], 'f32'), uncond: backend.fromArray(uncond, [...latents.shape], 'f32') };
  };
}

const bits = (a: Float32Array) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));

describe('sampleOnDevice', () => {
  it.each([
    { solver: 'unipc', steps: 1, shape: [2, 3, 4, 5] },
    { solver: 'unipc', steps: 2, shape: [3, 1, 5, 7] },
    { solver: 'unipc', steps: 3, shape: [16, 2, 3, 3] },
    { solver: 'unipc', steps: 10, shape: [4, 3, 6, 2] },
    { solver: 'euler', steps: 1, shape: [2, 3, 4, 5] },
    { solver: 'euler', steps: 2, shape: [3, 1, 5, 7] },
    { solver: 'euler', steps: 3, shape: [16, 2, 3, 3] },
    { solver: 'euler', steps: 10, shape: [4, 3, 6, 2] },
  ] as const)('gives the host sampler\'s final latents bit for bit ($solver, $steps steps, [$shape], guided)', async ({ solver, steps, shape }) => {
    const common = { latentShape: shape, seed: 7 + steps, steps, shift: 5, guidance: 4.5, solver };
    const host = await sample({ ...common, model: hostModel });
    const progress: number[] = [];
    const device = await sampleOnDevice({ ...common, backend, model: deviceModel(), onStep: ({ stepIndex }) => progress.push(stepIndex) });
    expect(bits(device.latents)).toEqual(bits(host.latents));
    expect(device.schedule.timesteps).toEqual(host.schedule.timesteps);
    expect(progress).toEqual(Array.from({ length: steps }, (_, i) => i));
    // the result differs from the noise: the loop did run
    expect(bits(device.latents)).not.toEqual(bits(new Float32Array(device.latents.length)));
  });

  it('takes an unguided velocity as the host sampler does (-0 kept), and the given noise', async () => {
    const shape = [2, 2, 3, 3];
    const noise = Float32Array.from({ length: 36 }, (_, k) => Math.sin(k) * 2);
    const host = await sample({ latentShape: shape, noise, steps: 4, solver: 'unipc', model: ({ latents, stepIndex, sigma }) => ({ velocity: velocities(latents, stepIndex, sigma).cond }) });
    const device = await sampleOnDevice({
      latentShape: shape,
      noise,
      steps: 4,
      solver: 'unipc',
      backend,
      model: ({ latents, stepIndex, sigma }) => ({ velocity: backend.fromArray(velocities(latents.downloadSync(), stepIndex, sigma).cond, [...shape], 'f32') }),
    });
    expect(bits(device.latents)).toEqual(bits(host.latents));
  });

  it.each([
    { solver: 'unipc', poison: { step: 0, tensor: 'cond', index: 5, value: Number.NaN } },
    { solver: 'unipc', poison: { step: 2, tensor: 'uncond', index: 17, value: Number.POSITIVE_INFINITY } },
    { solver: 'euler', poison: { step: 1, tensor: 'cond', index: 0, value: Number.NEGATIVE_INFINITY } },
    { solver: 'unipc', poison: { step: 1, tensor: 'cond', index: 9, value: 3e38 } }, // guidance overflows float32
  ] as const)('raises the host sampler\'s error for a non-finite velocity ($solver, $poison.tensor at step $poison.step)', async ({ solver, poison }) => {
    const common = { latentShape: [2, 3, 4, 5], seed: 3, steps: 4, solver, guidance: 5 };
    const poisoned = (input: VelocityModelInput) => {
      const out = hostModel(input);
      if (input.stepIndex === poison.step) out[poison.tensor][poison.index] = poison.value;
      return out;
    };
    const hostError = await sample({ ...common, model: poisoned }).then(
      () => null,
      (e: unknown) => e,
    );
    const deviceError = await sampleOnDevice({ ...common, backend, model: deviceModel({ poison }) }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(hostError).toBeInstanceOf(SamplerNonFiniteError);
    expect(deviceError).toBeInstanceOf(SamplerNonFiniteError);
    expect((deviceError as Error).message).toBe((hostError as Error).message);
    expect(deviceError).toMatchObject({ code: (hostError as SamplerNonFiniteError).code, stepIndex: poison.step, index: poison.index });
  });

  it('disposes what the model returned and its own buffers', async () => {
    const made: Tensor[] = [];
    const model = deviceModel();
    await sampleOnDevice({
      latentShape: [2, 2, 2, 2],
      seed: 1,
      steps: 3,
      backend,
      model: (input) => {
        const out = model(input);
        made.push(out.cond, out.uncond);
        return out;
      },
    });
    expect(made).toHaveLength(6);
    expect(made.every((t) => t.disposed)).toBe(true);
  });
});
