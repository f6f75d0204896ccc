// Where `fpsattn generate`'s text encoder and VAE run (--text-encoder-device, --vae-device).
import type { Backend } from '@fpsattn/kernels';

/** Where the text encoder and the VAE run: auto (the run's backend when it is CUDA, else the host), cpu, backend. */
export const STAGE_DEVICES = ['auto', 'cpu', 'backend'] as const;
export type StageDevice = (typeof STAGE_DEVICES)[number];

/** The backend a stage runs on (its device twins; the CPU backend's with `backend`), or null for the host reference. */
export function stageBackend(choice: StageDevice, backend: Backend): Backend | null {
  if (choice === 'cpu') return null;
  if (choice === 'backend') return backend;
  return backend.name === 'cuda' ? backend : null;
}
