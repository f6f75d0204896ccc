// The text stage's host-memory estimate, which decides whether umT5 may be loaded on the CPU.
import { UMT5_CONFIG_PRESETS } from '@fpsattn/wan';
import { describe, expect, it } from 'vitest';
import { encoderHostBytes } from '../../src/text/encode-prompts';

describe('encoderHostBytes', () => {
  it("is umT5-XXL's 5,680,910,336 parameters (wan21-architecture.md 6.2) as float32", () => {
    expect(encoderHostBytes(UMT5_CONFIG_PRESETS['umt5-xxl'])).toBe(5_680_910_336 * 4);
  });
});
