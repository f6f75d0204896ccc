import { guidedValue } from './_step-velocity';
import { checkFloat32Array, checkGuidance } from './_validate';
import { WAN_T2V_SAMPLING_DEFAULTS } from './defaults';

export interface ClassifierFreeGuidanceOptions {
  /** The velocity with the prompt. */
  cond: Float32Array;
  /** The velocity with the negative prompt (Wan's default negative prompt, 4.1), same length. */
  uncond: Float32Array;
  /** The guidance scale g; default 5.0 (4.1). g = 1 gives `cond`, g = 0 gives `uncond`. */
  guidance?: number;
}

/**
 * Classifier-free guidance (wan21-architecture.md 4.4, `W:text2video.py:233-254`):
 * v = v_uncond + g * (v_cond - v_uncond), in a new array.
 *
 * Precision: the reference computes in float32 (three rounded operations); here each element is formed in float64 and
 * rounded to float32 once.
 */
export function classifierFreeGuidance(options: ClassifierFreeGuidanceOptions): Float32Array {
  const guidance = checkGuidance(options.guidance ?? WAN_T2V_SAMPLING_DEFAULTS.guidance);
  const cond = checkFloat32Array({ tensor: 'cond', value: options.cond, length: null, rule: '' });
  const uncond = checkFloat32Array({ tensor: 'uncond', value: options.uncond, length: cond.length, rule: 'the length of cond' });
  const guided = new Float32Array(cond.length);
  for (let k = 0; k < guided.length; k++) guided[k] = guidedValue(cond[k]!, uncond[k]!, guidance);
  return guided;
}
