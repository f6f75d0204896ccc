import { type Tensor, channelRmsNorm, gatedResidual } from '@fpsattn/kernels';
import { type DeviceClip, disposeAll } from './clip';
import { type DeviceConvCache, causalConv, convFrame, createDeviceConvCache, disposeConvCache } from './conv';
import type { Im2colScratch } from './im2col-scratch';
import type { DeviceResidualBlock } from './weights';

/** The two cached convolutions of a residual block (`residual.2`, `residual.6`); their inputs are BF16 norm outputs. */
export interface DeviceResidualCache {
  readonly conv1: DeviceConvCache;
  readonly conv2: DeviceConvCache;
}

export function createDeviceResidualCache(): DeviceResidualCache {
  return { conv1: createDeviceConvCache(), conv2: createDeviceConvCache() };
}

export function disposeResidualCache(cache: DeviceResidualCache): void {
  disposeConvCache(cache.conv1);
  disposeConvCache(cache.conv2);
}

/** RMS_norm + SiLU of each F32 frame, to BF16 (the next convolution's input). */
function normSilu(frames: readonly Tensor<'f32'>[], gamma: Tensor<'f32'>): Tensor<'bf16'>[] {
  const out: Tensor<'bf16'>[] = [];
  try {
    for (const x of frames) out.push(channelRmsNorm({ x, gamma, silu: true }));
    return out;
  } catch (e) {
    disposeAll(out);
    throw e;
  }
}

/**
 * `ResidualBlock` on the device (vae.py; CPU: ../residual-block.ts): residual(x) + shortcut(x), residual = RMS_norm,
 * SiLU, CausalConv3d k3, RMS_norm, SiLU, CausalConv3d k3 (norms to BF16, convolutions im2col + GEMM to F32), shortcut
 * a 1x1x1 convolution of x (its F32 frames rounded to BF16 by the columns) when the widths differ, else x itself; the
 * sum in F32 (gatedResidual without a gate, into the fresh output). Returns a new clip; `x` stays the caller's.
 */
export function residualBlockDevice(options: { scratch: Im2colScratch; x: DeviceClip; block: DeviceResidualBlock; cache: DeviceResidualCache }): DeviceClip {
  const { scratch, x, block, cache } = options;
  const { height, width } = x;
  const pixels = height * width;
  const h1 = normSilu(x.frames, block.norm1);
  let c1: Tensor<'f32'>[];
  try {
    c1 = causalConv({ scratch, x: h1, conv: block.conv1, height, width, cache: cache.conv1, name: 'vae.res.conv1' });
  } finally {
    disposeAll(h1);
  }
  let h2: Tensor<'bf16'>[];
  try {
    h2 = normSilu(c1, block.norm2);
  } finally {
    disposeAll(c1);
  }
  let out: Tensor<'f32'>[];
  try {
    out = causalConv({ scratch, x: h2, conv: block.conv2, height, width, cache: cache.conv2, name: 'vae.res.out' });
  } finally {
    disposeAll(h2);
  }
  try {
    x.frames.forEach((frame, t) => {
      const y = out[t] as Tensor<'f32'>;
      if (block.shortcut === null) {
        gatedResidual({ x: y, y: frame, rowsPerItem: pixels });
        return;
      }
      const shortcut = convFrame({ scratch, taps: [frame], conv: block.shortcut, height, width, name: 'vae.res.shortcut' });
      try {
        gatedResidual({ x: y, y: shortcut, rowsPerItem: pixels });
      } finally {
        shortcut.dispose();
      }
    });
    return { channels: block.outDim, height, width, frames: out };
  } catch (e) {
    disposeAll(out);
    throw e;
  }
}
