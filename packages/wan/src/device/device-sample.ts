/**
 * The sampling loop with the latents on the device (generateLatents' default on CUDA, ../pipeline/sampler-loop.ts):
 * `sample`'s schedule, noise, solvers and errors, but the model takes and returns device tensors and each step is one
 * `flowSolverStep` (@fpsattn/kernels) instead of a download of the velocities, a host pass and an upload of the
 * latents. Only the final latents come back to the host (and, per step, the 4-byte index of the first non-finite
 * velocity; the offending tensors are downloaded only on that error path, to build the host sampler's error).
 *
 * Bit-identical to `sample` with the same options: the UniPC coefficients come from the same code
 * (`sampler/_unipc-coefficients.ts`), the kept buffers rotate as the host solver's (m_i in x0s[i % 3], x_i as its
 * predictor used it in bases[i % 2]), and the op forms each element's update as the host passes do (float64, the same
 * order, one float32 rounding per stored value). Tested on the CPU backend, and on CUDA by
 * gpu-test/device-sample.test.mjs (bit for bit against `sample` on an H200, session 6).
 */
import { type Backend, type Tensor, flowSolverStep } from '@fpsattn/kernels';
import type { StepVelocity } from '../sampler/_step-velocity';
import { uniPcCoefficients } from '../sampler/_unipc-coefficients';
import { checkFloat32Array, checkSampleBasics, checkSigmas } from '../sampler/_validate';
import { SamplerAbortedError, SamplerOptionError, SamplerTensorError } from '../sampler/errors';
import { flowMatchSchedule } from '../sampler/flow-match-schedule';
import { gaussianNoise } from '../sampler/gaussian-noise';
import { throwNonFiniteVelocity } from '../sampler/sample';
import type { NoiseSeed, SampleResult, StepProgress, VelocityModelInput } from '../sampler/types';

export interface DeviceVelocityModelInput extends Omit<VelocityModelInput, 'latents'> {
  /** x_i, f32 `latentShape`, on the sampler's backend. The sampler steps it in place: read it, never write it. */
  latents: Tensor<'f32'>;
}

/**
 * What the device model returns at one step (f32, latentShape's element count each, on the sampler's backend): cond
 * and uncond (guided by the step), or one velocity. The sampler disposes them after the step.
 */
export type DeviceVelocityModelOutput = { cond: Tensor<'f32'>; uncond: Tensor<'f32'>; velocity?: never } | { velocity: Tensor<'f32'>; cond?: never; uncond?: never };

export type DeviceVelocityModel = (input: DeviceVelocityModelInput) => Promise<DeviceVelocityModelOutput> | DeviceVelocityModelOutput;

export type SampleOnDeviceOptions = {
  backend: Backend;
  latentShape: readonly number[];
  steps?: number;
  shift?: number;
  guidance?: number;
  solver?: 'unipc' | 'euler';
  numTrainTimesteps?: number;
  model: DeviceVelocityModel;
  onStep?: (progress: StepProgress) => void;
  signal?: AbortSignal;
} & ({ seed: NoiseSeed; noise?: never } | { noise: Float32Array; seed?: never });

/** NONFINITE_SENTINEL: the i32 every byte 0x7f makes (fillBytes), above any element index. */
const NONFINITE_SENTINEL = 0x7f7f7f7f;

export async function sampleOnDevice(options: SampleOnDeviceOptions): Promise<SampleResult> {
  const { backend } = options;
  const { size, guidance, solverName } = checkSampleBasics(options);
  if (typeof options.model !== 'function') {
    throw new SamplerOptionError({ option: 'model', value: options.model, rule: 'expected a function ({ latents: Tensor, timestep, ... }) => { cond, uncond } | { velocity } of device tensors' });
  }
  const schedule = flowMatchSchedule({ steps: options.steps, shift: options.shift, numTrainTimesteps: options.numTrainTimesteps });
  const { steps } = schedule;
  const shapeRule = `the product of latentShape [${options.latentShape.join(', ')}]`;
  const { seed, noise } = options as { seed?: NoiseSeed; noise?: unknown };
  let initial: Float32Array;
  if (noise !== undefined) {
    if (seed !== undefined) throw new SamplerOptionError({ option: 'seed', value: seed, rule: 'pass either seed or noise, not both' });
    initial = checkFloat32Array({ tensor: 'noise', value: noise, length: size, rule: shapeRule });
  } else {
    if (seed === undefined) throw new SamplerOptionError({ option: 'seed', value: undefined, rule: 'pass a seed (an integer in [0, 2^64)) or the initial noise' });
    initial = gaussianNoise({ seed, shape: options.latentShape });
  }
  const sigmas = solverName === 'unipc' ? checkSigmas({ sigmas: schedule.sigmas, strict: true }) : checkSigmas({ sigmas: schedule.sigmas, strict: false });
  const coefficients = solverName === 'unipc' ? uniPcCoefficients(sigmas) : null;

  const owned: Tensor[] = [];
  const own = <T extends Tensor>(t: T): T => (owned.push(t), t);
  try {
    const latents = own(backend.fromArray(initial, [...options.latentShape], 'f32', { name: 'latents (device sampler)' }));
    const nonFinite = own(backend.empty([1], 'i32', { name: 'non-finite index' }));
    let buffers: { x0s: Tensor<'f32'>[]; bases: Tensor<'f32'>[] } | null = null;
    let lastOrder = 1;
    for (let stepIndex = 0; stepIndex < steps; stepIndex++) {
      if (options.signal) await new Promise<void>((resolve) => setImmediate(resolve));
      if (options.signal?.aborted) throw new SamplerAbortedError({ stepIndex, steps, reason: options.signal.reason });
      const started = performance.now();
      const timestep = schedule.timesteps[stepIndex]!;
      const output = await options.model({ latents, timestep, sigma: sigmas[stepIndex]!, stepIndex, steps });
      const received = outputTensors(output);
      try {
        const velocity = stepTensors({ output, backend, size, stepIndex });
        nonFinite.fillBytes(0x7f);
        const i = stepIndex;
        if (coefficients === null) {
          flowSolverStep({ ...velocity, guidance: velocity.guidance ?? guidance, sample: latents, out: latents, update: { kind: 'euler', dt: sigmas[i + 1]! - sigmas[i]! }, nonFinite });
        } else {
          buffers ??= {
            x0s: [0, 1, 2].map((k) => own(backend.empty([size], 'f32', { name: `m (x0 prediction) ${k}` }))),
            bases: [0, 1].map((k) => own(backend.empty([size], 'f32', { name: `x (predictor base) ${k}` }))),
          };
          const { x0s, bases } = buffers;
          const order = coefficients.orderOf(i);
          const predictor = coefficients.predictor({ i, order });
          // as the host solver: no corrector at the first step nor the last (its result would be thrown away)
          const corrector =
            i > 0 && i < steps - 1
              ? { ...coefficients.corrector({ i, lastOrder }), lastBase: bases[(i + 1) % 2]!, previousX0: x0s[(i + 2) % 3]!, earlierX0: i >= 2 ? x0s[(i + 1) % 3]! : x0s[(i + 2) % 3]! }
              : undefined;
          const flat = latents.reshape([size]);
          try {
            flowSolverStep({
              ...velocity,
              guidance: velocity.guidance ?? guidance,
              sample: flat,
              out: flat,
              update: { kind: 'unipc', sigma: sigmas[i]!, x0: x0s[i % 3]!, base: bases[i % 2]!, predictor, ...(corrector ? { corrector } : {}) },
              nonFinite,
            });
          } finally {
            flat.dispose();
          }
          lastOrder = order;
        }
        const index = (await nonFinite.download())[0]!;
        if (index !== NONFINITE_SENTINEL) {
          // the error path only: the offending velocities to the host, and the host sampler's error for them
          const host: StepVelocity =
            output.velocity !== undefined
              ? { velocity: await output.velocity.download() }
              : { cond: await output.cond.download(), uncond: await output.uncond.download(), guidance };
          throwNonFiniteVelocity({ velocity: host, index, stepIndex, steps, timestep });
        }
      } finally {
        for (const t of received) t.dispose();
      }
      options.onStep?.({ stepIndex, steps, timestep, ms: performance.now() - started });
    }
    return { latents: await latents.download(), schedule };
  } finally {
    for (const t of owned) t.dispose();
  }
}

function outputTensors(output: unknown): Tensor[] {
  if (typeof output !== 'object' || output === null) return [];
  const o = output as Record<string, unknown>;
  return [o.cond, o.uncond, o.velocity].filter((t): t is Tensor => typeof t === 'object' && t !== null && typeof (t as Tensor).dispose === 'function');
}

/** The step's operands from what the model returned: f32 tensors of the latents' size on the sampler's backend. */
function stepTensors(options: { output: DeviceVelocityModelOutput; backend: Backend; size: number; stepIndex: number }): { cond: Tensor<'f32'>; uncond: Tensor<'f32'>; guidance?: number } {
  const { output, backend, size, stepIndex } = options;
  const check = (name: string, t: unknown): Tensor<'f32'> => {
    const tensor = `model output ${name} at step ${stepIndex}`;
    if (typeof t !== 'object' || t === null || (t as Tensor).backend === undefined) throw new SamplerTensorError({ tensor, actual: `is ${t === null ? 'null' : typeof t}`, rule: 'expected a device tensor' });
    const x = t as Tensor;
    if (x.backend !== backend) throw new SamplerTensorError({ tensor, actual: `is on backend '${x.backend.name}'`, rule: `expected the sampler's backend '${backend.name}'` });
    if (x.dtype !== 'f32' || x.numel !== size) throw new SamplerTensorError({ tensor, actual: `is ${x.dtype} with ${x.numel} values`, rule: `expected f32 with ${size} values` });
    return x as Tensor<'f32'>;
  };
  const isObject = typeof output === 'object' && output !== null;
  if (isObject && output.velocity !== undefined && output.cond === undefined && output.uncond === undefined) {
    const v = check('velocity', output.velocity);
    return { cond: v, uncond: v, guidance: -1 }; // v = v + (-1) (v - v) = v exactly (see _step-velocity.ts)
  }
  if (isObject && output.velocity === undefined && output.cond !== undefined && output.uncond !== undefined) {
    return { cond: check('cond', output.cond), uncond: check('uncond', output.uncond) };
  }
  const keys = isObject ? `an object with keys [${Object.keys(output).join(', ')}]` : String(output);
  throw new SamplerTensorError({ tensor: `model output at step ${stepIndex}`, actual: `is ${keys}`, rule: 'expected { cond, uncond } or { velocity }' });
}
