/**
 * Text embeddings to denoised latents: the Wan2.1 T2V sampling run of wan21-architecture.md 4 (flow matching, UniPC
 * or Euler, classifier-free guidance on a batch of 2) with the DiT on a backend and self-attention planned per step by a
 * @fpsattn/scheduler schedule, written as a safetensors file whose metadata is enough to reproduce the run.
 *
 * The loop: `sampleOnDevice` (latents on the device) on CUDA, `sample` (the host sampler) on the CPU backend, unless
 * `sampler` chooses (sampler-loop.ts); the two give the same latents bit for bit.
 *
 * Output file: `latents` F32 [16, F', H', W'] and `__metadata__` { format: 'fpsattn-wan-latents', seed, steps, shift,
 * guidance, solver, sampler, latentShape, width, height, frames, model (config JSON), schedule (config JSON or
 * 'dense'), timesteps, prompt metadata (prompt, negative_prompt when the embeddings file has them), stepMs }; written
 * to a temporary name and renamed when complete (writeSafetensors), so an interrupted or failed run leaves nothing
 * under the final name.
 */
import type { ScheduleConfig } from '@fpsattn/scheduler';
import { WAN_T2V_SAMPLING_DEFAULTS } from '../sampler/defaults';
import { SamplerOptionError } from '../sampler/errors';
import { sample } from '../sampler/sample';
import type { NoiseSeed, SolverName } from '../sampler/types';
import { writeSafetensors } from '../safetensors/writer';
import type { LayerAttention, WanDeviceDit } from '../device/device-forward';
import { sampleOnDevice } from '../device/device-sample';
import { wanDeviceTensorModel, wanDeviceVelocityModel } from '../device/velocity-model';
import { SAMPLER_LOOPS, type SamplerLoop, defaultSamplerLoop } from './sampler-loop';
import type { TextEmbeddings } from './text-embeddings';

/** Wan-VAE's compression: 4x in time (the first frame alone), 8x in space (wan21-architecture.md 5). */
const VAE_STRIDE = Object.freeze({ time: 4, space: 8 });

/** The latent shape of a video size: [16, (frames - 1) / 4 + 1, height / 8, width / 8]. */
export function latentShapeFor(options: { width: number; height: number; frames: number; latentChannels?: number; patch?: readonly [number, number] }): [number, number, number, number] {
  const { width, height, frames } = options;
  const channels = options.latentChannels ?? 16;
  const [ph, pw] = options.patch ?? [2, 2];
  const bad = (option: string, value: number, rule: string): never => {
    throw new SamplerOptionError({ option, value, rule });
  };
  if (!Number.isSafeInteger(frames) || frames < 1 || (frames - 1) % VAE_STRIDE.time !== 0) bad('frames', frames, 'expected 4k + 1 frames (e.g. 81): the VAE keeps the first frame and compresses 4 frames per latent');
  if (!Number.isSafeInteger(height) || height < 1 || height % (VAE_STRIDE.space * ph) !== 0) bad('height', height, `expected a multiple of ${VAE_STRIDE.space * ph} (VAE stride 8 x patch ${ph})`);
  if (!Number.isSafeInteger(width) || width < 1 || width % (VAE_STRIDE.space * pw) !== 0) bad('width', width, `expected a multiple of ${VAE_STRIDE.space * pw} (VAE stride 8 x patch ${pw})`);
  return [channels, (frames - 1) / VAE_STRIDE.time + 1, height / VAE_STRIDE.space, width / VAE_STRIDE.space];
}

export interface GenerateLatentsStep {
  stepIndex: number;
  steps: number;
  timestep: number;
  ms: number;
  /** The self-attention modes of the step, e.g. 'dense-bf16' or 'fp8-sparse'. */
  modes: string;
}

export interface GenerateLatentsOptions {
  dit: WanDeviceDit;
  embeddings: TextEmbeddings;
  /** The video size; frames 4k + 1, width and height multiples of 16. */
  width: number;
  height: number;
  frames: number;
  seed: NoiseSeed;
  /** Defaults: Wan2.1's (50 steps, shift 5.0, guidance 5.0, UniPC). */
  steps?: number;
  shift?: number;
  guidance?: number;
  solver?: SolverName;
  /** The attention schedule (its steps must equal `steps`); absent: dense BF16 throughout. */
  schedule?: ScheduleConfig | null;
  /** Where the latents go (.safetensors). */
  out: string;
  /**
   * The sampling loop: 'device' keeps the latents on the device for the whole loop (`sampleOnDevice`: one
   * flowSolverStep per step, only the final latents downloaded), 'host' runs `sample` (velocities downloaded each
   * step). Bit-identical latents either way. Default: `defaultSamplerLoop(dit.backend)`, 'device' on CUDA and 'host'
   * on the CPU backend.
   */
  sampler?: SamplerLoop;
  onStep?: (step: GenerateLatentsStep) => void;
  signal?: AbortSignal;
}

export interface GenerateLatentsResult {
  readonly path: string;
  readonly latents: Float32Array;
  readonly latentShape: readonly number[];
  readonly timesteps: readonly number[];
  readonly stepMs: readonly number[];
  /** The loop that ran. */
  readonly sampler: SamplerLoop;
  readonly metadata: Readonly<Record<string, string>>;
}

const modesOf = (plans: readonly LayerAttention[]): string =>
  [...new Set(plans.flatMap((p) => (Array.isArray(p) ? p : [p]).map((plan) => (plan as { mode: string }).mode)))].join('+');

export async function generateLatents(options: GenerateLatentsOptions): Promise<GenerateLatentsResult> {
  const { dit, embeddings, width, height, frames, seed, out, onStep, signal } = options;
  const steps = options.steps ?? WAN_T2V_SAMPLING_DEFAULTS.steps;
  const shift = options.shift ?? WAN_T2V_SAMPLING_DEFAULTS.shift;
  const guidance = options.guidance ?? WAN_T2V_SAMPLING_DEFAULTS.guidance;
  const solver = options.solver ?? WAN_T2V_SAMPLING_DEFAULTS.solver;
  const schedule = options.schedule ?? null;
  const sampler = options.sampler ?? defaultSamplerLoop(dit.backend);
  const { config } = dit;
  const latentShape = latentShapeFor({ width, height, frames, latentChannels: config.inDim, patch: [config.patchSize[1], config.patchSize[2]] });
  if (schedule && schedule.steps !== steps) throw new SamplerOptionError({ option: 'schedule.steps', value: schedule.steps, rule: `expected the run's ${steps} steps` });
  if (typeof out !== 'string' || !out.endsWith('.safetensors')) throw new SamplerOptionError({ option: 'out', value: out, rule: 'expected a path ending in .safetensors' });
  if (!SAMPLER_LOOPS.includes(sampler)) throw new SamplerOptionError({ option: 'sampler', value: sampler, rule: `expected one of ${SAMPLER_LOOPS.map((l) => `'${l}'`).join(', ')}` });

  const text = dit.encodeText({ contexts: [embeddings.prompt, embeddings.negative] });
  try {
    const modes: string[] = [];
    const modelOptions = { dit, text, latentShape, ...(schedule ? { schedule, onPlans: (step: number, plans: readonly LayerAttention[]) => (modes[step] = modesOf(plans)) } : {}) };
    const stepMs: number[] = [];
    const loop = {
      latentShape,
      seed,
      steps,
      shift,
      guidance,
      solver,
      ...(signal ? { signal } : {}),
      onStep: (p: { stepIndex: number; steps: number; timestep: number; ms: number }) => {
        stepMs.push(p.ms);
        onStep?.({ stepIndex: p.stepIndex, steps: p.steps, timestep: p.timestep, ms: p.ms, modes: modes[p.stepIndex] ?? 'dense-bf16' });
      },
    };
    const result =
      sampler === 'device'
        ? await sampleOnDevice({ ...loop, backend: dit.backend, model: wanDeviceTensorModel(modelOptions) })
        : await sample({ ...loop, model: wanDeviceVelocityModel(modelOptions) });
    const timesteps = Array.from(result.schedule.timesteps);
    const metadata: Record<string, string> = {
      format: 'fpsattn-wan-latents',
      seed: String(seed),
      steps: String(steps),
      shift: String(shift),
      guidance: String(guidance),
      solver,
      sampler,
      latentShape: JSON.stringify(latentShape),
      width: String(width),
      height: String(height),
      frames: String(frames),
      model: JSON.stringify(config),
      schedule: schedule ? JSON.stringify(schedule) : 'dense',
      timesteps: JSON.stringify(timesteps),
      stepMs: JSON.stringify(stepMs.map((ms) => Math.round(ms * 10) / 10)),
    };
    for (const key of ['prompt', 'negative_prompt'] as const) if (embeddings.metadata[key] !== undefined) metadata[key] = embeddings.metadata[key] as string;
    await writeSafetensors({ path: out, tensors: { latents: { dtype: 'F32', shape: latentShape, data: result.latents } }, metadata });
    return { path: out, latents: result.latents, latentShape, timesteps, stepMs, sampler, metadata };
  } finally {
    text.dispose();
  }
}
