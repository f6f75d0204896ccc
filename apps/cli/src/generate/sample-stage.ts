// The sampling stage of `fpsattn generate`: the DiT's weights up on the run's backend (synthetic, or read from the
// checkpoint, which is closed once they are up), the sampler's steps to the latents file, and the DiT freed again
// before the decode.
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultAttentionGeometryCache } from '@fpsattn/attention';
import type { Backend } from '@fpsattn/kernels';
import type { ScheduleConfig } from '@fpsattn/scheduler';
import { WanDeviceDit, WanDeviceWeights, generateLatents, syntheticWanWeights, type Checkpoint, type GenerateLatentsResult, type SamplerLoop, type SolverName, type TextEmbeddings, type WanConfig } from '@fpsattn/wan';
import { type StageMemory, formatGiB } from '../_device-memory';
import { CliError, EXIT_CODES } from '../_errors';
import { type ProgressMode, StepProgress } from '../_progress';
import type { StageContext } from './stage-context';

/**
 * Makes each DiT forward start with a turn of the event loop. On the CPU backend a whole sampling run resolves in
 * promise microtasks only, and Node delivers signals (Ctrl-C) as macrotasks: without this turn the AbortSignal would
 * only fire once the run had finished. Both forwards: `forward` (the host sampler's) and `forwardDevice` (the device
 * loop's).
 */
function yieldBeforeEachForward(dit: WanDeviceDit): void {
  for (const name of ['forward', 'forwardDevice'] as const) {
    const method = (dit[name] as (options: unknown) => Promise<unknown>).bind(dit);
    Object.defineProperty(dit, name, {
      configurable: true,
      value: async (options: unknown) => {
        await new Promise<void>((resolveTurn) => setImmediate(resolveTurn));
        return method(options);
      },
    });
  }
}

/** The DiT's weights on `backend`: the built-in model's synthetic ones (checkpoint null), or the checkpoint's. */
async function uploadDitWeights(options: { backend: Backend; config: WanConfig; checkpoint: Checkpoint | null; progressMode: ProgressMode; signal: AbortSignal }): Promise<WanDeviceWeights> {
  const { backend, config, checkpoint } = options;
  if (checkpoint === null) return WanDeviceWeights.upload({ backend, config, weights: syntheticWanWeights({ config, seed: 1 }) });
  const start = performance.now();
  const loading = new StepProgress({ mode: options.progressMode, label: 'loading weights' });
  try {
    return await WanDeviceWeights.fromCheckpoint({
      backend,
      checkpoint,
      config,
      signal: options.signal,
      onProgress: (done, total) => loading.update({ done, total, stepMs: [(performance.now() - start) / done] }),
    });
  } finally {
    loading.finish();
  }
}

export interface SampleStage {
  result: GenerateLatentsResult;
  /** Each step's time (ms) and attention modes, in order. */
  stepMs: number[];
  modes: string[];
  /** Seconds of sampling (the weights' upload not included). */
  seconds: number;
  /** performance.now() once the DiT was ready to sample: where the run's load time ends. */
  loadedAt: number;
  deviceMemory: StageMemory;
}

export async function runSampleStage(options: StageContext & {
  backend: Backend;
  config: WanConfig;
  /** The open checkpoint to read the weights from (closed here once they are up), or null for the built-in model. */
  checkpoint: Checkpoint | null;
  embeddings: TextEmbeddings;
  sampling: { width: number; height: number; frames: number; seed: number; steps: number; shift: number; guidance: number; solver: SolverName; sampler: SamplerLoop };
  schedule: ScheduleConfig | null;
  out: string;
}): Promise<SampleStage> {
  const { backend, out, memory, signal, sampling } = options;
  let weights: WanDeviceWeights | null = null;
  let dit: WanDeviceDit | null = null;
  const stepMs: number[] = [];
  const modes: string[] = [];
  let result: GenerateLatentsResult;
  let loadedAt: number;
  let seconds: number;
  memory.begin('sample');
  try {
    weights = await uploadDitWeights({ backend, config: options.config, checkpoint: options.checkpoint, progressMode: options.progressMode, signal });
    await options.checkpoint?.close();
    dit = new WanDeviceDit(weights);
    yieldBeforeEachForward(dit);
    await mkdir(dirname(out), { recursive: true });
    loadedAt = performance.now();

    const progress = new StepProgress({ mode: options.progressMode, label: 'step' });
    const sampleStart = performance.now();
    try {
      result = await generateLatents({
        dit,
        embeddings: options.embeddings,
        width: sampling.width,
        height: sampling.height,
        frames: sampling.frames,
        seed: sampling.seed,
        steps: sampling.steps,
        shift: sampling.shift,
        guidance: sampling.guidance,
        solver: sampling.solver,
        sampler: sampling.sampler,
        schedule: options.schedule,
        out,
        signal,
        onStep: (s) => {
          stepMs.push(s.ms);
          modes.push(s.modes);
          progress.update({ done: s.stepIndex + 1, total: s.steps, stepMs, note: s.modes });
        },
      });
    } catch (error) {
      if (signal.aborted) {
        throw new CliError({ message: `stopped by Ctrl-C after ${stepMs.length} of ${sampling.steps} steps; nothing was written to ${out}`, exitCode: EXIT_CODES.interrupted, cause: error });
      }
      throw error;
    } finally {
      progress.finish();
    }
    seconds = (performance.now() - sampleStart) / 1000;
  } finally {
    // The DiT is done (or failed): free its (device) memory before the decode.
    dit?.dispose();
    weights?.dispose();
  }
  // The attention block masks the sampling uploaded (the package's geometry cache) go too.
  defaultAttentionGeometryCache.clear();
  const deviceMemory = memory.end();
  options.say(`sample: peak device memory ${formatGiB(deviceMemory.peakBytes)} on ${backend.name} (DiT weights and activations), ${formatGiB(deviceMemory.endBytes)} left after the stage`);
  return { result, stepMs, modes, seconds, loadedAt, deviceMemory };
}
