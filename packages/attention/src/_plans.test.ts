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
    ['neither plan nor plans', {}, 'plan', /pass either plan/],
    ['both', { plan: { mode: 'dense-bf16' }, plans: [{ mode: 'dense-bf16' }] }, 'plan', /pass either plan/],
    ['no plans', { plans: [] }, 'plans', /at least one/],
    ['an unknown mode', { plan: { mode: 'fp4' } }, 'plan.mode', /'dense-bf16', 'sparse-bf16'/],
    ['BF16 and FP8 heads together', { plans: [{ mode: 'dense-bf16' }, { mode: 'fp8-dense', granularity: { kind: 'token' } }] }, 'plans[1].mode', /one operand type/],
    ['two attention tiles', { plans: [sparse([2, 3, 4]), sparse([2, 3, 8])] }, 'plans[1].sparsity.tile', /same attention tile.*\[2, 3, 4\]/],
    ['two granularities', { plans: [sparse([2, 3, 4]), { mode: 'fp8-dense', granularity: { kind: 'tensor' } }] }, 'plans[1].granularity', /quantizes Q and K alike.*token/],
    ['an old granularity name', { plan: { mode: 'fp8-dense', granularity: { kind: 'per-token' } } }, 'plan.granularity.kind', /now called 'token'/],
    ['a bad quantization tile', { plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [0, 1, 1] } } }, 'plan.granularity.tile', /three positive integers/],
    ['a bad window', { plan: { mode: 'sparse-bf16', sparsity: { tile: [1, 1, 1], window: { kind: 'box' } } } }, 'plan.sparsity.window', /not a window/],
  ])('rejects %s, naming the field', (_, options, field, message) => {
    const error = planError(() => resolvePlans(options as never));
    expect(error.field).toBe(field);
    expect(error.code).toBe('FPSATTN_ATTENTION_INVALID_PLAN');
    expect(error.message).toMatch(message);
  });
});
