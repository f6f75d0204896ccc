/**
 * The decoder's activations for one chunk, frame-major: `frames[t]` is one frame `[channels, height, width]`,
 * row-major float32. Frames are never written after they are made, so a causal cache can keep references to them.
 */
export interface VaeClip {
  readonly channels: number;
  readonly height: number;
  readonly width: number;
  readonly frames: readonly Float32Array[];
}

/** `[C, T, H, W]` row-major data of a clip (the layout of the reference's tensors, batch dropped). */
export function clipToCthw(clip: VaeClip): Float32Array {
  const { channels, height, width, frames } = clip;
  const hw = height * width;
  const t = frames.length;
  const out = new Float32Array(channels * t * hw);
  frames.forEach((frame, f) => {
    for (let c = 0; c < channels; c++) out.set(frame.subarray(c * hw, (c + 1) * hw), (c * t + f) * hw);
  });
  return out;
}

/** Frames `start .. start + count - 1` of `[C, T, H, W]` data as a clip. */
export function clipFromCthw(options: { data: Float32Array; shape: readonly [number, number, number, number]; start: number; count: number }): VaeClip {
  const [channels, t, height, width] = options.shape;
  const hw = height * width;
  const frames: Float32Array[] = [];
  for (let f = options.start; f < options.start + options.count; f++) {
    const frame = new Float32Array(channels * hw);
    for (let c = 0; c < channels; c++) frame.set(options.data.subarray((c * t + f) * hw, (c * t + f + 1) * hw), c * hw);
    frames.push(frame);
  }
  return { channels, height, width, frames };
}

/** `a + b`, frame by frame (the residual add). */
export function addClips(a: VaeClip, b: VaeClip): VaeClip {
  const frames = a.frames.map((fa, t) => {
    const fb = b.frames[t] as Float32Array;
    const out = new Float32Array(fa.length);
    for (let i = 0; i < fa.length; i++) out[i] = (fa[i] as number) + (fb[i] as number);
    return out;
  });
  return { ...a, frames };
}
