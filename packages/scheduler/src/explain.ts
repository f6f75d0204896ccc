import type { BlockMaskCache } from '@fpsattn/tiling';
import { describePlan, planKey } from './describe-plan';
import { planCost } from './plan-cost';
import { resolvePlan } from './resolve-plan';
import type { AttentionMode, AttentionPlan, PhaseName, ScheduleConfig } from './types';

/**
 * One row of {@link explain}: the plan of a step and its cost relative to dense attention (see `PlanCost`):
 * `flopsRelative` counts the attended real token pairs (= density for sparse plans, 1 for dense ones) and
 * `executedRelative` the padded blocks the kernel runs (null when `explain` was not given the kernel's `blockRows`).
 * When several (layer, head) pairs are summarised, the three
 * costs are means over them, `mode`, `granularity` and `window` describe the phase plan, and `overridden` counts the
 * pairs an override changed.
 */
export interface ExplainRow {
  readonly step: number;
  readonly phase: PhaseName;
  readonly mode: AttentionMode;
  readonly granularity: string;
  readonly window: string;
  readonly density: number;
  readonly flopsRelative: number;
  readonly executedRelative: number | null;
  readonly overridden: number;
}

/**
 * Step-by-step table of a schedule. With `layer` and `head`, the rows describe that one attention call. With only
 * `layer`, they summarise all heads of that layer; with only `head`, that head in every layer; with neither, all
 * `model.layers x model.heads` calls of each step.
 *
 * `blockRows` is the attention kernel's block row count, used for `executedRelative` (padded blocks): pass the value
 * of @fpsattn/kernels' `ATTENTION_TILE_POLICY.blockM` (128). Without it `executedRelative` is null: the scheduler
 * does not guess a kernel's block size.
 */
export function explain(options: {
  config: ScheduleConfig;
  layer?: number;
  head?: number;
  /** The attention kernel's block row count (`ATTENTION_TILE_POLICY.blockM` of @fpsattn/kernels). */
  blockRows?: number;
  cache?: BlockMaskCache;
}): ExplainRow[] {
  const { config, blockRows } = options;
  const withExecuted = blockRows !== undefined;
  const costOf = (plan: AttentionPlan) =>
    planCost({
      plan,
      grid: config.grid,
      // Any valid block count gives the same density and real-pair FLOPs; only executedRelative depends on it.
      blockRows: blockRows ?? 1,
      cache: options.cache,
    });
  const costs = new Map<string, ReturnType<typeof planCost>>();
  const cached = (plan: AttentionPlan) => {
    const key = planKey(plan);
    let c = costs.get(key);
    // Stryker disable next-line ConditionalExpression: recomputing a cached cost gives the same cost (equivalent)
    if (!c) costs.set(key, (c = costOf(plan)));
    return c;
  };
  // A dimension that is not given is averaged over, never silently taken at index 0.
  const single = options.layer !== undefined && options.head !== undefined;
  const layers = options.layer !== undefined ? [options.layer] : Array.from({ length: config.model.layers }, (_, i) => i);
  const heads = options.head !== undefined ? [options.head] : Array.from({ length: config.model.heads }, (_, i) => i);
  const rows: ExplainRow[] = [];
  for (let step = 0; step < config.steps; step++) {
    let density = 0;
    let flops = 0;
    let executed = 0;
    let overridden = 0;
    let count = 0;
    let base: AttentionPlan | undefined;
    // Stryker disable next-line StringLiteral: a placeholder: every step visits at least one (layer, head) and sets it (equivalent)
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
        executed += c.executedRelative;
        count++;
      }
    }
    const d = describePlan(base!);
    rows.push({
      step,
      phase,
      ...d,
      density: density / count,
      flopsRelative: flops / count,
      executedRelative: withExecuted ? executed / count : null,
      overridden,
    });
  }
  return rows;
}

/**
 * Plain-text table of {@link explain} rows for the CLI, with a mean line at the end. Columns: density, flops vs dense
 * (attended real pairs) and executed vs dense (padded blocks the kernel runs, `-` when not computed), see `PlanCost`.
 */
export function formatExplainTable(rows: readonly ExplainRow[]): string {
  const pct = (x: number | null) => (x === null ? '-' : `${(x * 100).toFixed(1)}%`);
  const header = ['step', 'phase', 'mode', 'granularity', 'window', 'density', 'flops vs dense', 'executed vs dense', 'overridden'];
  const body = rows.map((r) => [
    String(r.step),
    r.phase,
    r.mode,
    r.granularity,
    r.window,
    pct(r.density),
    pct(r.flopsRelative),
    pct(r.executedRelative),
    String(r.overridden),
  ]);
  if (rows.length > 0) {
    // Stryker disable next-line MethodExpression: executedRelative is null in every row or in none (equivalent)
    const mean = (f: (r: ExplainRow) => number | null) => (rows.some((r) => f(r) === null) ? null : rows.reduce((s, r) => s + f(r)!, 0) / rows.length);
    body.push(['mean', '', '', '', '', pct(mean((r) => r.density)), pct(mean((r) => r.flopsRelative)), pct(mean((r) => r.executedRelative)), '']);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i >= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}
