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
    ] as const) {
      expect(typeof wan[name], name).toBe('function');
    }
    expect(Object.keys(wan.WAN_CONFIG_PRESETS)).toEqual(['wan-1.3b', 'wan-14b', 'wan-tiny']);
    expect(Object.values(wan.WAN_MODEL_ERROR_CODES).every((code) => code.startsWith('FPSATTN_WAN_'))).toBe(true);
  });
});
