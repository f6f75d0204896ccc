import { InvalidArgumentError } from '@fpsattn/fp8';
import { stepPhase } from './phase-boundaries';
import type { AttentionPlan, OverrideRule, PhaseName, ScheduleConfig } from './types';

/** The plan of one attention call: step, layer, head, the phase the step is in and the rule that set it (if any). */
export interface ResolvedPlan {
  readonly step: number;
  readonly layer: number;
  readonly head: number;
  readonly phase: PhaseName;
  readonly plan: AttentionPlan;
  /** Index into `config.overrides` of the rule that replaced the phase plan, or -1. */
  readonly overrideIndex: number;
}

const DENSE: AttentionPlan = Object.freeze({ mode: 'dense-bf16' });

function checkIndex(argument: string, value: number, count: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= count) {
    throw new InvalidArgumentError({ argument, value, message: `expected an integer in [0, ${count}), got ${value}` });
  }
}

function matches(rule: OverrideRule, step: number, layer: number, head: number, phase: PhaseName): boolean {
  if (rule.phases ? !rule.phases.includes(phase) : phase === 'warmup') return false;
  if (rule.steps && (step < rule.steps.from || step >= rule.steps.to)) return false;
  if (rule.layers && !rule.layers.includes(layer)) return false;
  if (rule.heads && !rule.heads.includes(head)) return false;
  return true;
}

/**
 * Resolves the plan for step `step` (0-based, 0 = first and noisiest), layer and head (default 0): the phase plan
 * (dense BF16 in warmup), replaced by the **last** matching override rule.
 */
export function resolvePlan(options: { config: ScheduleConfig; step: number; layer?: number; head?: number }): ResolvedPlan {
  const { config, step } = options;
  const layer = options.layer ?? 0;
  const head = options.head ?? 0;
  checkIndex('step', step, config.steps);
  checkIndex('layer', layer, config.model.layers);
  checkIndex('head', head, config.model.heads);
  const phase = stepPhase({ step, steps: config.steps, alpha1: config.alpha1, alpha2: config.alpha2, denseSteps: config.denseSteps });
  let plan = phase === 'warmup' ? DENSE : config.phases[phase];
  let overrideIndex = -1;
  config.overrides.forEach((rule, i) => {
    if (matches(rule, step, layer, head, phase)) {
      plan = rule.plan;
      overrideIndex = i;
    }
  });
  return { step, layer, head, phase, plan, overrideIndex };
}
