import type { InPlaceFlowSolver } from './_in-place-solver';
import { guidedValue, type StepVelocity } from './_step-velocity';
import { checkFinite, checkFloat32Array, checkSampleBasics, nonFiniteError } from './_validate';
import { createInPlaceEulerSolver } from './euler-solver';
import { SamplerAbortedError, SamplerNonFiniteError, SamplerOptionError, SamplerTensorError } from './errors';
import { flowMatchSchedule } from './flow-match-schedule';
import { gaussianNoise } from './gaussian-noise';
import type { NoiseSeed, SampleOptions, SampleResult, VelocityModelOutput } from './types';
import { createInPlaceUniPcSolver } from './unipc-solver';

/**
 * Runs the Wan2.1 sampling loop (wan21-architecture.md 4) from noise to denoised latents:
 *
 * ```
 * x_0 = noise: gaussianNoise({ seed, shape: latentShape }), or the given `noise` (x_i is the state at step i)
 * for i in 0 .. steps-1:
 *   { cond, uncond } = model({ latents: x_i, timestep: t_i, sigma: sigma_i, ... })    # or { velocity }
 *   v_i = uncond + guidance * (cond - uncond)                                        # 4.4
 *   x_{i+1} = solver.step(v_i, x_i, i)                                                # UniPC (4.3) or Euler
 * ```
 * with the schedule of `flowMatchSchedule({ steps, shift })` (4.2). Defaults are Wan2.1 T2V's: UniPC, 50 steps, shift
 * 5.0, guidance 5.0 (4.1). The model may be synchronous or return a promise; the loop awaits it. Before each step the
 * `signal` is checked (after one turn of the event loop, so that events get to fire it), and when it has fired `sample`
 * throws a SamplerAbortedError (the model is never interrupted in the middle of a call). Every model output is checked
 * for the latent length and for NaN and infinities, naming the step.
 *
 * Host work per step: one pass over the latents, in which the solver reads cond and uncond, guides them, checks the
 * result for NaN and infinities and writes x_{i+1} over x_i (the model gets the same array every step: `noise` is
 * copied first, and the model's outputs are only read).
 */
export async function sample(options: SampleOptions): Promise<SampleResult> {
  const { size, guidance, solverName } = checkSampleBasics(options);
  if (typeof options.model !== 'function') {
    const rule = 'expected a function ({ latents, timestep, sigma, stepIndex, steps }) => { cond, uncond } | { velocity }';
    throw new SamplerOptionError({ option: 'model', value: options.model, rule });
  }
  const schedule = flowMatchSchedule({ steps: options.steps, shift: options.shift, numTrainTimesteps: options.numTrainTimesteps });
  const { steps } = schedule;
  const shapeRule = `the product of latentShape [${options.latentShape.join(', ')}]`;

  // the types allow one of seed and noise; JavaScript callers may pass both or neither
  const { seed, noise } = options as { seed?: NoiseSeed; noise?: unknown };
  let latents: Float32Array;
  if (noise !== undefined) {
    if (seed !== undefined) throw new SamplerOptionError({ option: 'seed', value: seed, rule: 'pass either seed or noise, not both' });
    latents = checkFloat32Array({ tensor: 'noise', value: noise, length: size, rule: shapeRule }).slice();
  } else {
    if (seed === undefined) {
      throw new SamplerOptionError({ option: 'seed', value: undefined, rule: 'pass a seed (an integer in [0, 2^64)) or the initial noise' });
    }
    latents = gaussianNoise({ seed, shape: options.latentShape });
  }

  const solver: InPlaceFlowSolver =
    solverName === 'unipc' ? createInPlaceUniPcSolver({ sigmas: schedule.sigmas }) : createInPlaceEulerSolver({ sigmas: schedule.sigmas });
  for (let stepIndex = 0; stepIndex < steps; stepIndex++) {
    // One turn of the event loop per step, so that a signal fired by an event (Ctrl-C, a timer) is seen here even when
    // the model computes synchronously (the CPU backend) and never yields by itself.
    if (options.signal) await new Promise<void>((resolve) => setImmediate(resolve));
    if (options.signal?.aborted) throw new SamplerAbortedError({ stepIndex, steps, reason: options.signal.reason });
    const started = performance.now();
    const timestep = schedule.timesteps[stepIndex]!;
    const output = await options.model({ latents, timestep, sigma: schedule.sigmas[stepIndex]!, stepIndex, steps });
    const velocity = stepVelocity({ output, guidance, size, shapeRule, stepIndex, steps, timestep });
    // x_{i+1} over x_i: the model has returned, and the array is the sampler's own (a copy of `noise`, or fresh noise)
    latents = solver.stepInto({
      velocity,
      sample: latents,
      stepIndex,
      out: latents,
      throwNonFinite: (index) => throwNonFiniteVelocity({ velocity, index, stepIndex, steps, timestep }),
    });
    options.onStep?.({ stepIndex, steps, timestep, ms: performance.now() - started });
  }
  return { latents, schedule };
}

/**
 * The velocity of one step from what the model returned, its types and lengths checked; its values are checked by the
 * solver's pass, which reads them anyway (see `throwNonFiniteVelocity`).
 */
function stepVelocity(options: {
  output: VelocityModelOutput;
  guidance: number;
  size: number;
  shapeRule: string;
  stepIndex: number;
  steps: number;
  timestep: number;
}): StepVelocity {
  const { output, guidance, size, shapeRule, stepIndex, steps, timestep } = options;
  const check = ({ name, value }: { name: 'cond' | 'uncond' | 'velocity'; value: unknown }): Float32Array =>
    checkFloat32Array({ tensor: `model output ${name} at step ${stepIndex}`, value, length: size, rule: shapeRule });
  const isObject = typeof output === 'object' && output !== null;
  if (isObject && output.velocity !== undefined && output.cond === undefined && output.uncond === undefined) {
    return { velocity: check({ name: 'velocity', value: output.velocity }) };
  }
  if (isObject && output.velocity === undefined && output.cond !== undefined && output.uncond !== undefined) {
    const cond = check({ name: 'cond', value: output.cond });
    // cond is checked in full before uncond: a NaN in it is reported before an uncond of the wrong type or length
    if (!(output.uncond instanceof Float32Array && output.uncond.length === size)) {
      checkFinite({ tensor: 'model output cond', values: cond, stepIndex, steps, timestep });
    }
    return { cond, uncond: check({ name: 'uncond', value: output.uncond }), guidance };
  }
  const keys = isObject ? `an object with keys [${Object.keys(output).join(', ')}]` : String(output);
  const rule = 'expected { cond, uncond } or { velocity }';
  throw new SamplerTensorError({ tensor: `model output at step ${stepIndex}`, actual: `is ${keys}`, rule });
}

/**
 * The error for the first NaN or infinity of a step's velocity, found by the solver's pass at `index`, as checking
 * each tensor in full in turn names it: the velocity; or cond, then uncond, then the guided velocity (float32
 * overflow). A guided value is non-finite wherever cond or uncond is (cond - uncond is then non-finite, g times it too,
 * 0 * inf being NaN, and adding uncond cannot make it finite), so cond and uncond are finite before `index`, and the
 * search for their first non-finite value starts there (the pass has written nothing from `index` on, even when `out`
 * is one of them).
 */
export function throwNonFiniteVelocity(options: { velocity: StepVelocity; index: number; stepIndex: number; steps: number; timestep: number }): never {
  const { velocity, index, stepIndex, steps, timestep } = options;
  if ('velocity' in velocity) {
    throw nonFiniteError({ tensor: 'model output velocity', values: velocity.velocity, index, stepIndex, steps, timestep });
  }
  const { cond, uncond, guidance } = velocity;
  checkFinite({ tensor: 'model output cond', values: cond, stepIndex, steps, timestep, from: index });
  checkFinite({ tensor: 'model output uncond', values: uncond, stepIndex, steps, timestep, from: index });
  const value = guidedValue(cond[index]!, uncond[index]!, guidance);
  throw new SamplerNonFiniteError({ tensor: `guided velocity (guidance ${guidance})`, stepIndex, steps, index, value, timestep });
}
