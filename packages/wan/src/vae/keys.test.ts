import { describe, expect, it } from 'vitest';
import { shapeSize } from '../model/_shape-size';
import { loadVaeGolden } from './_fixture.test-helpers';
import { WAN_VAE_CONFIG_PRESETS } from './config';
import { wanVaeTensorSpecs } from './keys';
import { wanVaeDecoderLayout, wanVaeOutputShape } from './layout';

const full = WAN_VAE_CONFIG_PRESETS['wan-vae'];
const tiny = WAN_VAE_CONFIG_PRESETS['wan-vae-tiny'];

describe('wanVaeTensorSpecs', () => {
  it('lists the oracle module\'s state dict (names, shapes, order) for wan-vae-tiny', () => {
    const golden = loadVaeGolden();
    expect(wanVaeTensorSpecs(tiny).map((s) => [s.name, [...s.shape]])).toEqual(golden.keys);
  });

  it('wan-vae: 108 tensors, 73,295,603 parameters (wan21-architecture.md 6.1), the shapes quoted there', () => {
    const specs = wanVaeTensorSpecs(full);
    expect(specs).toHaveLength(108);
    expect(specs.reduce((n, s) => n + shapeSize(s.shape), 0)).toBe(73_295_603);
    const shapes = new Map(specs.map((s) => [s.name, s.shape]));
    expect(shapes.get('conv2.weight')).toEqual([16, 16, 1, 1, 1]);
    expect(shapes.get('decoder.conv1.weight')).toEqual([384, 16, 3, 3, 3]);
    expect(shapes.get('decoder.middle.0.residual.0.gamma')).toEqual([384, 1, 1, 1]);
    expect(shapes.get('decoder.middle.0.residual.2.weight')).toEqual([384, 384, 3, 3, 3]);
    expect(shapes.get('decoder.middle.1.norm.gamma')).toEqual([384, 1, 1]);
    expect(shapes.get('decoder.middle.1.to_qkv.weight')).toEqual([1152, 384, 1, 1]);
    expect(shapes.get('decoder.middle.1.proj.weight')).toEqual([384, 384, 1, 1]);
    expect(shapes.get('decoder.upsamples.3.resample.1.weight')).toEqual([192, 384, 3, 3]);
    expect(shapes.get('decoder.upsamples.3.time_conv.weight')).toEqual([768, 384, 3, 1, 1]);
    expect(shapes.get('decoder.upsamples.4.shortcut.weight')).toEqual([384, 192, 1, 1, 1]);
    expect(shapes.get('decoder.upsamples.11.resample.1.weight')).toEqual([96, 192, 3, 3]);
    expect(shapes.has('decoder.upsamples.11.time_conv.weight')).toBe(false);
    expect(shapes.get('decoder.head.0.gamma')).toEqual([96, 1, 1, 1]);
    expect(shapes.get('decoder.head.2.weight')).toEqual([3, 96, 3, 3, 3]);
  });
});

describe('wanVaeDecoderLayout and wanVaeOutputShape', () => {
  it('wan-vae: widths 384, 384, 384, 192, 96; upsample3d, upsample3d, upsample2d; x8 in space, x4 in time', () => {
    const layout = wanVaeDecoderLayout(full);
    expect(layout.dims).toEqual([384, 384, 384, 192, 96]);
    expect(layout.stages.map((s) => s.resample?.mode ?? null)).toEqual(['upsample3d', 'upsample3d', 'upsample2d', null]);
    expect(layout.stages.map((s) => s.residuals.map((r) => [r.inDim, r.outDim]))).toEqual([
      [[384, 384], [384, 384], [384, 384]],
      [[192, 384], [384, 384], [384, 384]],
      [[192, 192], [192, 192], [192, 192]],
      [[96, 96], [96, 96], [96, 96]],
    ]);
    expect([layout.spatialScale, layout.temporalScale, layout.headDim]).toEqual([8, 4, 96]);
  });

  it('21 latent frames -> 81 frames at 8x the latent size (480p and 720p), 1 -> 1', () => {
    expect(wanVaeOutputShape({ config: full, latentShape: [16, 21, 60, 104] })).toEqual([3, 81, 480, 832]);
    expect(wanVaeOutputShape({ config: full, latentShape: [16, 21, 90, 160] })).toEqual([3, 81, 720, 1280]);
    expect(wanVaeOutputShape({ config: tiny, latentShape: [16, 21, 1, 2] })).toEqual([3, 81, 8, 16]);
    expect(wanVaeOutputShape({ config: tiny, latentShape: [16, 1, 4, 6] })).toEqual([3, 1, 32, 48]);
    expect(wanVaeOutputShape({ config: tiny, latentShape: [16, 2, 4, 6] })).toEqual([3, 5, 32, 48]);
  });

  it('other structures follow the reference rule: no temporal upsampling gives one frame per latent frame', () => {
    const config = { ...tiny, temperalDownsample: [false, false, false] };
    expect(wanVaeOutputShape({ config, latentShape: [16, 5, 2, 2] })).toEqual([3, 5, 16, 16]);
    const three = { dim: 8, zDim: 16, dimMult: [1, 2, 2], numResBlocks: 1, temperalDownsample: [false, true] };
    const layout = wanVaeDecoderLayout(three);
    expect(layout.dims).toEqual([16, 16, 16, 8]);
    expect([layout.spatialScale, layout.temporalScale]).toEqual([4, 2]);
  });
});
