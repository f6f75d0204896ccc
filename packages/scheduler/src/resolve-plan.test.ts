import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { parseScheduleConfig } from './parse-schedule-config';
import { schedulePreset } from './presets';
import { resolvePlan } from './resolve-plan';
import type { AttentionPlan } from './types';

const fp8Dense: AttentionPlan = { mode: 'fp8-dense', granularity: { kind: 'tensor' } };

describe('resolvePlan', () => {
  const config = schedulePreset({ name: 'wan-720p' });

  it.each([
    [0, 'warmup', 'dense-bf16'],
    [4, 'warmup', 'dense-bf16'],
    [5, 'early', 'fp8-sparse'],
    [19, 'early', 'fp8-sparse'],
    [20, 'middle', 'fp8-sparse'],
    [40, 'late', 'fp8-sparse'],
    [49, 'late', 'fp8-sparse'],
  ] as const)('step %i is %s (%s)', (step, phase, mode) => {
    const r = resolvePlan({ config, step });
    expect(r.phase).toBe(phase);
    expect(r.plan.mode).toBe(mode);
    expect(r.overrideIndex).toBe(-1);
    if (phase !== 'warmup') expect(r.plan).toBe(config.phases[phase]);
  });

  it('applies per-layer / per-head overrides, the last matching rule winning', () => {
    const c = parseScheduleConfig({
      ...config,
      overrides: [
        { layers: [0, 1], plan: { mode: 'dense-bf16' } },
        { layers: [1], heads: [3], plan: fp8Dense },
        { phases: ['late'], steps: { from: 45, to: 50 }, heads: [5], plan: fp8Dense },
      ],
    });
    expect(resolvePlan({ config: c, step: 10, layer: 0, head: 7 })).toMatchObject({ plan: { mode: 'dense-bf16' }, overrideIndex: 0 });
    expect(resolvePlan({ config: c, step: 10, layer: 1, head: 3 })).toMatchObject({ plan: fp8Dense, overrideIndex: 1 });
    expect(resolvePlan({ config: c, step: 10, layer: 2, head: 3 }).overrideIndex).toBe(-1);
    expect(resolvePlan({ config: c, step: 44, layer: 5, head: 5 }).overrideIndex).toBe(-1);
    expect(resolvePlan({ config: c, step: 45, layer: 5, head: 5 })).toMatchObject({ plan: fp8Dense, overrideIndex: 2 });
  });

  it('ends a step range before its `to` step (half-open), also when it ends before the last step', () => {
    const c = parseScheduleConfig({ ...config, overrides: [{ steps: { from: 10, to: 12 }, plan: fp8Dense }] });
    expect(resolvePlan({ config: c, step: 9 }).overrideIndex).toBe(-1);
    expect(resolvePlan({ config: c, step: 10 }).overrideIndex).toBe(0);
    expect(resolvePlan({ config: c, step: 11 }).overrideIndex).toBe(0);
    expect(resolvePlan({ config: c, step: 12 }).overrideIndex).toBe(-1); // an inclusive end would match here
    expect(resolvePlan({ config: c, step: 12 }).plan).toBe(c.phases.early);
  });

  it('keeps warmup steps dense unless a rule lists the warmup phase', () => {
    const c = parseScheduleConfig({
      ...config,
      overrides: [{ plan: fp8Dense }, { phases: ['warmup'], heads: [0], plan: fp8Dense }],
    });
    expect(resolvePlan({ config: c, step: 0, head: 1 }).plan.mode).toBe('dense-bf16');
    expect(resolvePlan({ config: c, step: 0, head: 0 }).plan).toEqual(fp8Dense);
    expect(resolvePlan({ config: c, step: 5, head: 1 }).plan).toEqual(fp8Dense);
  });

  it.each([
    [{ step: 50 }, 'step'],
    [{ step: -1 }, 'step'],
    [{ step: 0, layer: 30 }, 'layer'],
    [{ step: 0, head: 12 }, 'head'],
    [{ step: 0, head: 0.5 }, 'head'],
  ])('rejects %o naming %s', (options, argument) => {
    expect.assertions(2);
    try {
      resolvePlan({ config, ...options });
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).argument).toBe(argument);
    }
  });
});
