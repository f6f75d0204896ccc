// Private: the cross-check that every head of one layer runs the same attention tile at every step.
import type { IssueList } from './_config-checks';
import { phaseBoundaries } from './phase-boundaries';
import { resolvePlan } from './resolve-plan';
import type { AttentionPlan, OverrideRule, ScheduleConfig } from './types';

const tileOf = (plan: AttentionPlan) => (plan.mode === 'sparse-bf16' || plan.mode === 'fp8-sparse' ? plan.sparsity.tile : undefined);

/** One representative index per class of indices that every rule's filter treats alike (`pick(rule)` is the filter). */
function representatives(count: number, rules: readonly OverrideRule[], pick: (rule: OverrideRule) => readonly number[] | undefined): number[] {
  const filters = rules.map((rule) => {
    const list = pick(rule);
    // Stryker disable next-line ConditionalExpression: an empty set for an omitted filter marks every index alike, which splits no class either (equivalent)
    return list === undefined ? undefined : new Set(list);
  });
  const seen = new Set<string>();
  const out: number[] = [];
  for (let i = 0; i < count; i++) {
    const signature = filters.map((f) => (f === undefined || f.has(i) ? '1' : '0')).join('');
    // Stryker disable next-line ConditionalExpression: taking every index as a representative only repeats the same resolutions (equivalent)
    if (!seen.has(signature)) {
      seen.add(signature);
      out.push(i);
    }
  }
  return out;
}

/** First steps of the runs of steps on which the phase and every rule's step range are constant. */
function stepStarts(config: ScheduleConfig): number[] {
  const { t1, t2 } = phaseBoundaries(config);
  const starts = new Set([0, config.denseSteps, t1, t2]);
  for (const rule of config.overrides) {
    if (rule.steps) {
      starts.add(rule.steps.from);
      starts.add(rule.steps.to);
    }
  }
  return [...starts].filter((s) => s < config.steps).sort((a, b) => a - b);
}

/**
 * A kernel call runs every head of a layer on one padded tile layout, so the heads of one layer must not use
 * different attention tiles (`sparsity.tile`) at the same step; dense heads run on any layout. Reports, at
 * `overrides[i].plan.sparsity.tile`, each override rule that gives some head a tile differing from the layer's other
 * heads (the reference is the lowest head running the phase plan's tile, else the lowest sparse head). Exhaustive over (step, layer, head)
 * classes: steps split where a phase or a rule's step range starts or ends, layers and heads by which rules list them.
 */
export function checkLayerTiles(issues: IssueList, config: ScheduleConfig): void {
  const rules = config.overrides;
  // Stryker disable next-line ConditionalExpression: a shortcut: without rules every head of a layer runs the phase plan (equivalent)
  if (rules.length === 0) return;
  const layers = representatives(config.model.layers, rules, (r) => r.layers);
  const heads = representatives(config.model.heads, rules, (r) => r.heads);
  const reported = new Set<number>();
  for (const step of stepStarts(config)) {
    for (const layer of layers) {
      const resolved = heads.map((head) => resolvePlan({ config, step, layer, head }));
      // Stryker disable next-line ConditionalExpression: config.phases has no 'warmup' key, so indexing it also gives undefined (the 'false' mutant is equivalent)
      const phasePlan = resolved[0]!.phase === 'warmup' ? undefined : config.phases[resolved[0]!.phase];
      const sparse = resolved.filter((r) => tileOf(r.plan) !== undefined);
      if (sparse.length === 0) continue;
      // The reference: the first head running the phase plan's tile, else the first sparse head.
      const phaseKey = phasePlan && tileOf(phasePlan)?.join('x');
      const referenceHead = sparse.find((r) => tileOf(r.plan)!.join('x') === phaseKey) ?? sparse[0]!;
      const reference = tileOf(referenceHead.plan)!;
      const key = reference.join('x');
      for (const r of sparse) {
        const tile = tileOf(r.plan)!;
        // Stryker disable next-line ConditionalExpression: a head running the phase plan (overrideIndex -1) always runs the reference tile when one exists, so that test never decides (equivalent)
        if (tile.join('x') === key || r.overrideIndex < 0 || reported.has(r.overrideIndex)) continue;
        reported.add(r.overrideIndex);
        issues.add(
          `overrides[${r.overrideIndex}].plan.sparsity.tile`,
          tile,
          `at step ${step}, layer ${layer}, head ${r.head} would run attention tile ${tile.join('x')} while head ${referenceHead.head} runs ${key}: a kernel runs one attention tile for all heads of a layer`,
          `the attention tile of the layer's other heads, [${reference.join(', ')}]`,
        );
      }
    }
  }
}
