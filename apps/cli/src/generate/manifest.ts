// The run manifest of `fpsattn generate` (`<out>.manifest.json`, also what --json prints): what ran, on what, with
// which inputs, how long each stage took and how much device memory it held, and every file written.
import { resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Backend } from '@fpsattn/kernels';
import type { ScheduleConfig } from '@fpsattn/scheduler';
import type { GridDims } from '@fpsattn/tiling';
import { wanPresetName, type WanConfig } from '@fpsattn/wan';
import pkg from '../../package.json';
import type { LoadedVae } from '../_vae';
import type { DecodeStage } from './decode-stage';
import { BUILT_IN_MODEL } from './dit-model';
import { latentStats } from './latent-stats';
import type { OutputFile } from './output-files';
import type { SampleStage } from './sample-stage';
import type { TextStage } from './text-stage';

const round3 = (s: number): number => Math.round(s * 1000) / 1000;
const round1 = (ms: number): number => Math.round(ms * 10) / 10;

export function buildRunManifest(options: {
  /** performance.now() when the command started. */
  startedAt: number;
  backend: Backend;
  /** --checkpoint as given; undefined for the built-in model. */
  checkpointPath: string | undefined;
  config: WanConfig;
  /** --embeddings as given, or undefined. */
  embeddingsPath: string | undefined;
  text: TextStage;
  video: { width: number; height: number; frames: number };
  grid: GridDims;
  sampling: { steps: number; shift: number; guidance: number; solver: string; seed: number };
  schedule: { config: ScheduleConfig | null; name: string };
  vae: LoadedVae | null;
  /** Where the VAE ran; null: the host reference. */
  vaeBackend: Backend | null;
  /** Why the run decodes, or does not. */
  vaeReason: string;
  /** Seconds from the start of loading to the DiT ready, the text stage left out. */
  loadS: number;
  sample: SampleStage;
  decode: DecodeStage;
  out: string;
  latentsBytes: number;
  manifestPath: string;
  files: OutputFile[];
}) {
  const { backend, config, text, sampling, sample, decode, vae, vaeBackend, files } = options;
  const { embeddings, report: textReport } = text;
  const mp4 = decode.video?.mp4 ?? null;
  return {
    format: 'fpsattn-run-manifest',
    version: 1,
    createdAt: new Date().toISOString(),
    cli: { name: pkg.name, version: pkg.version, argv: process.argv.slice(2) },
    node: process.version,
    backend: backend.name,
    model: options.checkpointPath === undefined ? { source: 'built-in', name: BUILT_IN_MODEL, weights: 'synthetic (seed 1)', config } : { source: 'checkpoint', path: resolve(options.checkpointPath), name: wanPresetName(config), config },
    embeddings: textReport !== null ? textReport : options.embeddingsPath !== undefined ? { source: 'file', path: resolve(options.embeddingsPath), promptTokens: embeddings.prompt.length, negativeTokens: embeddings.negative.length } : { source: 'synthetic', promptTokens: embeddings.prompt.length, negativeTokens: embeddings.negative.length },
    video: { width: options.video.width, height: options.video.height, frames: options.video.frames },
    latentShape: sample.result.latentShape,
    tokenGrid: options.grid,
    // sampler: the loop that ran ('device': latents on the device, 'host': the host sampler); the same latents either way.
    sampling: { steps: sampling.steps, shift: sampling.shift, guidance: sampling.guidance, solver: sampling.solver, sampler: sample.result.sampler, seed: sampling.seed, timesteps: sample.result.timesteps },
    schedule: { name: options.schedule.name, config: options.schedule.config },
    vae: vae === null ? null : { ...vae.manifest, device: vaeBackend?.name ?? 'cpu', runsOn: vaeBackend === null ? 'host reference' : 'backend' },
    decode: {
      status: decode.status,
      reason: options.vaeReason,
      device: vae === null ? null : (vaeBackend?.name ?? 'cpu'),
      implementation: vae === null ? null : vaeBackend === null ? 'wanVaeDecodeCpu (float32, worker thread)' : 'WanVaeDeviceDecoder',
      frameShape: decode.videoShape,
      latentFrameMs: decode.latentFrameMs.map(round1),
      fps: mp4 === null ? null : mp4.fps,
      contactSheet: decode.video?.sheetLayout ?? null,
    },
    output: {
      latents: options.out,
      bytes: options.latentsBytes,
      manifest: options.manifestPath,
      mp4: mp4?.path ?? null,
      firstFramePng: files.find((f) => f.kind === 'first-frame-png')?.path ?? null,
      contactSheetPng: files.find((f) => f.kind === 'contact-sheet-png')?.path ?? null,
      files,
    },
    timing: {
      totalS: (performance.now() - options.startedAt) / 1000,
      samplingS: sample.seconds,
      stagesS: {
        tokenize: textReport === null ? null : round3(textReport.timingS.tokenize),
        textEncode: textReport === null ? null : round3(textReport.timingS.encode),
        load: round3(options.loadS),
        sample: round3(sample.seconds),
        decode: decode.decodeS === null ? null : round3(decode.decodeS),
        encode: decode.video === null ? null : round3(decode.video.seconds),
      },
      stepMs: sample.stepMs.map(round1),
      modes: sample.modes,
    },
    // Per stage: the device it ran on and the most device memory its tensors held at once (bytes), what was left at
    // its end (0: all freed before the next stage) and, on CUDA, the allocator's bytes in use after emptyCache().
    deviceMemory: {
      text: text.deviceMemory,
      sample: sample.deviceMemory,
      decode: decode.deviceMemory,
    },
    latents: latentStats(sample.result.latents),
    error: decode.failure === null ? null : decode.failure.message,
  };
}

export type RunManifest = ReturnType<typeof buildRunManifest>;
