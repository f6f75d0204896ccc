import { describe, expect, it } from 'vitest';
import { loadVaeGolden } from './_fixture.test-helpers';
import { WAN_VAE_CONFIG_PRESETS } from './config';
import { syntheticWanVaeLatents, syntheticWanVaeWeights } from './synthetic-weights';

describe('syntheticWanVaeWeights / syntheticWanVaeLatents', () => {
  it('reproduce the oracle generator\'s values exactly', () => {
    const golden = loadVaeGolden();
    const weights = syntheticWanVaeWeights({ config: WAN_VAE_CONFIG_PRESETS['wan-vae-tiny'], seed: golden.seed });
    const latents = syntheticWanVaeLatents({ latentShape: golden.latentShape, seed: golden.seed });
    for (const [name, values] of Object.entries(golden.generatorSamples)) {
      const data = name === 'vae.latents' ? latents : weights.get(name);
      expect(Array.from((data as Float32Array).subarray(0, values.length)), name).toEqual(values);
    }
  });

  it('gammas near 1, biases small, weights scaled by the fan-in', () => {
    const weights = syntheticWanVaeWeights({ config: WAN_VAE_CONFIG_PRESETS['wan-vae-tiny'], seed: 3 });
    const gamma = weights.get('decoder.head.0.gamma') as Float32Array;
    expect(gamma.every((v) => v >= 0.9 && v < 1.1)).toBe(true);
    expect((weights.get('decoder.conv1.bias') as Float32Array).every((v) => Math.abs(v) <= 0.02)).toBe(true);
    const bound = 1 / Math.sqrt(16 * 27);
    expect((weights.get('decoder.conv1.weight') as Float32Array).every((v) => Math.abs(v) <= bound)).toBe(true);
  });
});
