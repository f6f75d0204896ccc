// The decode half of `fpsattn generate`: which VAE to use, loading it, and running it: wanVaeDecodeCpu in a worker
// thread that Ctrl-C can stop, or WanVaeDeviceDecoder on a kernels backend (weights uploaded for the decode and freed
// right after it; Ctrl-C stops it before the next latent frame).
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import type { Backend } from '@fpsattn/kernels';
import {
  WAN_VAE_CONFIG_PRESETS,
  WanVaeDeviceDecoder,
  WanVaeDeviceWeights,
  WAN_VAE_PTH_FILE,
  loadWanVaeWeights,
  syntheticWanVaeWeights,
  type WanVaeConfig,
  type WanVaeWeights,
} from '@fpsattn/wan';
import { CliError, EXIT_CODES, UsageError } from './_errors';
import type { VaeWorkerInput, VaeWorkerMessage } from './vae-worker';

/** The built-in model's VAE: the Wan-VAE structure at dim 8 with synthetic weights. */
export const BUILT_IN_VAE = 'wan-vae-tiny';

/** Where the VAE comes from; null with the reason when the run writes latents only. */
export type VaeSource =
  | { readonly kind: 'synthetic'; readonly name: typeof BUILT_IN_VAE }
  | { readonly kind: 'file'; readonly path: string; readonly found: '--vae' | 'next to the checkpoint' };

const isDirectory = async (path: string): Promise<boolean> => (await stat(path).catch(() => null))?.isDirectory() ?? false;
const exists = async (path: string): Promise<boolean> => (await stat(path).catch(() => null)) !== null;

/** Where a checkpoint's VAE may be: `Wan2.1_VAE.pth` or `vae/` in its folder, or `vae/` next to it (diffusers `transformer/`). */
async function vaeCandidates(checkpoint: string): Promise<string[]> {
  const dir = (await isDirectory(checkpoint)) ? resolve(checkpoint) : dirname(resolve(checkpoint));
  return [join(dir, WAN_VAE_PTH_FILE), join(dir, 'vae'), join(dirname(dir), 'vae')];
}

/**
 * The VAE of this run (usage errors only; nothing is read): `--no-decode` -> none; `--vae PATH`; the built-in model ->
 * the synthetic `wan-vae-tiny`; a checkpoint -> the first of its candidates that exists, else none (an error when
 * `--decode` was asked for).
 */
export async function resolveVaeSource(options: { decode: boolean | undefined; vae: string | undefined; checkpoint: string | undefined }): Promise<{ source: VaeSource | null; reason: string }> {
  const { decode, vae, checkpoint } = options;
  if (decode === false) {
    if (vae !== undefined) throw new UsageError({ message: '--vae and --no-decode both given', fix: 'drop --no-decode to decode with that VAE, or drop --vae' });
    return { source: null, reason: '--no-decode' };
  }
  if (vae !== undefined) {
    await stat(vae).catch((cause: unknown) => {
      throw new UsageError({ message: `VAE ${vae} does not exist (${(cause as NodeJS.ErrnoException).code})`, fix: `pass --vae ${WAN_VAE_PTH_FILE}, a diffusers vae/ folder or a folder holding one, or --no-decode`, cause });
    });
    return { source: { kind: 'file', path: resolve(vae), found: '--vae' }, reason: '--vae' };
  }
  if (checkpoint === undefined) return { source: { kind: 'synthetic', name: BUILT_IN_VAE }, reason: 'the built-in model' };
  const candidates = await vaeCandidates(checkpoint);
  for (const candidate of candidates) if (await exists(candidate)) return { source: { kind: 'file', path: candidate, found: 'next to the checkpoint' }, reason: 'found next to the checkpoint' };
  if (decode === true) {
    throw new UsageError({ message: `--decode: no VAE next to the checkpoint (looked for ${candidates.join(', ')})`, fix: `pass --vae PATH (${WAN_VAE_PTH_FILE} or a diffusers vae/ folder), or --no-decode` });
  }
  return { source: null, reason: `no VAE next to the checkpoint (${WAN_VAE_PTH_FILE} or vae/); pass --vae PATH to decode` };
}

/** A loaded VAE and what the manifest says about it. */
export interface LoadedVae {
  readonly config: WanVaeConfig;
  readonly weights: WanVaeWeights;
  readonly manifest: Record<string, unknown>;
  /** Names the weights in the decoder's errors. */
  readonly label: string;
}

const presetOf = (config: WanVaeConfig): string | null => {
  for (const [name, preset] of Object.entries(WAN_VAE_CONFIG_PRESETS)) if (JSON.stringify(preset) === JSON.stringify(config)) return name;
  return null;
};

/** Reads the VAE's decoder weights (float32) or makes the synthetic ones. Package errors (a file that is not a VAE) pass through. */
export async function loadVae(source: VaeSource): Promise<LoadedVae> {
  if (source.kind === 'synthetic') {
    const config = WAN_VAE_CONFIG_PRESETS[BUILT_IN_VAE];
    return {
      config,
      weights: syntheticWanVaeWeights({ config, seed: 1 }),
      label: `the built-in ${BUILT_IN_VAE}`,
      manifest: { source: 'built-in', name: BUILT_IN_VAE, weights: 'synthetic (seed 1)', device: 'cpu', config },
    };
  }
  const loaded = await loadWanVaeWeights({ path: source.path });
  return {
    config: loaded.config,
    weights: loaded.weights,
    label: loaded.path,
    manifest: { source: 'file', found: source.found, path: loaded.path, format: loaded.format, naming: loaded.naming, name: presetOf(loaded.config), device: 'cpu', config: loaded.config },
  };
}

/** One latent frame decoded. */
export interface DecodeFrameEvent {
  readonly latentFrame: number;
  readonly latentFrames: number;
  readonly frameCount: number;
  readonly totalFrames: number;
}

/** Ctrl-C during the decode: the worker was terminated after `latentFramesDone` latent frames. */
export class DecodeAbortedError extends Error {
  readonly latentFramesDone: number;
  constructor(latentFramesDone: number, cause: unknown) {
    super('the VAE decode was stopped', { cause });
    this.name = 'AbortError';
    this.latentFramesDone = latentFramesDone;
  }
}

/**
 * Runs wanVaeDecodeCpu on `latents` in a worker thread (dist/vae-worker.js): `onFrame` after each latent frame; an
 * abort of `signal` terminates the worker at once and rejects with {@link DecodeAbortedError}.
 */
export function decodeInWorker(options: {
  vae: LoadedVae;
  latents: Float32Array;
  latentShape: readonly number[];
  signal: AbortSignal;
  onFrame: (event: DecodeFrameEvent) => void;
}): Promise<{ frames: Float32Array; shape: readonly [number, number, number, number] }> {
  const { vae, latents, latentShape, signal, onFrame } = options;
  let done = 0;
  if (signal.aborted) return Promise.reject(new DecodeAbortedError(0, signal.reason));
  const workerData: VaeWorkerInput = { weights: vae.weights, config: vae.config, latents, latentShape, source: vae.label };
  const worker = new Worker(new URL('./vae-worker.js', import.meta.url), { workerData });
  return new Promise((resolvePromise, reject) => {
    let settled = false;
    const settle = (finish: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      finish();
    };
    const onAbort = (): void => {
      settle(() => reject(new DecodeAbortedError(done, signal.reason)));
      void worker.terminate();
    };
    signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (message: VaeWorkerMessage) => {
      if (settled) return;
      if (message.type === 'frame') {
        done = message.latentFrame + 1;
        onFrame(message);
      } else if (message.type === 'done') {
        settle(() => resolvePromise({ frames: message.frames, shape: message.shape }));
        void worker.terminate();
      } else {
        const code = message.code ? ` [${message.code}]` : '';
        settle(() => reject(new CliError({ message: `the VAE decode failed: ${message.message}${code}`, exitCode: EXIT_CODES.failure })));
        void worker.terminate();
      }
    });
    worker.on('error', (error) => settle(() => reject(new CliError({ message: `the VAE decode failed: ${error.message}`, exitCode: EXIT_CODES.failure, cause: error }))));
    worker.on('exit', (code) => settle(() => reject(new CliError({ message: `the VAE decode's worker thread exited with code ${code} before finishing`, exitCode: EXIT_CODES.failure }))));
  });
}

/**
 * Decodes `latents` with WanVaeDeviceDecoder on `backend`: the weights are uploaded here and freed before it returns or
 * throws (so the device holds the VAE only during the decode). An abort of `signal` (checked before each latent frame)
 * rejects with {@link DecodeAbortedError}.
 */
export async function decodeOnBackend(options: {
  vae: LoadedVae;
  backend: Backend;
  latents: Float32Array;
  latentShape: readonly number[];
  signal: AbortSignal;
  onFrame: (event: DecodeFrameEvent) => void;
}): Promise<{ frames: Float32Array; shape: readonly [number, number, number, number] }> {
  const { vae, backend, latents, latentShape, signal, onFrame } = options;
  let done = 0;
  if (signal.aborted) throw new DecodeAbortedError(0, signal.reason);
  const weights = WanVaeDeviceWeights.upload({ backend, config: vae.config, weights: vae.weights, source: vae.label });
  try {
    const result = await new WanVaeDeviceDecoder({ weights }).decode({
      latents,
      latentShape,
      outDtype: 'f32',
      signal,
      onFrame: (e) => {
        done = e.latentFrame + 1;
        onFrame({ latentFrame: e.latentFrame, latentFrames: e.latentFrames, frameCount: e.frameCount, totalFrames: e.totalFrames });
      },
    });
    return { frames: result.frames as Float32Array, shape: result.shape };
  } catch (error) {
    if (signal.aborted) throw new DecodeAbortedError(done, error);
    throw new CliError({ message: `the VAE decode on ${backend.name} failed: ${error instanceof Error ? error.message : String(error)}`, exitCode: EXIT_CODES.failure, cause: error });
  } finally {
    weights.dispose();
  }
}
