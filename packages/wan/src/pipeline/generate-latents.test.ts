// Text embeddings to latents on the CPU backend (wan-tiny): the run against the same sampler driven by the float32 CPU
// forward (an independent implementation of the DiT), the file it writes, the schedule's plans per step, interruption.
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CpuBackend } from '@fpsattn/kernels';
import { parseScheduleConfig } from '@fpsattn/scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WanDeviceDit } from '../device/device-forward';
import { WanDeviceWeights } from '../device/device-weights';
import { WAN_CONFIG_PRESETS } from '../model/config';
import { wanForwardCpu } from '../model/cpu-forward';
import { syntheticWanInputs } from '../model/synthetic-inputs';
import { syntheticWanWeights } from '../model/synthetic-weights';
import type { WanWeights } from '../model/types';
import { SamplerAbortedError, SamplerOptionError } from '../sampler/errors';
import { sample } from '../sampler/sample';
import { openSafetensors } from '../safetensors/reader';
import { generateLatents, latentShapeFor } from './generate-latents';
import { defaultSamplerLoop } from './sampler-loop';
import { type TextEmbeddings, readTextEmbeddings, writeTextEmbeddings } from './text-embeddings';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];
const SIZE = { width: 80, height: 64, frames: 17 }; // latents [16, 5, 8, 10]: 5 x 4 x 5 = 100 tokens
const STEPS = 3;
let dir: string;
let weights: WanWeights;
let dit: WanDeviceDit;
let embeddings: TextEmbeddings;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'fpsattn-latents-'));
  weights = syntheticWanWeights({ config: tiny, seed: 5 });
  dit = new WanDeviceDit(WanDeviceWeights.upload({ backend: new CpuBackend(), config: tiny, weights }));
  const [p, n] = [7, 2].map((length, i) => syntheticWanInputs({ config: tiny, seed: 40 + i, latentShape: [16, 1, 2, 2], contextLength: length }).context);
  await writeTextEmbeddings({ path: join(dir, 'text.safetensors'), textDim: tiny.textDim, prompt: { values: p!, length: 7 }, negative: { values: n!, length: 2 }, metadata: { prompt: 'a red fox', negative_prompt: 'blurry' } });
  embeddings = await readTextEmbeddings({ path: join(dir, 'text.safetensors'), textDim: tiny.textDim, textLen: tiny.textLen });
});
afterAll(() => {
  dit.dispose();
  rmSync(dir, { recursive: true, force: true });
});

const relativeL2 = (a: Float32Array, b: Float32Array): number => {
  let e = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    e += ((a[i] as number) - (b[i] as number)) ** 2;
    n += (b[i] as number) ** 2;
  }
  return Math.sqrt(e / n);
};

describe('latentShapeFor', () => {
  it("gives Wan's latent shapes and refuses sizes the VAE and the patch cannot take", () => {
    expect(latentShapeFor({ width: 832, height: 480, frames: 81 })).toEqual([16, 21, 60, 104]);
    expect(latentShapeFor({ width: 1280, height: 720, frames: 81 })).toEqual([16, 21, 90, 160]);
    expect(() => latentShapeFor({ width: 832, height: 480, frames: 80 })).toThrow(/frames is 80: expected 4k \+ 1/);
    expect(() => latentShapeFor({ width: 840, height: 480, frames: 81 })).toThrow(/width is 840: expected a multiple of 16/);
  });
});

describe('generateLatents (CPU backend, wan-tiny)', () => {
  it('denoises like the same sampler driven by the float32 CPU forward, and writes the latents with their metadata', async () => {
    const out = join(dir, 'dense.safetensors');
    const steps: string[] = [];
    const r = await generateLatents({ dit, embeddings, ...SIZE, seed: 11, steps: STEPS, out, onStep: (s) => steps.push(`${s.stepIndex}:${s.modes}`) });
    expect(r.latentShape).toEqual([16, 5, 8, 10]);
    expect(steps).toEqual(['0:dense-bf16', '1:dense-bf16', '2:dense-bf16']);

    const latentShape = [16, 5, 8, 10];
    const cpu = (context: Float32Array, contextLength: number, latents: Float32Array, timestep: number) =>
      wanForwardCpu({ weights, config: tiny, latents, latentShape, timestep, context, contextLength });
    const reference = await sample({
      latentShape,
      seed: 11,
      steps: STEPS,
      model: ({ latents, timestep }) => ({
        cond: cpu(embeddings.prompt.values, embeddings.prompt.length, latents, timestep),
        uncond: cpu(embeddings.negative.values, embeddings.negative.length, latents, timestep),
      }),
    });
    const e = relativeL2(r.latents, reference.latents);
    expect(e).toBeGreaterThan(0); // BF16 activations on one side, float32 on the other
    expect(e).toBeLessThan(1e-2);

    const file = await openSafetensors(out);
    try {
      expect(Array.from(await file.readAsFloat32('latents'))).toEqual(Array.from(r.latents));
      expect(file.tensors.get('latents')!.shape).toEqual(latentShape);
      expect(file.metadata).toMatchObject({ format: 'fpsattn-wan-latents', seed: '11', steps: '3', shift: '5', guidance: '5', solver: 'unipc', frames: '17', schedule: 'dense', prompt: 'a red fox', negative_prompt: 'blurry' });
      expect(JSON.parse(file.metadata.timesteps!)).toEqual(Array.from(reference.schedule.timesteps));
      expect(JSON.parse(file.metadata.model!)).toEqual(JSON.parse(JSON.stringify(tiny)));
    } finally {
      await file.close();
    }
  });

  it("plans each step's self-attention from the schedule (dense warm-up, then FP8 sparse)", async () => {
    const schedule = parseScheduleConfig({
      steps: STEPS,
      alpha1: 0.34,
      alpha2: 0.67,
      denseSteps: 1,
      grid: { frames: 5, height: 4, width: 5 },
      model: { layers: tiny.numLayers, heads: tiny.numHeads, headDim: 128 },
      phases: {
        early: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 2, 5] }, sparsity: { tile: [1, 2, 5], window: { kind: 'clamped', tiles: [3, 1, 1] } } },
        middle: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 2, 5] }, sparsity: { tile: [1, 2, 5], window: { kind: 'clamped', tiles: [3, 1, 1] } } },
        late: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 2, 5] } },
      },
      overrides: [],
    });
    const modes: string[] = [];
    const r = await generateLatents({ dit, embeddings, ...SIZE, seed: 11, steps: STEPS, schedule, out: join(dir, 'planned.safetensors'), onStep: (s) => modes.push(s.modes) });
    expect(modes[0]).toBe('dense-bf16');
    expect(modes.slice(1).every((m) => m.startsWith('fp8'))).toBe(true);
    const dense = await generateLatents({ dit, embeddings, ...SIZE, seed: 11, steps: STEPS, out: join(dir, 'dense2.safetensors') });
    const e = relativeL2(r.latents, dense.latents);
    expect(e).toBeGreaterThan(1e-5);
    expect(e).toBeLessThan(0.1);
    expect(JSON.parse(r.metadata.schedule!).phases.late.mode).toBe('fp8-dense');
  });

  it("sampler 'device': the same latents bit for bit, with the schedule's plans, and the same file", async () => {
    const schedule = parseScheduleConfig({
      steps: STEPS,
      alpha1: 0.34,
      alpha2: 0.67,
      denseSteps: 1,
      grid: { frames: 5, height: 4, width: 5 },
      model: { layers: tiny.numLayers, heads: tiny.numHeads, headDim: 128 },
      phases: {
        early: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 2, 5] }, sparsity: { tile: [1, 2, 5], window: { kind: 'clamped', tiles: [3, 1, 1] } } },
        middle: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 2, 5] } },
        late: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 2, 5] } },
      },
      overrides: [],
    });
    const hostModes: string[] = [];
    const deviceModes: string[] = [];
    const host = await generateLatents({ dit, embeddings, ...SIZE, seed: 12, steps: STEPS, schedule, out: join(dir, 'host-loop.safetensors'), onStep: (s) => hostModes.push(s.modes) });
    const device = await generateLatents({ dit, embeddings, ...SIZE, seed: 12, steps: STEPS, schedule, sampler: 'device', out: join(dir, 'device-loop.safetensors'), onStep: (s) => deviceModes.push(s.modes) });
    // The CPU backend's default is the host sampler; each run says which loop ran, in its result and its file.
    expect([host.sampler, host.metadata.sampler]).toEqual(['host', 'host']);
    expect([device.sampler, device.metadata.sampler]).toEqual(['device', 'device']);
    expect(Array.from(new Uint32Array(device.latents.buffer, device.latents.byteOffset, device.latents.length))).toEqual(Array.from(new Uint32Array(host.latents.buffer, host.latents.byteOffset, host.latents.length)));
    expect(deviceModes).toEqual(hostModes);
    expect(deviceModes.slice(1).every((m) => m.startsWith('fp8'))).toBe(true);
    const file = await openSafetensors(join(dir, 'device-loop.safetensors'));
    try {
      expect(await file.readAsFloat32('latents')).toEqual(host.latents);
      expect(file.metadata.sampler).toBe('device');
    } finally {
      await file.close();
    }
  });

  it("sampler defaults by backend: 'device' on CUDA, 'host' elsewhere; an explicit 'host' runs the host loop", async () => {
    expect(defaultSamplerLoop({ name: 'cuda' })).toBe('device');
    expect(defaultSamplerLoop({ name: 'cpu' })).toBe('host');
    expect(defaultSamplerLoop(dit.backend)).toBe('host');
    const r = await generateLatents({ dit, embeddings, ...SIZE, seed: 3, steps: 1, sampler: 'host', out: join(dir, 'explicit-host.safetensors') });
    expect(r.sampler).toBe('host');
  });

  it('stops on abort between steps, writing nothing under the final name', async () => {
    const out = join(dir, 'aborted.safetensors');
    const controller = new AbortController();
    await expect(
      generateLatents({ dit, embeddings, ...SIZE, seed: 1, steps: STEPS, out, signal: controller.signal, onStep: () => controller.abort() }),
    ).rejects.toBeInstanceOf(SamplerAbortedError);
    expect(readdirSync(dir).filter((f) => f.startsWith('aborted'))).toEqual([]);
  });

  it('refuses bad options before any work', async () => {
    await expect(generateLatents({ dit, embeddings, ...SIZE, frames: 16, seed: 1, out: join(dir, 'x.safetensors') })).rejects.toBeInstanceOf(SamplerOptionError);
    await expect(generateLatents({ dit, embeddings, ...SIZE, seed: 1, out: join(dir, 'x.bin') })).rejects.toThrow(/out is .*\.safetensors/);
    // A JavaScript caller's wrong value (TypeScript refuses it): named, before any work.
    await expect(generateLatents({ dit, embeddings, ...SIZE, seed: 1, out: join(dir, 'x.safetensors'), sampler: 'gpu' as 'device' })).rejects.toThrow(/sampler is "gpu": expected one of 'host', 'device'/);
    expect(readdirSync(dir).filter((f) => f.startsWith('x.'))).toEqual([]);
  });
});

describe('readTextEmbeddings', () => {
  it('names the file and tensor of a missing tensor, a wrong width or too many tokens', async () => {
    const path = join(dir, 'bad.safetensors');
    await writeTextEmbeddings({ path, textDim: 8, prompt: { values: new Float32Array(16), length: 2 }, negative: { values: new Float32Array(8), length: 1 } });
    await expect(readTextEmbeddings({ path, textDim: tiny.textDim, textLen: tiny.textLen })).rejects.toThrow(/bad\.safetensors.*prompt.*expected \[tokens, 32\]/);
    const long = join(dir, 'long.safetensors');
    await writeTextEmbeddings({ path: long, textDim: 4, prompt: { values: new Float32Array(4 * 20), length: 20 }, negative: { values: new Float32Array(4), length: 1 } });
    await expect(readTextEmbeddings({ path: long, textDim: 4, textLen: 16 })).rejects.toThrow(/20 tokens, more than the model's text length 16/);
  });
});
