import { WanInputError } from '../model/errors';

/**
 * The encoder's trimmed output [length, dim] zero-padded to [textLen, dim], row-major: the context the DiT's text
 * MLP takes (`cat(c, zeros(textLen - length, dim))`, wan21-architecture.md 1.6; `wanForwardCpu` pads by itself, the
 * device path and embedding files use this layout).
 */
export function padContext(options: {
  /** [length, dim], row-major. */
  context: Float32Array;
  length: number;
  dim: number;
  /** Rows of the result (512 for Wan). */
  textLen: number;
}): Float32Array {
  const { context, length, dim, textLen } = options;
  const bad = (input: string, value: unknown, rule: string): never => {
    throw new WanInputError({ input, value, rule, caller: 'padContext' });
  };
  if (!Number.isSafeInteger(dim) || dim < 1) bad('dim', dim, 'expected an integer >= 1');
  if (!Number.isSafeInteger(textLen) || textLen < 1) bad('textLen', textLen, 'expected an integer >= 1');
  if (!Number.isSafeInteger(length) || length < 0 || length > textLen) bad('length', length, `expected an integer in [0, textLen = ${textLen}]`);
  if (!(context instanceof Float32Array)) bad('context', context, 'expected a Float32Array');
  if (context.length !== length * dim) bad('context', context, `expected length * dim = ${length} * ${dim} = ${length * dim} values`);
  const out = new Float32Array(textLen * dim);
  out.set(context);
  return out;
}
