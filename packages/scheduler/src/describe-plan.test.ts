import { describe, expect, it } from 'vitest';
import { describeGranularity, describePlan, describeSparsity } from './describe-plan';
import type { AttentionPlan } from './types';

describe('describePlan', () => {
  it.each<[AttentionPlan, string, string]>([
    [{ mode: 'dense-bf16' }, '-', 'full'],
    [{ mode: 'fp8-dense', granularity: { kind: 'token' } }, 'token', 'full'],
    [{ mode: 'sparse-bf16', sparsity: { tile: [3, 5, 8], window: { kind: 'seed', tokens: [6, 20, 48] } } }, '-', 'seed 6x20x48 tokens, tiles 3x5x8'],
    [
      { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 5, 8] }, sparsity: { tile: [3, 5, 8], window: { kind: 'clamped', tiles: [3, 3, 5] } } },
      'tile 1x5x8',
      'clamped 3x3x5 tiles of 3x5x8',
    ],
  ])('describes %o', (plan, granularity, window) => {
    expect(describePlan(plan)).toEqual({ mode: plan.mode, granularity, window });
  });

  it('names tensor granularity and sparsity on their own', () => {
    expect(describeGranularity({ kind: 'tensor' })).toBe('tensor');
    expect(describeSparsity({ tile: [1, 1, 1], window: { kind: 'clamped', tiles: [1, 2, 3] } })).toBe('clamped 1x2x3 tiles of 1x1x1');
  });
});
