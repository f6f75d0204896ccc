import { describe, expect, it } from 'vitest';
import { WAN_CONFIG_PRESETS, type WanConfig, WAN_PRESET_NAMES, describeWanConfig, validateWanConfig, wanHeadDim, wanPresetName } from './config';
import { WanConfigError } from './errors';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];

describe('WAN_CONFIG_PRESETS', () => {
  // wan21-architecture.md 2, the table, field by field.
  it.each([
    ['wan-1.3b', { dim: 1536, ffnDim: 8960, numHeads: 12, numLayers: 30 }],
    ['wan-14b', { dim: 5120, ffnDim: 13824, numHeads: 40, numLayers: 40 }],
  ] as const)('holds %s as section 2 gives it', (name, sizes) => {
    expect(WAN_CONFIG_PRESETS[name]).toEqual({
      ...sizes,
      freqDim: 256,
      inDim: 16,
      outDim: 16,
      textDim: 4096,
      textLen: 512,
      patchSize: [1, 2, 2],
      eps: 1e-6,
    });
    expect(wanHeadDim(WAN_CONFIG_PRESETS[name])).toBe(128);
  });

  it('holds wan-tiny: head dimension 128 over 2 heads, 2 layers, a 32-wide 16-token text input', () => {
    expect(tiny).toEqual({
      dim: 256,
      ffnDim: 512,
      numHeads: 2,
      numLayers: 2,
      freqDim: 256,
      inDim: 16,
      outDim: 16,
      textDim: 32,
      textLen: 16,
      patchSize: [1, 2, 2],
      eps: 1e-6,
    });
    expect(wanHeadDim(tiny)).toBe(128);
  });

  it('is frozen, patch sizes included, and every preset is valid', () => {
    expect(WAN_PRESET_NAMES).toEqual(['wan-1.3b', 'wan-14b', 'wan-tiny']);
    for (const name of WAN_PRESET_NAMES) {
      const preset = WAN_CONFIG_PRESETS[name];
      expect(Object.isFrozen(preset) && Object.isFrozen(preset.patchSize)).toBe(true);
      expect(validateWanConfig({ config: preset })).toBe(preset);
      expect(wanPresetName({ ...preset, patchSize: [1, 2, 2] })).toBe(name);
    }
  });
});

describe('describeWanConfig', () => {
  it('names a preset by its name and any other config by its width and depth', () => {
    expect(describeWanConfig({ ...WAN_CONFIG_PRESETS['wan-14b'] })).toBe('wan-14b');
    expect(describeWanConfig({ ...tiny, numLayers: 3 })).toBe('the config (dim 256, 3 layers)');
    expect(describeWanConfig({ ...tiny, patchSize: [1, 1, 1] })).toBe('the config (dim 256, 2 layers)');
  });
});

describe('validateWanConfig', () => {
  it.each<[Partial<WanConfig>, string]>([
    [{ dim: 0 }, 'config: dim is 0: expected an integer >= 1'],
    [{ ffnDim: 2.5 }, 'config: ffnDim is 2.5: expected an integer >= 1'],
    [{ numHeads: 3 }, 'config: numHeads is 3: dim 256 must be a multiple of numHeads'],
    [{ numHeads: 256 }, 'config: numHeads is 256: the head dimension 256 / 256 = 1 must be even (RoPE rotates pairs)'],
    [{ freqDim: 255 }, 'config: freqDim is 255: expected an even number (the sinusoid is cos of half the frequencies, then sin)'],
    [{ patchSize: [1, 2] as unknown as WanConfig['patchSize'] }, 'config: patchSize is [1,2]: expected three integers >= 1 (t, h, w)'],
    [{ eps: 0 }, 'config: eps is 0: expected a finite number > 0'],
    [{ textLen: Number.NaN }, 'config: textLen is NaN: expected an integer >= 1'],
  ])('rejects %j with a message naming the field, value and rule', (change, message) => {
    const error = (() => {
      try {
        validateWanConfig({ config: { ...tiny, ...change } });
      } catch (e) {
        return e;
      }
      return null;
    })();
    expect(error).toBeInstanceOf(WanConfigError);
    expect((error as WanConfigError).message).toBe(message);
    expect((error as WanConfigError).code).toBe('FPSATTN_WAN_MODEL_INVALID_CONFIG');
  });

  it('names the source and spells fields as the source does', () => {
    expect(() => validateWanConfig({ config: { ...tiny, numHeads: 3 }, source: 'x/config.json', fieldNames: { dim: 'dim', numHeads: 'num_heads' } })).toThrow(
      'x/config.json: num_heads is 3: dim 256 must be a multiple of num_heads',
    );
  });
});
