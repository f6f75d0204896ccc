import { beforeAll, describe, expect, it } from 'vitest';
import { compareGolden, type GoldenTensor, loadVaeGolden, type VaeGolden } from './_fixture.test-helpers';
import { WAN_VAE_CONFIG_PRESETS } from './config';
import { type WanVaeCheckpointEvent, type WanVaeDecodeResult, type WanVaeFrameEvent, wanVaeDecodeCpu } from './decode';
import { syntheticWanVaeLatents, syntheticWanVaeWeights } from './synthetic-weights';

/** fixtures/vae-golden.json: the float64 PyTorch oracle (oracle/vae_decoder.py) on the same synthetic weights and latents. */
const TOLERANCE = 1e-5;
const tiny = WAN_VAE_CONFIG_PRESETS['wan-vae-tiny'];

describe('wanVaeDecodeCpu against the PyTorch oracle (wan-vae-tiny, latents [16, 3, 4, 6])', () => {
  let golden: VaeGolden;
  let result: WanVaeDecodeResult;
  const checkpoints: WanVaeCheckpointEvent[] = [];
  const frameEvents: WanVaeFrameEvent[] = [];

  beforeAll(() => {
    golden = loadVaeGolden();
    expect(golden.config).toBe('wan-vae-tiny');
    const weights = syntheticWanVaeWeights({ config: tiny, seed: golden.seed });
    const latents = syntheticWanVaeLatents({ latentShape: golden.latentShape, seed: golden.seed });
    result = wanVaeDecodeCpu({
      weights,
      config: tiny,
      latents,
      latentShape: golden.latentShape,
      onFrame: (e) => frameEvents.push(e),
      onCheckpoint: (e) => checkpoints.push(e),
    });
  });

  const expectClose = (label: string, data: Float32Array, shape: readonly number[], want: GoldenTensor): void => {
    expect(shape, label).toEqual(want.shape);
    const diff = compareGolden(data, want);
    expect(diff.relL2, `${label} rel L2`).toBeLessThan(TOLERANCE);
    expect(diff.sumError, `${label} sum`).toBeLessThan(TOLERANCE);
    expect(diff.sumSquaresError, `${label} sum of squares`).toBeLessThan(TOLERANCE);
  };

  it('matches conv2 (after the de-normalisation)', () => {
    const event = checkpoints.find((e) => e.name === 'conv2');
    expect(event?.chunk).toBeNull();
    expectClose('conv2', event?.data as Float32Array, event?.shape ?? [], golden.conv2);
  });

  it('matches every checkpoint of every chunk (conv1, middle, each upsampling stage, head)', () => {
    expect(golden.chunks).toHaveLength(3);
    for (const [chunk, wanted] of golden.chunks.entries()) {
      const names = Object.keys(wanted);
      expect(names).toEqual(['conv1', 'middle', 'upsample0', 'upsample1', 'upsample2', 'upsample3', 'head']);
      const got = checkpoints.filter((e) => e.chunk === chunk);
      expect(got.map((e) => e.name)).toEqual(names);
      for (const event of got) expectClose(`chunk ${chunk} ${event.name}`, event.data, event.shape, wanted[event.name] as GoldenTensor);
    }
  });

  it('matches the clamped output [3, 9, 32, 48]', () => {
    expect(result.shape).toEqual([3, 9, 32, 48]);
    expectClose('output', result.frames, result.shape, golden.output);
    expect(result.frames.every((v) => v >= -1 && v <= 1)).toBe(true);
    // The oracle's own float32 run is this far from its float64 one: the bar is not looser than PyTorch's float32.
    expect(golden.float32RelL2).toBeLessThan(TOLERANCE);
  });

  it('frame counts per chunk: 1, then 4 per latent frame (T and the time caches)', () => {
    const heads = checkpoints.filter((e) => e.name === 'head').map((e) => e.shape[1]);
    expect(heads).toEqual([1, 4, 4]);
    const stage0 = checkpoints.filter((e) => e.name === 'upsample0').map((e) => e.shape);
    expect(stage0).toEqual([[16, 1, 8, 12], [16, 2, 8, 12], [16, 2, 8, 12]]);
  });

  it('onFrame gets each latent frame\'s frames in order, equal to the result', () => {
    expect(frameEvents.map((e) => [e.latentFrame, e.firstFrame, e.frameCount])).toEqual([[0, 0, 1], [1, 1, 4], [2, 5, 4]]);
    const [, t, h, w] = result.shape;
    for (const e of frameEvents) {
      expect([e.latentFrames, e.totalFrames, e.height, e.width]).toEqual([3, 9, 32, 48]);
      for (let c = 0; c < 3; c++) {
        for (let k = 0; k < e.frameCount; k++) {
          const want = result.frames.subarray((c * t + e.firstFrame + k) * h * w, (c * t + e.firstFrame + k + 1) * h * w);
          const got = e.pixels.subarray((c * e.frameCount + k) * h * w, (c * e.frameCount + k + 1) * h * w);
          expect(got).toEqual(want);
        }
      }
    }
  });

  it('is causal: the first latent frame alone decodes to the first frame, the first two to the first five', () => {
    const weights = syntheticWanVaeWeights({ config: tiny, seed: golden.seed });
    const all = syntheticWanVaeLatents({ latentShape: golden.latentShape, seed: golden.seed });
    const [z, f, h, w] = golden.latentShape as [number, number, number, number];
    for (const frames of [1, 2]) {
      const latents = new Float32Array(z * frames * h * w);
      for (let c = 0; c < z; c++) latents.set(all.subarray(c * f * h * w, (c * f + frames) * h * w), c * frames * h * w);
      const part = wanVaeDecodeCpu({ weights, config: tiny, latents, latentShape: [z, frames, h, w] });
      const [, t, oh, ow] = part.shape;
      expect(t).toBe(1 + 4 * (frames - 1));
      for (let c = 0; c < 3; c++) {
        const got = part.frames.subarray(c * t * oh * ow, (c + 1) * t * oh * ow);
        const want = result.frames.subarray(c * 9 * oh * ow, (c * 9 + t) * oh * ow);
        expect(got).toEqual(want);
      }
    }
  });
});

describe('wanVaeDecodeCpu frame count', () => {
  it('decodes 21 latent frames to 81 frames (wan-vae-tiny, 1x2 latent pixels -> 8x16)', () => {
    const latentShape = [16, 21, 1, 2];
    const weights = syntheticWanVaeWeights({ config: tiny, seed: 5 });
    const latents = syntheticWanVaeLatents({ latentShape, seed: 5 });
    const counts: number[] = [];
    const result = wanVaeDecodeCpu({ weights, config: tiny, latents, latentShape, onFrame: (e) => counts.push(e.frameCount) });
    expect(result.shape).toEqual([3, 81, 8, 16]);
    expect(counts).toEqual([1, ...Array.from({ length: 20 }, () => 4)]);
    expect(result.frames.every((v) => Number.isFinite(v) && v >= -1 && v <= 1)).toBe(true);
  });
});
