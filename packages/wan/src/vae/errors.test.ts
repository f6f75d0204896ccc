import { describe, expect, it } from 'vitest';
import { WanConfigError, WanInputError, WanTensorSetError, WanTensorShapeError } from '../model/errors';
import { checkWanVaeTensorShapes, checkWanVaeWeights } from './check-weights';
import { WAN_VAE_CONFIG_PRESETS, type WanVaeConfig } from './config';
import { wanVaeDecodeCpu } from './decode';
import { wanVaeTensorSpecs } from './keys';
import { syntheticWanVaeLatents, syntheticWanVaeWeights } from './synthetic-weights';

const tiny = WAN_VAE_CONFIG_PRESETS['wan-vae-tiny'];
const weights = syntheticWanVaeWeights({ config: tiny, seed: 1 });
const latentShape = [16, 1, 1, 1];
const latents = syntheticWanVaeLatents({ latentShape, seed: 1 });
const decode = (overrides: Record<string, unknown>) => () => wanVaeDecodeCpu({ weights, config: tiny, latents, latentShape, ...overrides } as never);

describe('wanVaeDecodeCpu input errors', () => {
  it('rejects bad latent shapes and data with WanInputError', () => {
    expect(decode({ latentShape: [16, 1, 1] })).toThrow(WanInputError);
    expect(decode({ latentShape: [16, 0, 1, 1] })).toThrow(/latentShape is \[16,0,1,1\]: expected four integers >= 1/);
    expect(decode({ latentShape: [8, 1, 1, 1], latents: new Float32Array(8) })).toThrow(/latentShape\[0\] is 8: expected 16 latent channels/);
    expect(decode({ latents: new Float32Array(15) })).toThrow(/wanVaeDecodeCpu: latents is a Float32Array of 15 values: expected 16 values/);
    expect(decode({ latents: Array.from(latents) })).toThrow(/expected a Float32Array/);
    const nan = latents.slice();
    nan[3] = Number.NaN;
    expect(decode({ latents: nan })).toThrow(/latents\[3\] is NaN: expected finite values/);
    expect(decode({ weights: {} })).toThrow(/weights is \{\}: expected a Map/);
    expect(decode({ onFrame: 3 })).toThrow(/onFrame is 3: expected a function/);
  });

  it('rejects bad configs with WanConfigError', () => {
    const bad = (config: Partial<WanVaeConfig>) => decode({ config: { ...tiny, ...config } });
    expect(bad({ zDim: 4 })).toThrow(WanConfigError);
    expect(bad({ zDim: 4 })).toThrow(/zDim is 4: expected 16, the channels of the latent statistics/);
    expect(bad({ dimMult: [1, 2, 4, 4, 4] })).toThrow(/dimMult .*expected 2 to 4 integers/);
    expect(bad({ temperalDownsample: [true] })).toThrow(/temperalDownsample is \[true\]: expected 3 booleans/);
    expect(bad({ dim: 0 })).toThrow(/dim is 0: expected an integer >= 1/);
    expect(bad({ dim: 3, dimMult: [1, 1], temperalDownsample: [false] })).toThrow(/decoder stage 0 upsamples 3 channels/);
  });
});

describe('weight checks', () => {
  it('lists missing and unexpected tensors (WanTensorSetError); the encoder half of a full checkpoint is ignored', () => {
    const partial = new Map(weights);
    partial.delete('decoder.head.2.bias');
    partial.delete('conv2.weight');
    partial.set('decoder.upsamples.99.residual.0.gamma', new Float32Array(1));
    partial.set('encoder.conv1.weight', new Float32Array(1));
    partial.set('conv1.bias', new Float32Array(1));
    let error: unknown;
    try {
      checkWanVaeWeights({ config: tiny, weights: partial, source: 'vae.pth' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WanTensorSetError);
    expect((error as WanTensorSetError).missing).toEqual(['conv2.weight', 'decoder.head.2.bias']);
    expect((error as WanTensorSetError).unexpected).toEqual(['decoder.upsamples.99.residual.0.gamma']);
    expect((error as Error).message).toBe(
      'vae.pth: the tensors do not match the Wan-VAE decoder (wan-vae-tiny): 2 missing (conv2.weight, decoder.head.2.bias); 1 unexpected (decoder.upsamples.99.residual.0.gamma)',
    );
    const withEncoder = new Map(weights);
    withEncoder.set('encoder.conv1.weight', new Float32Array(1));
    expect(() => checkWanVaeWeights({ config: tiny, weights: withEncoder })).not.toThrow();
    expect(decode({ weights: partial })).toThrow(WanTensorSetError);
  });

  it('reports wrong element counts (WanTensorShapeError)', () => {
    const wrong = new Map(weights);
    wrong.set('decoder.conv1.weight', new Float32Array(10));
    wrong.set('decoder.head.2.bias', new Float64Array(3) as never);
    expect(decode({ weights: wrong })).toThrow(WanTensorShapeError);
    expect(decode({ weights: wrong })).toThrow(
      'weights: tensor "decoder.conv1.weight" has shape [10], expected [32, 16, 3, 3, 3] (a Float32Array of 13824 values for the Wan-VAE decoder (wan-vae-tiny)); 1 more tensor of the wrong shape (decoder.head.2.bias)',
    );
  });

  it('checkWanVaeTensorShapes checks declared shapes exactly', () => {
    const shapes = new Map(wanVaeTensorSpecs(tiny).map((s) => [s.name, s.shape]));
    expect(() => checkWanVaeTensorShapes({ config: tiny, shapes })).not.toThrow();
    shapes.set('decoder.middle.1.norm.gamma', [32, 1, 1, 1]);
    expect(() => checkWanVaeTensorShapes({ config: tiny, shapes, source: 'Wan2.1_VAE.pth' })).toThrow(
      'Wan2.1_VAE.pth: tensor "decoder.middle.1.norm.gamma" has shape [32, 1, 1, 1], expected [32, 1, 1] (the Wan-VAE decoder (wan-vae-tiny))',
    );
    const full = new Map(wanVaeTensorSpecs(tiny).map((s) => [s.name, s.shape]));
    expect(() => checkWanVaeTensorShapes({ config: WAN_VAE_CONFIG_PRESETS['wan-vae'], shapes: full })).toThrow(WanTensorShapeError);
  });
});
