import { float32ToBf16Bits, roundToBf16 } from '@fpsattn/fp8';
import { CpuBackend, type DType, type Storage, type Tensor } from '@fpsattn/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import { WanConfigError, WanInputError, WanTensorSetError } from '../../model/errors';
import type { WanVaeWeights } from '../check-weights';
import { WAN_VAE_CONFIG_PRESETS } from '../config';
import { type WanVaeDecodeResult, wanVaeDecodeCpu } from '../decode';
import { syntheticWanVaeLatents, syntheticWanVaeWeights } from '../synthetic-weights';
import { type WanVaeDeviceDecodeResult, type WanVaeDeviceFrameEvent, WanVaeDeviceDecoder } from './decode';
import { WanVaeDeviceWeights } from './weights';

const tiny = WAN_VAE_CONFIG_PRESETS['wan-vae-tiny'];

/** A CPU backend that remembers every storage it allocates, so a test can see which are still live. */
class TrackingBackend extends CpuBackend {
  readonly storages: Storage[] = [];
  override empty<D extends DType>(shape: readonly number[], dtype: D, options?: { name?: string }): Tensor<D> {
    const t = super.empty(shape, dtype, options);
    this.storages.push(t.storage);
    return t;
  }
  live(): number {
    return this.storages.filter((s) => s.live).length;
  }
}

function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = b.length): number {
  let e = 0;
  let n = 0;
  for (let i = from; i < to; i++) {
    e += ((a[i] as number) - (b[i] as number)) ** 2;
    n += (b[i] as number) ** 2;
  }
  return Math.sqrt(e / n);
}

/**
 * The synthetic weights rounded to BF16 (the device decoder rounds them so anyway): the CPU decoder then runs the same
 * network, and what remains between the two is the device path's own rounding (BF16 activations into every GEMM, BF16
 * q, k and attention output). Rounding the weights alone moves the output of this random network by 1.5e-2 relative
 * L2, the device path's activations by about as much again: that, not a bug, is the BF16 level here.
 */
function bf16Weights(seed: number): WanVaeWeights {
  return new Map([...syntheticWanVaeWeights({ config: tiny, seed })].map(([name, v]) => [name, Float32Array.from(v, roundToBf16)]));
}

/**
 * Tolerances against the float32 CPU decoder: measured 1.6e-2 over the whole video and at most 2.0e-2 on one frame
 * (errors grow through the caches over the first frames, then level off). A cache bug (a wrong frame in a slot)
 * gives 4e-2 to 1.2e-1 overall and 9e-2 to 3.7e-1 on the last frames; a skipped norm or a wrong tap, more.
 */
const VIDEO_TOLERANCE = 3e-2;
const FRAME_TOLERANCE = 4e-2;

describe('WanVaeDeviceDecoder on the CPU backend (wan-vae-tiny)', () => {
  // 5 latent frames: every cache state (none, first chunk, the 'rep' time conv, the zero frame it leaves, steady).
  const latentShape = [16, 5, 4, 6];
  const weights = bf16Weights(1234);
  const latents = syntheticWanVaeLatents({ latentShape, seed: 7 });
  let want: WanVaeDecodeResult;
  let got: WanVaeDeviceDecodeResult;
  const events: WanVaeDeviceFrameEvent[] = [];
  const backend = new TrackingBackend();
  let device: WanVaeDeviceWeights;
  let weightStorages: number;

  beforeAll(async () => {
    want = wanVaeDecodeCpu({ weights, config: tiny, latents, latentShape });
    device = WanVaeDeviceWeights.upload({ backend, config: tiny, weights });
    weightStorages = backend.storages.length;
    // A small column budget: the convolutions run in several row chunks (the last one ragged).
    got = await new WanVaeDeviceDecoder({ weights: device, im2colBytes: 20_000 }).decode({ latents, latentShape, onFrame: (e) => events.push(e) });
  });

  it('matches the CPU decoder at BF16 level, over the video and frame by frame', () => {
    expect(got.shape).toEqual([3, 17, 32, 48]);
    expect(got.dtype).toBe('f32');
    expect(got.frames.every((v) => v >= -1 && v <= 1)).toBe(true);
    const video = relativeL2(got.frames, want.frames);
    expect(video).toBeLessThan(VIDEO_TOLERANCE);
    const [, t, h, w] = got.shape;
    const plane = h * w;
    for (let f = 0; f < t; f++) {
      // A frame across its 3 planes: the error per frame, so one bad frame cannot hide in the average.
      let e = 0;
      let n = 0;
      for (let c = 0; c < 3; c++) {
        const at = (c * t + f) * plane;
        const r = relativeL2(got.frames, want.frames, at, at + plane);
        let s = 0;
        for (let i = at; i < at + plane; i++) s += (want.frames[i] as number) ** 2;
        e += r * r * s;
        n += s;
      }
      expect(Math.sqrt(e / n), `frame ${f}`).toBeLessThan(FRAME_TOLERANCE);
    }
    // Not trivially close: the outputs vary, and differ from the CPU decoder's by BF16-sized amounts.
    expect(video).toBeGreaterThan(1e-4);
  });

  it('reports each latent frame\'s frames in order, equal to the result', () => {
    expect(events.map((e) => [e.latentFrame, e.firstFrame, e.frameCount])).toEqual([[0, 0, 1], [1, 1, 4], [2, 5, 4], [3, 9, 4], [4, 13, 4]]);
    const [, t, h, w] = got.shape;
    for (const e of events) {
      expect([e.latentFrames, e.totalFrames, e.height, e.width]).toEqual([5, 17, 32, 48]);
      expect(e.ms).toBeGreaterThan(0);
      for (let c = 0; c < 3; c++) {
        for (let k = 0; k < e.frameCount; k++) {
          const want = got.frames.subarray((c * t + e.firstFrame + k) * h * w, (c * t + e.firstFrame + k + 1) * h * w);
          expect(e.pixels.subarray((c * e.frameCount + k) * h * w, (c * e.frameCount + k + 1) * h * w)).toEqual(want);
        }
      }
    }
  });

  it('frees everything it allocated but the weights, and the weights on dispose', () => {
    // Live now: exactly the weights' tensors (uploaded first, one storage each), though the decode allocated many more.
    expect(backend.live()).toBe(weightStorages);
    expect(backend.storages.slice(0, weightStorages).every((s) => s.live)).toBe(true);
    expect(backend.storages.length).toBeGreaterThan(2 * weightStorages);
    expect(device.bytes).toBeGreaterThan(0);
    device.dispose();
    expect(backend.live()).toBe(0);
  });
});

describe('WanVaeDeviceDecoder: chunking, dtypes, ragged sizes', () => {
  // 3 x 5 latent pixels: 15 attention tokens padded to 16, odd sides everywhere.
  const latentShape = [16, 2, 3, 5];
  const weights = bf16Weights(99);
  const latents = syntheticWanVaeLatents({ latentShape, seed: 3 });
  const backend = new CpuBackend();
  const device = WanVaeDeviceWeights.upload({ backend, config: tiny, weights });

  it('gives the same bits whatever the column budget (one row per chunk up to whole frames)', async () => {
    const whole = await new WanVaeDeviceDecoder({ weights: device }).decode({ latents, latentShape });
    const rowByRow = await new WanVaeDeviceDecoder({ weights: device, im2colBytes: 16 }).decode({ latents, latentShape });
    expect(rowByRow.frames).toEqual(whole.frames);
    expect(relativeL2(whole.frames, wanVaeDecodeCpu({ weights, config: tiny, latents, latentShape }).frames)).toBeLessThan(VIDEO_TOLERANCE);
    // BF16 output: the same clamped values rounded once.
    const half = await new WanVaeDeviceDecoder({ weights: device }).decode({ latents, latentShape, outDtype: 'bf16' });
    expect(half.dtype).toBe('bf16');
    expect(half.frames).toEqual(Uint16Array.from(whole.frames, float32ToBf16Bits));
  });
});

describe('WanVaeDeviceDecoder: errors', () => {
  const weights = syntheticWanVaeWeights({ config: tiny, seed: 5 });
  const latentShape = [16, 2, 2, 3];
  const latents = syntheticWanVaeLatents({ latentShape, seed: 1 });

  it('frees everything when onFrame throws, or when the signal aborts, and the decoder stays usable', async () => {
    const backend = new TrackingBackend();
    const device = WanVaeDeviceWeights.upload({ backend, config: tiny, weights });
    const weightCount = backend.live();
    const decoder = new WanVaeDeviceDecoder({ weights: device });
    await expect(
      decoder.decode({
        latents,
        latentShape,
        onFrame: () => {
          throw new Error('disk full');
        },
      }),
    ).rejects.toThrow('disk full');
    expect(backend.live()).toBe(weightCount);
    const controller = new AbortController();
    const aborted = decoder.decode({ latents, latentShape, signal: controller.signal, onFrame: () => controller.abort(new Error('stop')) });
    await expect(aborted).rejects.toThrow('stop');
    expect(backend.live()).toBe(weightCount);
    expect((await decoder.decode({ latents, latentShape })).shape).toEqual([3, 5, 16, 24]);
    expect(backend.live()).toBe(weightCount);
    device.dispose();
    expect(backend.live()).toBe(0);
  });

  it('refuses bad latents and options, naming the input', async () => {
    const device = WanVaeDeviceWeights.upload({ backend: new CpuBackend(), config: tiny, weights });
    const decoder = new WanVaeDeviceDecoder({ weights: device });
    const decode = (o: object) => decoder.decode({ latents, latentShape, ...o });
    await expect(decode({ latentShape: [16, 2, 2] })).rejects.toMatchObject({ input: 'latentShape' });
    await expect(decode({ latentShape: [8, 2, 2, 3] })).rejects.toMatchObject({ input: 'latentShape[0]' });
    await expect(decode({ latents: new Float32Array(5) })).rejects.toMatchObject({ input: 'latents' });
    await expect(decode({ latents: Float32Array.from(latents, (v, i) => (i === 17 ? Number.NaN : v)) })).rejects.toMatchObject({ input: 'latents[17]' });
    await expect(decode({ outDtype: 'f16' })).rejects.toBeInstanceOf(WanInputError);
    await expect(decode({ onFrame: 3 })).rejects.toMatchObject({ input: 'onFrame' });
    expect(() => new WanVaeDeviceDecoder({ weights: device, im2colBytes: 0 })).toThrow(WanInputError);
  });

  it('refuses weights that do not fit the config, and widths that are not multiples of 8, leaving nothing allocated', () => {
    const backend = new TrackingBackend();
    const missing = new Map(weights);
    missing.delete('decoder.head.2.bias');
    expect(() => WanVaeDeviceWeights.upload({ backend, config: tiny, weights: missing })).toThrow(WanTensorSetError);
    const narrow = { ...tiny, dim: 4 }; // widths 16, 16, 16, 8, 4
    expect(() => WanVaeDeviceWeights.upload({ backend, config: narrow, weights: syntheticWanVaeWeights({ config: narrow, seed: 1 }) })).toThrow(WanConfigError);
    expect(() => WanVaeDeviceWeights.upload({ backend, config: narrow, weights: syntheticWanVaeWeights({ config: narrow, seed: 1 }) })).toThrow(/multiple of 8.*widths 4 are not/);
    expect(backend.live()).toBe(0);
  });
});
