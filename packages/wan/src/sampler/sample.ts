import { checkFinite, checkFloat32Array, checkGuidance, checkShape } from './_validate';
import { classifierFreeGuidance } from './classifier-free-guidance';
import { SOLVER_NAMES, WAN_T2V_SAMPLING_DEFAULTS } from './defaults';
import { createEulerSolver } from './euler-solver';
import { SamplerAbortedError, SamplerOptionError, SamplerTensorError } from './errors';
import { flowMatchSchedule } from './flow-match-schedule';
import { gaussianNoise } from './gaussian-noise';
import type { FlowSolver, NoiseSeed, SampleOptions, SampleResult, VelocityModelOutput } from './types';
import { createUniPcSolver } from './unipc-solver';

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
 * throws a SamplerAbortedError (the model is never interrupted in the middle of a call). Every model output is checked for the latent length and for NaN and infinities, naming the
 * step.
 */
export async function sample(options: SampleOptions): Promise<SampleResult> {
  const size = checkShape({ option: 'latentShape', shape: options.latentShape });
  const guidance = checkGuidance(options.guidance ?? WAN_T2V_SAMPLING_DEFAULTS.guidance);
  const solverName = options.solver ?? WAN_T2V_SAMPLING_DEFAULTS.solver;
  if (!SOLVER_NAMES.includes(solverName)) {
    const rule = `expected one of ${SOLVER_NAMES.map((name) => `'${name}'`).join(', ')}`;
    throw new SamplerOptionError({ option: 'solver', value: solverName, rule });
  }
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

  const solver: FlowSolver =
    solverName === 'unipc' ? createUniPcSolver({ sigmas: schedule.sigmas }) : createEulerSolver({ sigmas: schedule.sigmas });
  for (let stepIndex = 0; stepIndex < steps; stepIndex++) {
    // One turn of the event loop per step, so that a signal fired by an event (Ctrl-C, a timer) is seen here even when
    // the model computes synchronously (the CPU backend) and never yields by itself.
    if (options.signal) await new Promise<void>((resolve) => setImmediate(resolve));
    if (options.signal?.aborted) throw new SamplerAbortedError({ stepIndex, steps, reason: options.signal.reason });
    const started = performance.now();
    const timestep = schedule.timesteps[stepIndex]!;
    const output = await options.model({ latents, timestep, sigma: schedule.sigmas[stepIndex]!, stepIndex, steps });
    const velocity = guidedVelocity({ output, guidance, size, shapeRule, stepIndex, steps, timestep });
    latents = solver.step({ modelOutput: velocity, sample: latents, stepIndex });
    options.onStep?.({ stepIndex, steps, timestep, ms: performance.now() - started });
  }
  return { latents, schedule };
}

/** The velocity of one step from what the model returned: checked, and guided when it came as cond and uncond. */
function guidedVelocity(options: {
  output: VelocityModelOutput;
  guidance: number;
  size: number;
  shapeRule: string;
  stepIndex: number;
  steps: number;
  timestep: number;
}): Float32Array {
  const { output, guidance, size, shapeRule, stepIndex, steps, timestep } = options;
  const check = ({ name, value }: { name: 'cond' | 'uncond' | 'velocity'; value: unknown }): Float32Array => {
    const tensor = `model output ${name}`;
    const values = checkFloat32Array({ tensor: `${tensor} at step ${stepIndex}`, value, length: size, rule: shapeRule });
    checkFinite({ tensor, values, stepIndex, steps, timestep });
    return values;
  };
  const isObject = typeof output === 'object' && output !== null;
  if (isObject && output.velocity !== undefined && output.cond === undefined && output.uncond === undefined) {
    return check({ name: 'velocity', value: output.velocity });
  }
  if (isObject && output.velocity === undefined && output.cond !== undefined && output.uncond !== undefined) {
    const cond = check({ name: 'cond', value: output.cond });
    const uncond = check({ name: 'uncond', value: output.uncond });
    const guided = classifierFreeGuidance({ cond, uncond, guidance });
    checkFinite({ tensor: `guided velocity (guidance ${guidance})`, values: guided, stepIndex, steps, timestep });
    return guided;
  }
  const keys = isObject ? `an object with keys [${Object.keys(output).join(', ')}]` : String(output);
  const rule = 'expected { cond, uncond } or { velocity }';
  throw new SamplerTensorError({ tensor: `model output at step ${stepIndex}`, actual: `is ${keys}`, rule });
}
