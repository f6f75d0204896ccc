import { bf16BitsToFloat32, float32ToBf16Bits } from '@fpsattn/fp8';
import { CpuBackend, type Tensor } from '@fpsattn/kernels';
import { describe, expect, it } from 'vitest';
import { convFrames } from '../conv';
import { type DeviceConvCache, causalConv, convFrame, createDeviceConvCache, disposeConvCache, updateConvCache } from './conv';
import { Im2colScratch } from './im2col-scratch';
import { permuteConvWeight } from './weights';

const backend = new CpuBackend();

/** Values k / 16, k in -8..7: exact in BF16, so the device path's BF16 rounding of its operands changes nothing. */
function exact(n: number, seed: number): Float32Array {
  let s = seed >>> 0;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return ((s >>> 24) % 16 - 8) / 16;
  });
}

/** [C, H, W] planar (the CPU decoder's frames) <-> [H W, C] channels-last (the device's). */
const toChannelsLast = (planar: Float32Array, c: number, pixels: number) => Float32Array.from({ length: c * pixels }, (_, i) => planar[(i % c) * pixels + Math.floor(i / c)] as number);
const toPlanar = (last: Float32Array, c: number, pixels: number) => Float32Array.from({ length: c * pixels }, (_, i) => last[(i % pixels) * c + Math.floor(i / pixels)] as number);

function deviceConv(weight: Float32Array, bias: Float32Array, cout: number, cin: number, kernel: [number, number, number]) {
  const taps = kernel[0] * kernel[1] * kernel[2];
  return {
    weight: backend.fromArray(permuteConvWeight({ data: weight, cout, cin, taps }), [cout, taps * cin], 'bf16'),
    bias: backend.fromArray(bias, [cout], 'f32'),
    kernel,
    cin,
    cout,
  };
}

describe('permuteConvWeight', () => {
  it('moves PyTorch [cout, cin, taps] to [cout, taps, cin] BF16, zero rows past cout', () => {
    const data = Float32Array.from({ length: 2 * 3 * 2 }, (_, i) => i); // w[o][i][t] = 6 o + 2 i + t
    const bits = permuteConvWeight({ data, cout: 2, cin: 3, taps: 2, coutPadded: 3 });
    expect(Array.from(bits, bf16BitsToFloat32)).toEqual([0, 2, 4, 1, 3, 5, 6, 8, 10, 7, 9, 11, 0, 0, 0, 0, 0, 0]);
    expect(permuteConvWeight({ data: Float32Array.of(1.00390625), cout: 1, cin: 1, taps: 1 })[0]).toBe(float32ToBf16Bits(1.00390625));
  });
});

describe('convFrame and causalConv (device path on the CPU backend) against the CPU decoder\'s convFrames', () => {
  it.each([
    { name: '3x3x3, 16 -> 8 channels, 5 x 7, causal zero frames', cin: 16, cout: 8, h: 5, w: 7, kernel: [3, 3, 3] as [number, number, number], budget: 1 << 20 },
    { name: '3x3x3 in chunks of 9 rows', cin: 8, cout: 16, h: 4, w: 6, kernel: [3, 3, 3] as [number, number, number], budget: 9 * 27 * 8 * 2 },
    { name: '(3,1,1) time conv', cin: 8, cout: 8, h: 3, w: 3, kernel: [3, 1, 1] as [number, number, number], budget: 1 << 20 },
  ])('$name', ({ cin, cout, h, w, kernel, budget }) => {
    const pixels = h * w;
    const weight = exact(cout * cin * kernel[0] * kernel[1] * kernel[2], 1);
    const bias = exact(cout, 2);
    const inputs = [exact(cin * pixels, 3), exact(cin * pixels, 4), exact(cin * pixels, 5)];
    // The CPU decoder: frames [null, null, x0, x1, x2] (two zero frames of causal padding), three output frames.
    const want = convFrames({ frames: [null, null, ...inputs], cin, height: h, width: w, weight, bias, cout, kernel });
    const conv = deviceConv(weight, bias, cout, cin, kernel);
    const scratch = new Im2colScratch({ backend, maxBytes: budget });
    const x = inputs.map((p) => backend.fromArray(toChannelsLast(p, cin, pixels), [pixels, cin], 'f32'));
    const cache = createDeviceConvCache();
    // Chunk 1 = x0, chunk 2 = [x1, x2], through the cache.
    const first = causalConv({ scratch, x: [x[0] as Tensor<'f32'>], conv, height: h, width: w, cache });
    const rest = causalConv({ scratch, x: [x[1] as Tensor<'f32'>, x[2] as Tensor<'f32'>], conv, height: h, width: w, cache });
    [...first, ...rest].forEach((frame, t) => {
      const got = toPlanar(frame.downloadSync(), cout, pixels);
      // float64 sums in another order, each rounded once to float32: equal to within one float32 rounding.
      (want[t] as Float32Array).forEach((v, i) => expect(Math.abs((got[i] as number) - v), `frame ${t} element ${i}`).toBeLessThanOrEqual(2 ** -23 * Math.abs(v) + 1e-30));
    });
    // An uncached single frame with explicit taps is the same as the first chunk.
    const direct = convFrame({ scratch, taps: [null, null, x[0] as Tensor<'f32'>], conv, height: h, width: w });
    expect(direct.downloadSync()).toEqual((first[0] as Tensor<'f32'>).downloadSync());
    disposeConvCache(cache);
    scratch.dispose();
  });
});

describe('updateConvCache', () => {
  const frame = () => backend.empty([4, 8], 'bf16');

  it('keeps the last two input frames, or the previous last and the only one, and frees what it drops', () => {
    const cache: DeviceConvCache = createDeviceConvCache();
    const [a, b, c, d] = [frame(), frame(), frame(), frame()];
    updateConvCache(cache, [a]); // first chunk of one frame: [a] only
    expect(cache.frames?.map((f) => f?.storage)).toEqual([a.storage]);
    updateConvCache(cache, [b]); // [a, b]
    expect(cache.frames?.map((f) => f?.storage)).toEqual([a.storage, b.storage]);
    const held = cache.frames as Tensor[];
    updateConvCache(cache, [c, d]); // [c, d]: a and b dropped
    expect(cache.frames?.map((f) => f?.storage)).toEqual([c.storage, d.storage]);
    expect(held.every((t) => t.disposed)).toBe(true);
    // The cache holds its own handles: the caller's frames can go, the cache's stay live until it is disposed.
    for (const t of [a, b, c, d]) t.dispose();
    expect(a.storage.live || b.storage.live).toBe(false);
    expect(c.storage.live && d.storage.live).toBe(true);
    updateConvCache(cache, [null]); // a zero frame: [d, null]
    expect(cache.frames?.map((f) => f?.storage ?? null)).toEqual([d.storage, null]);
    expect(c.storage.live).toBe(false);
    disposeConvCache(cache);
    expect(d.storage.live).toBe(false);
    expect(cache.frames).toBeNull();
  });
});
