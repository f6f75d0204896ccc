import type { WanVaeWeights } from './check-weights';
import { addClips, type VaeClip } from './clip';
import { convFrames } from './conv';
import type { WanVaeAttentionSpec } from './layout';
import { vaeTensor } from './residual-block';
import { channelRmsNorm } from './rms-norm';

/**
 * `AttentionBlock` (vae.py): per frame, RMS_norm (no SiLU), a 1x1 Conv2d to q, k, v (channels [0, C), [C, 2C),
 * [2C, 3C)), one head over the h*w positions with scale 1/sqrt(C) (scaled_dot_product_attention), a 1x1 Conv2d
 * `proj`, plus the input. Frames are independent, so there is no cache.
 */
export function attentionBlock(options: { x: VaeClip; spec: WanVaeAttentionSpec; weights: WanVaeWeights }): VaeClip {
  const { x, spec, weights } = options;
  const w = (name: string): Float32Array => vaeTensor(weights, `${spec.prefix}.${name}`);
  const c = spec.dim;
  const n = x.height * x.width;
  const scale = 1 / Math.sqrt(c);
  const frames = x.frames.map((frame) => {
    const normed = channelRmsNorm({ frame, channels: c, pixels: n, gamma: w('norm.gamma'), silu: false });
    const [qkv] = convFrames({ frames: [normed], cin: c, height: x.height, width: x.width, weight: w('to_qkv.weight'), bias: w('to_qkv.bias'), cout: 3 * c, kernel: [1, 1, 1] });
    const src = qkv as Float32Array;
    // Token-major copies: q[i * c + ch].
    const q = new Float64Array(n * c);
    const k = new Float64Array(n * c);
    const v = new Float64Array(n * c);
    for (let ch = 0; ch < c; ch++) {
      for (let i = 0; i < n; i++) {
        q[i * c + ch] = src[ch * n + i] as number;
        k[i * c + ch] = src[(c + ch) * n + i] as number;
        v[i * c + ch] = src[(2 * c + ch) * n + i] as number;
      }
    }
    const attended = new Float32Array(c * n);
    const scores = new Float64Array(n);
    const row = new Float64Array(c);
    for (let i = 0; i < n; i++) {
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let ch = 0; ch < c; ch++) s += (q[i * c + ch] as number) * (k[j * c + ch] as number);
        s *= scale;
        scores[j] = s;
        if (s > max) max = s;
      }
      let sum = 0;
      for (let j = 0; j < n; j++) {
        const e = Math.exp((scores[j] as number) - max);
        scores[j] = e;
        sum += e;
      }
      row.fill(0);
      for (let j = 0; j < n; j++) {
        const pj = (scores[j] as number) / sum;
        for (let ch = 0; ch < c; ch++) row[ch] = (row[ch] as number) + pj * (v[j * c + ch] as number);
      }
      for (let ch = 0; ch < c; ch++) attended[ch * n + i] = row[ch] as number;
    }
    const [projected] = convFrames({ frames: [attended], cin: c, height: x.height, width: x.width, weight: w('proj.weight'), bias: w('proj.bias'), cout: c, kernel: [1, 1, 1] });
    return projected as Float32Array;
  });
  return addClips({ ...x, frames }, x);
}
