import { type WanForwardCpuOptions, wanForwardCpu } from './cpu-forward';

/** One text condition: the encoder output trimmed to its real tokens, [contextLength, textDim]. */
export interface WanTextContext {
  context: Float32Array;
  contextLength: number;
}

/**
 * The batch of two the reference runs per step for classifier-free guidance (wan21-architecture.md 4.4): the same
 * latents and timestep under the prompt (`cond`) and the negative prompt (`uncond`), one {@link wanForwardCpu} each.
 * The result has the shape the sampler's `VelocityModel` returns.
 */
export function wanForwardCpuCfg(
  options: Omit<WanForwardCpuOptions, 'context' | 'contextLength' | 'onStage'> & { cond: WanTextContext; uncond: WanTextContext },
): { cond: Float32Array; uncond: Float32Array } {
  const { cond, uncond, ...shared } = options;
  return { cond: wanForwardCpu({ ...shared, ...cond }), uncond: wanForwardCpu({ ...shared, ...uncond }) };
}
