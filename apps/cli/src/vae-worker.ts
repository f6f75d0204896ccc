// The VAE decode of `fpsattn generate`, in a worker thread: wanVaeDecodeCpu is synchronous (minutes at real sizes), so
// it runs off the main thread, which stays free to draw the progress and to stop it on Ctrl-C (Worker.terminate).
import { parentPort, workerData } from 'node:worker_threads';
import { wanVaeDecodeCpu, type WanVaeConfig, type WanVaeWeights } from '@fpsattn/wan';

/** What the main thread sends (workerData). */
export interface VaeWorkerInput {
  readonly weights: WanVaeWeights;
  readonly config: WanVaeConfig;
  readonly latents: Float32Array;
  readonly latentShape: readonly number[];
  readonly source: string;
}

/** What the worker posts back: one `frame` per latent frame, then `done` or `error`. */
export type VaeWorkerMessage =
  | { readonly type: 'frame'; readonly latentFrame: number; readonly latentFrames: number; readonly frameCount: number; readonly totalFrames: number }
  | { readonly type: 'done'; readonly frames: Float32Array; readonly shape: readonly [number, number, number, number] }
  | { readonly type: 'error'; readonly message: string; readonly code: string | null };

const port = parentPort;
if (port === null) throw new Error('vae-worker.js runs as a worker thread of fpsattn generate');
const input = workerData as VaeWorkerInput;
try {
  const result = wanVaeDecodeCpu({
    weights: input.weights,
    config: input.config,
    latents: input.latents,
    latentShape: input.latentShape,
    source: input.source,
    onFrame: (e) => port.postMessage({ type: 'frame', latentFrame: e.latentFrame, latentFrames: e.latentFrames, frameCount: e.frameCount, totalFrames: e.totalFrames } satisfies VaeWorkerMessage),
  });
  port.postMessage({ type: 'done', frames: result.frames, shape: result.shape } satisfies VaeWorkerMessage, [result.frames.buffer as ArrayBuffer]);
} catch (error) {
  const code = typeof (error as { code?: unknown }).code === 'string' ? ((error as { code: string }).code) : null;
  port.postMessage({ type: 'error', message: error instanceof Error ? error.message : String(error), code } satisfies VaeWorkerMessage);
}
