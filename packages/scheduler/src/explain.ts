import type { BlockMaskCache } from '@fpsattn/tiling';
import { describePlan, planKey } from './describe-plan';
import { planCost } from './plan-cost';
import { resolvePlan } from './resolve-plan';
import type { AttentionMode, AttentionPlan, PhaseName, ScheduleConfig } from './types';

/**
 * One row of {@link explain}: the plan of a step and its cost relative to dense attention (see `planCost`).
 * When several (layer, head) pairs are summarised, `density` and `flopsRelative` are means over them, `mode`,
 * `granularity` and `window` describe the phase plan, and `overridden` counts the pairs an override changed.
 */
export interface ExplainRow {
  readonly step: number;
  readonly phase: PhaseName;
  readonly mode: AttentionMode;
  readonly granularity: string;
  readonly window: string;
  readonly density: number;
  readonly flopsRelative: number;
  readonly overridden: number;
}

/**
 * Step-by-step table of a schedule. With `layer` and `head`, the rows describe that one attention call; without,
 * they summarise all `model.layers x model.heads` calls of each step.
 */
export function explain(options: {
  config: ScheduleConfig;
  layer?: number;
  head?: number;
  rowMultiple?: number;
  cache?: BlockMaskCache;
}): ExplainRow[] {
  const { config } = options;
  const costOf = (plan: AttentionPlan) =>
    planCost({
      plan,
      grid: config.grid,
      ...(options.rowMultiple === undefined ? {} : { rowMultiple: options.rowMultiple }),
      ...(options.cache === undefined ? {} : { cache: options.cache }),
    });
  const costs = new Map<string, ReturnType<typeof planCost>>();
  const cached = (plan: AttentionPlan) => {
    const key = planKey(plan);
    let c = costs.get(key);
    if (!c) costs.set(key, (c = costOf(plan)));
    return c;
  };
  const single = options.layer !== undefined || options.head !== undefined;
  const layers = single ? [options.layer ?? 0] : Array.from({ length: config.model.layers }, (_, i) => i);
  const heads = single ? [options.head ?? 0] : Array.from({ length: config.model.heads }, (_, i) => i);
  const rows: ExplainRow[] = [];
  for (let step = 0; step < config.steps; step++) {
    let density = 0;
    let flops = 0;
    let overridden = 0;
    let count = 0;
    let base: AttentionPlan | undefined;
    let phase: PhaseName = 'early';
    for (const layer of layers) {
      for (const head of heads) {
        const r = resolvePlan({ config, step, layer, head });
        phase = r.phase;
        if (single) base = r.plan;
        else base ??= r.phase === 'warmup' ? { mode: 'dense-bf16' } : config.phases[r.phase];
        if (r.overrideIndex >= 0) overridden++;
        const c = cached(r.plan);
        density += c.density;
        flops += c.flopsRelative;
        count++;
      }
    }
    const d = describePlan(base!);
    rows.push({ step, phase, ...d, density: density / count, flopsRelative: flops / count, overridden });
  }
  return rows;
}

/** Plain-text table of {@link explain} rows for the CLI, with a mean line at the end. */
export function formatExplainTable(rows: readonly ExplainRow[]): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
  const header = ['step', 'phase', 'mode', 'granularity', 'window', 'density', 'flops vs dense', 'overridden'];
  const body = rows.map((r) => [String(r.step), r.phase, r.mode, r.granularity, r.window, pct(r.density), pct(r.flopsRelative), String(r.overridden)]);
  if (rows.length > 0) {
    const mean = (f: (r: ExplainRow) => number) => rows.reduce((s, r) => s + f(r), 0) / rows.length;
    body.push(['mean', '', '', '', '', pct(mean((r) => r.density)), pct(mean((r) => r.flopsRelative)), '']);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i >= 5 && i <= 7 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
