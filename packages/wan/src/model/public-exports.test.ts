import { describe, expect, it } from 'vitest';
import * as wan from '../index';

describe('@fpsattn/wan model exports', () => {
  it('exposes the DiT API from the package root', () => {
    for (const name of [
      'wanForwardCpu',
      'wanForwardCpuCfg',
      'wanBlockCpu',
      'loadWanWeights',
      'readWanConfig',
      'parseWanConfigJson',
      'checkWanConfig',
      'wanConfigToJson',
      'wanTensorSpecs',
      'detectWanNaming',
      'wanNameToOriginal',
      'wanNameFromOriginal',
      'checkWanTensors',
      'checkWanWeights',
      'syntheticWanWeights',
      'syntheticWanInputs',
      'writeSyntheticWanCheckpoint',
      'ropeTable',
      'timestepSinusoid',
      'patchify',
      'layerPlansAt',
      'wanDeviceVelocityModel',
      'generateLatents',
      'latentShapeFor',
      'defaultSamplerLoop',
      'readTextEmbeddings',
      'writeTextEmbeddings',
      'openPth',
      'wanVaeDecodeCpu',
      'syntheticWanVaeWeights',
      'umt5EncodeCpu',
      'padContext',
      'syntheticUmt5Weights',
      'loadWanVaeWeights',
      'loadUmt5Weights',
      'writeVideoOutputs',
      'writeMp4',
      'encodePng',
      'ffmpegStatus',
    ] as const) {
      expect(typeof wan[name], name).toBe('function');
    }
    expect(wan.SAMPLER_LOOPS).toEqual(['host', 'device']);
    expect(Object.keys(wan.WAN_CONFIG_PRESETS)).toEqual(['wan-1.3b', 'wan-14b', 'wan-tiny']);
    expect(typeof wan.WanDeviceDit).toBe('function');
    expect(typeof wan.WanDeviceWeights.fromCheckpoint).toBe('function');
    expect(Object.keys(wan.WAN_VAE_CONFIG_PRESETS)).toEqual(['wan-vae', 'wan-vae-tiny']);
    expect(Object.keys(wan.UMT5_CONFIG_PRESETS)).toEqual(['umt5-xxl', 'umt5-tiny']);
    expect(Object.values(wan.WAN_PTH_ERROR_CODES).every((code) => code.startsWith('FPSATTN_WAN_PTH_'))).toBe(true);
    expect(Object.values(wan.WAN_MODEL_ERROR_CODES).every((code) => code.startsWith('FPSATTN_WAN_'))).toBe(true);
  });
});
