import { describe, expect, it } from 'vitest';
import { WanVideoError } from './errors';
import { frameToRgb8, framesToRgb8 } from './rgb';

describe('framesToRgb8', () => {
  it('maps [-1, 1] CTHW to HWC bytes: -1 -> 0, 1 -> 255, 0 -> 127 (truncate) or 128 (round), clamping outside', () => {
    // [3, 2, 1, 3]: frame 0 holds -1, 0, 1 in R and their opposites in G, 0.5 in B; frame 1 out-of-range values.
    const frames = new Float32Array([
      -1, 0, 1, /* R f1 */ 2, -3, Number.POSITIVE_INFINITY,
      1, 0, -1, /* G f1 */ Number.NEGATIVE_INFINITY, 1.0001, -1.0001,
      0.5, 0.5, 0.5, /* B f1 */ 0, 0, 0,
    ]);
    const [f0, f1] = framesToRgb8({ frames, shape: [3, 2, 1, 3] });
    expect([...(f0 as Uint8Array)]).toEqual([0, 255, 191, 127, 127, 191, 255, 0, 191]);
    expect([...(f1 as Uint8Array)]).toEqual([255, 0, 127, 0, 255, 127, 255, 0, 127]);
    const [r0] = framesToRgb8({ frames, shape: [3, 2, 1, 3], rounding: 'round' });
    expect([...(r0 as Uint8Array)]).toEqual([0, 255, 191, 128, 128, 191, 255, 0, 191]);
  });

  it("reproduces the reference's float32 arithmetic exactly at the byte boundaries", () => {
    // x_k = float32(2k/255 - 1). numpy float32 (as torch computes cache_video: clamp, (x + 1) / 2, * 255, uint8 cast)
    // gives k - 1 for k = 1..95 and k otherwise; with torchvision save_image's + 0.5 it gives k for every k.
    const frames = new Float32Array(3 * 256);
    for (let k = 0; k < 256; k++) for (let c = 0; c < 3; c++) frames[c * 256 + k] = (2 * k) / 255 - 1;
    const [truncated] = framesToRgb8({ frames, shape: [3, 1, 1, 256] });
    const [rounded] = framesToRgb8({ frames, shape: [3, 1, 1, 256], rounding: 'round' });
    for (let k = 0; k < 256; k++) {
      expect(truncated?.[3 * k], `truncate k=${k}`).toBe(k >= 1 && k <= 95 ? k - 1 : k);
      expect(rounded?.[3 * k + 2], `round k=${k}`).toBe(k);
    }
  });

  it('lays out channels and pixels: HWC with R, G, B interleaved, frames in order', () => {
    const [t, h, w] = [3, 2, 4];
    const frames = new Float32Array(3 * t * h * w);
    // value encodes (c, t, y, x) so every byte is distinct: byte = c * 64 + t * 16 + y * 4 + x, stored as 2 byte / 255 - 1.
    for (let c = 0; c < 3; c++)
      for (let f = 0; f < t; f++)
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) frames[((c * t + f) * h + y) * w + x] = (2 * (c * 64 + f * 16 + y * 4 + x)) / 255 - 1;
    const rgb = framesToRgb8({ frames, shape: [3, t, h, w], rounding: 'round' });
    expect(rgb).toHaveLength(t);
    for (let f = 0; f < t; f++) {
      for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) expect(rgb[f]?.[3 * (y * w + x) + c]).toBe(c * 64 + f * 16 + y * 4 + x);
      expect([...frameToRgb8({ frames, shape: [3, t, h, w], rounding: 'round', index: f })]).toEqual([...(rgb[f] as Uint8Array)]);
    }
  });

  it('rejects bad shapes, data, NaN and indices with WanVideoError', () => {
    const frames = new Float32Array(12);
    expect(() => framesToRgb8({ frames, shape: [3, 1, 2] })).toThrow(WanVideoError);
    expect(() => framesToRgb8({ frames, shape: [4, 1, 1, 3] })).toThrow(/framesToRgb8: shape\[0\] is 4: expected 3 channels/);
    expect(() => framesToRgb8({ frames, shape: [3, 1, 2, 3] })).toThrow(/frames is a Float32Array of 12 values: expected 18 values \(\[3, 1, 2, 3\]\)/);
    expect(() => framesToRgb8({ frames: new Float64Array(12) as never, shape: [3, 1, 2, 2] })).toThrow(/expected a Float32Array/);
    expect(() => framesToRgb8({ frames, shape: [3, 1, 2, 2], rounding: 'nearest' as never })).toThrow(/rounding is "nearest"/);
    const nan = frames.slice();
    nan[5] = Number.NaN;
    expect(() => framesToRgb8({ frames: nan, shape: [3, 1, 2, 2] })).toThrow(/frames\[5\] is NaN: expected numbers \(channel 1 of frame 0 is NaN\)/);
    expect(() => frameToRgb8({ frames, shape: [3, 1, 2, 2], index: 1 })).toThrow(/frameToRgb8: index is 1: expected an integer in 0\.\.0/);
  });
});
