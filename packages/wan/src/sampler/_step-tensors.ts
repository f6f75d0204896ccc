import { checkFloat32Array } from './_validate';
import { SamplerTensorError } from './errors';

/**
 * The tensors of one solver step: `sample` a Float32Array of `length` values (the length of the first step when
 * `length` is null), `modelOutput` a Float32Array of the same length. Returns the length. Their finiteness is checked
 * by the step's own pass over them (it stops at the first NaN or infinity, before writing anything at its index).
 */
export function checkStepTensors(options: {
  modelOutput: unknown;
  sample: unknown;
  stepIndex: number;
  length: number | null;
}): number {
  const { stepIndex } = options;
  const sample = checkFloat32Array({ tensor: 'sample', value: options.sample, length: null, rule: '' });
  if (options.length !== null && sample.length !== options.length) {
    throw new SamplerTensorError({
      tensor: 'sample',
      actual: `has ${sample.length} values at step ${stepIndex}`,
      rule: `expected ${options.length}, the length of the latents at step 0: a solver runs over one latent shape`,
    });
  }
  checkFloat32Array({ tensor: 'modelOutput', value: options.modelOutput, length: sample.length, rule: 'the length of sample' });
  return sample.length;
}
