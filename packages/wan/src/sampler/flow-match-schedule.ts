import { checkNumTrainTimesteps, checkShift, checkSteps } from './_validate';
import { WAN_T2V_SAMPLING_DEFAULTS } from './defaults';
import type { FlowMatchSchedule } from './types';

export interface FlowMatchScheduleOptions {
  /** Default 50 (4.1). */
  steps?: number;
  /** Default 5.0, the original CLI's value for every T2V size (4.1). */
  shift?: number;
  /** Default 1000. */
  numTrainTimesteps?: number;
}

/**
 * The noise levels and DiT timesteps of the original Wan2.1 UniPC scheduler (wan21-architecture.md 4.2,
 * `W:wan/utils/fm_solvers_unipc.py:109-229`), reproduced bit for bit:
 *
 * ```
 * sigma_max = float32(1 - 1/n)                   # the training sigmas are float32: 0.9990000128746033 for n = 1000
 * s_k       = k * ((0 - sigma_max) / steps) + sigma_max,  k = 0 .. steps-1     # numpy linspace, float64
 * s_k       = shift * s_k / (1 + (shift - 1) * s_k)                          # flow shift, float64
 * t_k       = trunc(s_k * n)                     # the integer timestep the DiT sees: truncated, not rounded
 * sigmas    = float32([s_0 .. s_{steps-1}, 0])   # what the solver uses (porting checklist 9.6)
 * ```
 *
 * The linspace is evaluated the way numpy does (`start + k * step`, float64) and the timesteps truncate the float64
 * value before its float32 rounding, so that no timestep flips at an integer boundary. For shift 5.0 and 50 steps:
 * t = [999, 995, 991, ..., 241, 172, 92]. This is the original repository's schedule, not diffusers' (which starts
 * from 1 and differs in a few timesteps, 4.2).
 *
 * The reference looks its first step up by timestep value and starts at index 1 when the first timestep occurs twice;
 * that happens only past about 250 steps at shift 5.0 (t_0 = t_1 = 999) and is not reproduced: here step k always
 * uses sigmas[k].
 */
export function flowMatchSchedule(options: FlowMatchScheduleOptions = {}): FlowMatchSchedule {
  const steps = checkSteps(options.steps ?? WAN_T2V_SAMPLING_DEFAULTS.steps);
  const shift = checkShift(options.shift ?? WAN_T2V_SAMPLING_DEFAULTS.shift);
  const numTrainTimesteps = checkNumTrainTimesteps(options.numTrainTimesteps ?? WAN_T2V_SAMPLING_DEFAULTS.numTrainTimesteps);

  // __init__: sigmas = float32(1 - linspace(1, 1/n, n)[::-1]); its first is 1 - 1/n, its last 1 - 1 = 0
  const sigmaMax = Math.fround(1 - 1 / numTrainTimesteps);
  const sigmaMin = 0;
  // set_timesteps: linspace(sigma_max, sigma_min, steps + 1)[:-1], as numpy computes it
  const delta = (sigmaMin - sigmaMax) / steps;

  const sigmas = new Float64Array(steps + 1); // sigmas[steps] = 0 (final_sigmas_type "zero")
  const timesteps = new Int32Array(steps);
  for (let k = 0; k < steps; k++) {
    const s = k * delta + sigmaMax;
    const shifted = (shift * s) / (1 + (shift - 1) * s);
    timesteps[k] = Math.trunc(shifted * numTrainTimesteps);
    sigmas[k] = Math.fround(shifted);
  }
  return { steps, shift, numTrainTimesteps, sigmas, timesteps };
}
