import { FpsAttnError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssue, SCHEDULER_ERROR_CODES } from './config-error';

describe('ConfigError', () => {
  const issues = [
    { path: 'alpha1', value: 1.5, message: 'must be a fraction of the steps', allowed: 'a number in [0, 1]' },
    { path: 'phases.early.mode', value: 'fp9', message: 'unknown attention mode', allowed: "'dense-bf16'" },
  ];

  it('carries the code, every issue, and lists them all in its message', () => {
    const error = new ConfigError({ issues });
    expect(error).toBeInstanceOf(FpsAttnError);
    expect(FpsAttnError.isInstance(error)).toBe(true);
    expect(error.code).toBe('FPSATTN_CONFIG_INVALID');
    expect(error.name).toBe('ConfigError');
    expect(error.issues).toEqual(issues);
    expect(error.message).toContain('(2 problems)');
    expect(error.message).toContain('alpha1 = 1.5: must be a fraction of the steps (allowed: a number in [0, 1])');
    expect(error.message).toContain('phases.early.mode = "fp9": unknown attention mode');
  });

  it('lists its code in SCHEDULER_ERROR_CODES', () => {
    expect(SCHEDULER_ERROR_CODES).toEqual({ CONFIG_INVALID: 'FPSATTN_CONFIG_INVALID' });
    expect(Object.isFrozen(SCHEDULER_ERROR_CODES)).toBe(true);
    expect(new ConfigError({ issues }).code).toBe(SCHEDULER_ERROR_CODES.CONFIG_INVALID);
  });

  it('formats the root path and undefined values', () => {
    expect(formatConfigIssue({ path: '', value: undefined, message: 'm', allowed: 'a' })).toBe('(root) = undefined: m (allowed: a)');
  });

  it('says "1 problem" for one issue and names its subject', () => {
    expect(new ConfigError({ issues: issues.slice(0, 1), subject: 'override table' }).message).toMatch(/^Invalid override table \(1 problem\):/);
  });
});
