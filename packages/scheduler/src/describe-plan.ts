import type { AttentionPlan, Granularity, Sparsity } from './types';

/** `tile 3x5x8`, `token`, `tensor`. */
export function describeGranularity(granularity: Granularity): string {
  return granularity.kind === 'tile' ? `tile ${granularity.tile.join('x')}` : granularity.kind;
}

/** `clamped 3x3x5 tiles of 3x5x8` or `seed 12x20x48 tokens, tiles 3x5x8`. */
export function describeSparsity(sparsity: Sparsity): string {
  const { window, tile } = sparsity;
  return window.kind === 'clamped'
    ? `clamped ${window.tiles.join('x')} tiles of ${tile.join('x')}`
    : `seed ${window.tokens.join('x')} tokens, tiles ${tile.join('x')}`;
}

/** Granularity and window columns of a plan (`-` where the mode has none). */
export function describePlan(plan: AttentionPlan): { mode: AttentionPlan['mode']; granularity: string; window: string } {
  switch (plan.mode) {
    case 'dense-bf16':
      return { mode: plan.mode, granularity: '-', window: 'full' };
    case 'fp8-dense':
      return { mode: plan.mode, granularity: describeGranularity(plan.granularity), window: 'full' };
    case 'sparse-bf16':
      return { mode: plan.mode, granularity: '-', window: describeSparsity(plan.sparsity) };
    case 'fp8-sparse':
      return { mode: plan.mode, granularity: describeGranularity(plan.granularity), window: describeSparsity(plan.sparsity) };
  }
}

/** Stable key of a plan (for grouping and caching). */
export function planKey(plan: AttentionPlan): string {
  const d = describePlan(plan);
  return `${d.mode}|${d.granularity}|${d.window}`;
}
