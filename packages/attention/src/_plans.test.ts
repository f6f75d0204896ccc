import type { AttentionPlan } from '@fpsattn/scheduler';
import { describe, expect, it } from 'vitest';
import { resolvePlans } from './_plans';
import { AttentionPlanError } from './errors';

const sparse = (tile: [number, number, number], tiles: [number, number, number] = [1, 3, 3]): AttentionPlan => ({
  mode: 'fp8-sparse',
  granularity: { kind: 'token' },
  sparsity: { tile, window: { kind: 'clamped', tiles } },
});

function planError(f: () => unknown): AttentionPlanError {
  try {
    f();
  } catch (e) {
    if (e instanceof AttentionPlanError) return e;
    throw e;
  }
  throw new Error('expected an AttentionPlanError');
}

describe('resolvePlans', () => {
  it('reads one plan for every head', () => {
    const r = resolvePlans({ plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 2, 3] } } });
    expect(r).toMatchObject({ perHead: false, dtype: 'e4m3', sparse: false, attentionTile: null, windows: null, granularity: { kind: 'tile', tile: [1, 2, 3] } });
    expect(resolvePlans({ plan: { mode: 'dense-bf16' } })).toMatchObject({ dtype: 'bf16', granularity: null });
  });

  it('gives dense heads of a sparse call the full window, and keys the geometry by what shapes it', () => {
    const r = resolvePlans({ plans: [sparse([2, 3, 4]), { mode: 'fp8-dense', granularity: { kind: 'token' } }] });
    expect(r).toMatchObject({ perHead: true, sparse: true, attentionTile: [2, 3, 4], windows: [{ kind: 'clamped', tiles: [1, 3, 3] }, { kind: 'full' }] });
    expect(resolvePlans({ plans: [sparse([2, 3, 4]), sparse([2, 3, 4], [1, 1, 1])] }).key).not.toBe(r.key);
    expect(resolvePlans({ plan: sparse([2, 3, 4]) }).key).toBe(resolvePlans({ plan: sparse([2, 3, 4]) }).key);
    const bf16: AttentionPlan = { mode: 'sparse-bf16', sparsity: { tile: [2, 3, 4], window: { kind: 'clamped', tiles: [1, 3, 3] } } };
    expect(resolvePlans({ plan: bf16 }).key).not.toBe(resolvePlans({ plan: sparse([2, 3, 4]) }).key);
  });

  it.each([
    ['neither plan nor plans', {}, 'plan', /^attention: plan is missing: pass either plan \(one plan for every head\) or plans \(one plan per head\)$/],
    ['both', { plan: { mode: 'dense-bf16' }, plans: [{ mode: 'dense-bf16' }] }, 'plan', /^attention: plan is given together with plans: /],
    ['no plans', { plans: [] }, 'plans', /at least one/],
    ['an unknown mode', { plan: { mode: 'fp4' } }, 'plan.mode', /'dense-bf16', 'sparse-bf16'/],
    ['BF16 and FP8 heads together', { plans: [{ mode: 'dense-bf16' }, { mode: 'fp8-dense', granularity: { kind: 'token' } }] }, 'plans[1].mode', /plans\[1\].mode is 'fp8-dense': one call runs on one operand type.*plans\[0\].mode is a BF16 mode/],
    ['FP8 and BF16 heads together', { plans: [{ mode: 'fp8-dense', granularity: { kind: 'token' } }, { mode: 'sparse-bf16', sparsity: { tile: [1, 1, 1], window: { kind: 'full' } } }] }, 'plans[1].mode', /plans\[0\].mode is an FP8 mode/],
    ['a plan that is not an object', { plans: [null] }, 'plans[0].mode', /is undefined: expected one of/],
    ['a sparse plan without sparsity', { plan: { mode: 'sparse-bf16' } }, 'plan.sparsity.tile', /is undefined: a tile is \[t, h, w\]/],
    ['a granularity of another kind', { plan: { mode: 'fp8-dense', granularity: { kind: 'channel' } } }, 'plan.granularity.kind', /is "channel": expected 'tensor', 'token' or 'tile'$/],
    ['a null granularity', { plan: { mode: 'fp8-dense', granularity: null } }, 'plan.granularity.kind', /is undefined: expected/],
    ['a mode that is an object', { plan: { mode: { a: 1 } } }, 'plan.mode', /^attention: plan.mode is \{"a":1\}: /],
    ['a mode that JSON cannot show', { plan: { mode: 10n } }, 'plan.mode', /^attention: plan.mode is 10: /],
    ['a missing granularity', { plan: { mode: 'fp8-dense' } }, 'plan.granularity.kind', /is undefined: expected/],
    ['two attention tiles', { plans: [sparse([2, 3, 4]), sparse([2, 3, 8])] }, 'plans[1].sparsity.tile', /tile is \[2, 3, 8\]: every sparse head .*same attention tile.*\[2, 3, 4\]/],
    ['two granularities', { plans: [sparse([2, 3, 4]), { mode: 'fp8-dense', granularity: { kind: 'tensor' } }] }, 'plans[1].granularity', /granularity is tensor: .*quantizes Q and K alike.*plans\[0\] uses token/],
    ['two quantization tiles', { plans: [{ mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 2, 3] } }, { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 2, 4] } }] }, 'plans[1].granularity', /is tile:1x2x4: .*uses tile:1x2x3/],
    ['an old granularity name', { plan: { mode: 'fp8-dense', granularity: { kind: 'per-token' } } }, 'plan.granularity.kind', /is "per-token": the granularity 'per-token' is now called 'token'/],
    ['the other old granularity name', { plan: { mode: 'fp8-dense', granularity: { kind: 'per-tensor' } } }, 'plan.granularity.kind', /now called 'tensor'/],
    ['a bad quantization tile', { plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [0, 1, 1] } } }, 'plan.granularity.tile', /three positive integers/],
    ['a bad window', { plan: { mode: 'sparse-bf16', sparsity: { tile: [1, 1, 1], window: { kind: 'box' } } } }, 'plan.sparsity.window', /not a window/],
  ])('rejects %s, naming the field', (_, options, field, message) => {
    const error = planError(() => resolvePlans(options as never));
    expect(error.field).toBe(field);
    expect(error.code).toBe('FPSATTN_ATTENTION_INVALID_PLAN');
    expect(error.message).toMatch(message);
  });
});
