import { FpsAttnError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { ATTENTION_ERROR_CODES, AttentionInputError, AttentionPlanError } from './errors';

describe('attention errors', () => {
  it('name the tensor, the dimension and the rule', () => {
    const e = new AttentionInputError({ tensor: 'k', dimension: 1, actual: '4000', rule: 'expected 4096 tokens' });
    expect(e.message).toBe('attention: k dimension 1 is 4000: expected 4096 tokens');
    expect(e).toMatchObject({ name: 'AttentionInputError', code: 'FPSATTN_ATTENTION_INVALID_INPUT', tensor: 'k', dimension: 1, rule: 'expected 4096 tokens' });
    expect(new AttentionInputError({ tensor: 'v', dimension: null, actual: 'of dtype f32', rule: 'q, k and v are BF16' }).message).toBe('attention: v is of dtype f32: q, k and v are BF16');
    expect(new AttentionInputError({ tensor: 'q', dimension: 0, actual: '0', rule: 'r' }).message).toBe('attention: q dimension 0 is 0: r');
  });

  it('name the plan field and the rule', () => {
    const e = new AttentionPlanError({ field: 'plans[2].mode', actual: "'fp4'", rule: 'expected a mode' });
    expect(e.message).toBe("attention: plans[2].mode is 'fp4': expected a mode");
    expect(e).toMatchObject({ name: 'AttentionPlanError', code: 'FPSATTN_ATTENTION_INVALID_PLAN', field: 'plans[2].mode', rule: 'expected a mode' });
  });

  it('are fpsattn errors with the codes the package exports', () => {
    expect(FpsAttnError.isInstance(new AttentionPlanError({ field: 'f', actual: 'a', rule: 'r' }))).toBe(true);
    expect(ATTENTION_ERROR_CODES).toEqual({ INVALID_INPUT: 'FPSATTN_ATTENTION_INVALID_INPUT', INVALID_PLAN: 'FPSATTN_ATTENTION_INVALID_PLAN' });
  });
});
