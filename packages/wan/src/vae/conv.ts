/**
 * A stride-1 convolution over frames: `frames` are the (already temporally padded) input frames `[cin, h, w]`, `null`
 * for a zero frame; the kernel is `weight [cout, cin, kt, kh, kw]` (PyTorch's layout; a Conv2d is `kt = 1`) with
 * symmetric zero padding `(kh - 1) / 2`, `(kw - 1) / 2` in space (odd kh, kw: the output keeps h x w). Output frame t
 * reads input frames t .. t + kt - 1. Accumulates in float64, rounds once.
 */
export function convFrames(options: {
  frames: readonly (Float32Array | null)[];
  cin: number;
  height: number;
  width: number;
  weight: Float32Array;
  bias: Float32Array;
  cout: number;
  kernel: readonly [number, number, number];
}): Float32Array[] {
  const { frames, cin, height: h, width: w, weight, bias, cout } = options;
  const [kt, kh, kw] = options.kernel;
  const padH = (kh - 1) / 2;
  const padW = (kw - 1) / 2;
  const hw = h * w;
  const outCount = frames.length - kt + 1;
  const out: Float32Array[] = [];
  const acc = new Float64Array(hw);
  for (let t = 0; t < outCount; t++) {
    const frame = new Float32Array(cout * hw);
    for (let o = 0; o < cout; o++) {
      acc.fill(bias[o] as number);
      for (let dt = 0; dt < kt; dt++) {
        const src = frames[t + dt];
        if (src === null || src === undefined) continue;
        for (let i = 0; i < cin; i++) {
          const plane = i * hw;
          const wBase = ((o * cin + i) * kt + dt) * kh * kw;
          for (let dy = 0; dy < kh; dy++) {
            const yStart = Math.max(0, padH - dy);
            const yEnd = Math.min(h, h + padH - dy);
            for (let dx = 0; dx < kw; dx++) {
              const wv = weight[wBase + dy * kw + dx] as number;
              if (wv === 0) continue;
              const xStart = Math.max(0, padW - dx);
              const xEnd = Math.min(w, w + padW - dx);
              const shift = (dy - padH) * w + (dx - padW);
              for (let y = yStart; y < yEnd; y++) {
                const row = y * w;
                for (let x = row + xStart, end = row + xEnd; x < end; x++) acc[x] = (acc[x] as number) + wv * (src[plane + x + shift] as number);
              }
            }
          }
        }
      }
      const base = o * hw;
      for (let p = 0; p < hw; p++) frame[base + p] = acc[p] as number;
    }
    out.push(frame);
  }
  return out;
}
