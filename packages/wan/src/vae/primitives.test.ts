import { describe, expect, it } from 'vitest';
import { causalConv3d, createCausalConvCache, nextCacheFrames } from './causal-conv3d';
import { convFrames } from './conv';
import { upsampleNearest2x } from './resample';
import { channelRmsNorm } from './rms-norm';

describe('channelRmsNorm', () => {
  it('normalises over channels at each pixel, times sqrt(C) and gamma; SiLU optional', () => {
    // 2 channels, 2 pixels: pixel 0 = (3, 4), pixel 1 = (0, 0) (the 1e-12 clamp keeps it 0).
    const frame = Float32Array.from([3, 0, 4, 0]);
    const gamma = Float32Array.from([1, 2]);
    const plain = channelRmsNorm({ frame, channels: 2, pixels: 2, gamma, silu: false });
    const r2 = Math.SQRT2;
    expect(Array.from(plain)).toEqual(Array.from(Float32Array.from([(3 / 5) * r2, 0, (4 / 5) * r2 * 2, 0])));
    const silu = channelRmsNorm({ frame, channels: 2, pixels: 2, gamma, silu: true });
    const y = (4 / 5) * r2 * 2;
    expect(silu[2]).toBe(Math.fround(y / (1 + Math.exp(-y))));
  });
});

describe('upsampleNearest2x', () => {
  it('repeats each pixel 2x2 (nearest-exact at scale 2)', () => {
    const out = upsampleNearest2x({ frame: Float32Array.from([0, 1, 2, 3, 4, 5]), channels: 1, height: 2, width: 3 });
    expect(Array.from(out)).toEqual([0, 0, 1, 1, 2, 2, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 3, 3, 4, 4, 5, 5]);
  });
});

describe('convFrames', () => {
  it('3x3 with zero padding keeps the size (a box filter sums the neighbourhood)', () => {
    const frame = Float32Array.from([1, 2, 3, 4]); // 2x2
    const [out] = convFrames({ frames: [frame], cin: 1, height: 2, width: 2, weight: new Float32Array(9).fill(1), bias: Float32Array.from([0.5]), cout: 1, kernel: [1, 3, 3] });
    expect(Array.from(out as Float32Array)).toEqual([10.5, 10.5, 10.5, 10.5]);
  });
});

describe('causal convolution cache', () => {
  const f = (v: number): Float32Array => Float32Array.from([v]);
  it('keeps the last two input frames, or the previous last and the only one', () => {
    expect(nextCacheFrames([f(1)], null).map((x) => x[0])).toEqual([1]);
    expect(nextCacheFrames([f(2)], [f(1)]).map((x) => x[0])).toEqual([1, 2]);
    expect(nextCacheFrames([f(3), f(4), f(5)], [f(1), f(2)]).map((x) => x[0])).toEqual([4, 5]);
  });

  it('chunked (1 frame, then 1, then 2) equals one pass over the whole sequence', () => {
    // Temporal kernel [1, 10, 100] on 1x1 frames: y_t = x_{t-2} + 10 x_{t-1} + 100 x_t.
    const weight = Float32Array.from([1, 10, 100]);
    const bias = Float32Array.from([0]);
    const clip = (values: number[]) => ({ channels: 1, height: 1, width: 1, frames: values.map(f) });
    const whole = causalConv3d({ x: clip([1, 2, 3, 4]), weight, bias, cout: 1, kernel: [3, 1, 1], cache: null });
    const cache = createCausalConvCache();
    const parts = [[1], [2], [3, 4]].flatMap((values) => causalConv3d({ x: clip(values), weight, bias, cout: 1, kernel: [3, 1, 1], cache }).frames);
    expect(parts.map((x) => x[0])).toEqual(whole.frames.map((x) => x[0]));
    expect(whole.frames.map((x) => x[0])).toEqual([100, 210, 321, 432]);
  });
});
