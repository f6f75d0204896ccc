// Which sampling loop a run uses: the host sampler (`sample`) or the device-resident loop (`sampleOnDevice`), and the
// default per backend. Both give the same latents bit for bit; they differ in where the latents live between steps.
import type { Backend } from '@fpsattn/kernels';

/**
 * 'host': `sample` (each step downloads the velocities, guidance and the solver update run in JavaScript, the latents
 * go back up with the next forward); 'device': `sampleOnDevice` (the latents stay on the device, one flowSolverStep
 * kernel per step, only the final latents downloaded).
 */
export type SamplerLoop = 'host' | 'device';

export const SAMPLER_LOOPS: readonly SamplerLoop[] = Object.freeze(['host', 'device']);

/**
 * The loop a run uses when none is chosen: 'device' on CUDA (validated on an NVIDIA H200 in session 6: the GPU suites
 * flow-solver-step and device-sample bit for bit against the host sampler, a 50-step 720p sample 86.3 s against the
 * host loop's 92.5 s), 'host' elsewhere (on the CPU backend the host sampler is the reference, and both loops are the
 * same arithmetic there).
 */
export function defaultSamplerLoop(backend: Pick<Backend, 'name'>): SamplerLoop {
  return backend.name === 'cuda' ? 'device' : 'host';
}
