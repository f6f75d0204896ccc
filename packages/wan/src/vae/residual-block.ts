import type { WanVaeWeights } from './check-weights';
import { addClips, type VaeClip } from './clip';
import { type CausalConvCache, causalConv3d, createCausalConvCache } from './causal-conv3d';
import type { WanVaeResidualSpec } from './layout';
import { channelRmsNorm } from './rms-norm';

/** The two cached convolutions of a residual block (`residual.2`, `residual.6`). */
export interface ResidualBlockCache {
  readonly conv1: CausalConvCache;
  readonly conv2: CausalConvCache;
}

export function createResidualBlockCache(): ResidualBlockCache {
  return { conv1: createCausalConvCache(), conv2: createCausalConvCache() };
}

/** Weights are checked before the decoder runs (checkWanVaeWeights), so a lookup cannot miss. */
export function vaeTensor(weights: WanVaeWeights, name: string): Float32Array {
  return weights.get(name) as Float32Array;
}

function normSilu(x: VaeClip, gamma: Float32Array): VaeClip {
  const pixels = x.height * x.width;
  return { ...x, frames: x.frames.map((frame) => channelRmsNorm({ frame, channels: x.channels, pixels, gamma, silu: true })) };
}

/**
 * `ResidualBlock` (vae.py): `residual(x) + shortcut(x)` with residual = RMS_norm, SiLU, CausalConv3d k3, RMS_norm,
 * SiLU, (Dropout), CausalConv3d k3, and shortcut a 1x1x1 convolution when the widths differ (identity otherwise).
 */
export function residualBlock(options: { x: VaeClip; spec: WanVaeResidualSpec; weights: WanVaeWeights; cache: ResidualBlockCache }): VaeClip {
  const { x, spec, weights, cache } = options;
  const p = spec.prefix;
  const w = (name: string): Float32Array => vaeTensor(weights, `${p}.${name}`);
  const shortcut =
    spec.inDim === spec.outDim
      ? x
      : causalConv3d({ x, weight: w('shortcut.weight'), bias: w('shortcut.bias'), cout: spec.outDim, kernel: [1, 1, 1], cache: null });
  let h = normSilu(x, w('residual.0.gamma'));
  h = causalConv3d({ x: h, weight: w('residual.2.weight'), bias: w('residual.2.bias'), cout: spec.outDim, kernel: [3, 3, 3], cache: cache.conv1 });
  h = normSilu(h, w('residual.3.gamma'));
  h = causalConv3d({ x: h, weight: w('residual.6.weight'), bias: w('residual.6.bias'), cout: spec.outDim, kernel: [3, 3, 3], cache: cache.conv2 });
  return addClips(h, shortcut);
}
