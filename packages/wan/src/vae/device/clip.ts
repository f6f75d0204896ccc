import type { Tensor } from '@fpsattn/kernels';

/**
 * The device decoder's activations for one chunk: `frames[t]` is one frame, channels-last F32 `[height * width,
 * channels]` (pixel-major, so a pixel's channels are one GEMM row and one norm row). The residual stream stays F32,
 * as the reference runs the decoder in float32; what a convolution reads is rounded to BF16 on the way in (its
 * columns, or the norm that precedes it). The frames are owned by the clip: `disposeClip` frees them.
 */
export interface DeviceClip {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly frames: readonly Tensor<'f32'>[];
}

export function disposeClip(clip: DeviceClip): void {
  for (const frame of clip.frames) frame.dispose();
}

/** A second handle on `t`'s storage (a cache keeps one; the storage is freed when both are disposed). */
export function shareTensor<T extends Tensor>(t: T): T {
  return t.reshape(t.shape) as T;
}

/** Disposes every tensor of `tensors` (nulls skipped). */
export function disposeAll(tensors: readonly (Tensor | null)[]): void {
  for (const t of tensors) t?.dispose();
}
