import { ConfigError, type SafeParseResult } from './config-error';
import { IssueList, readGrid, readObject, readOverrides } from './_config-checks';
import type { ModelDims, OverrideRule } from './types';
import type { Size3 } from '@fpsattn/tiling';

/** What {@link parseOverrideTable} reads: the table, and optionally the schedule it is checked against. */
export interface ParseOverrideTableOptions {
  /** A JSON array of rules, or `{ "overrides": [...] }`. */
  table: unknown;
  /** Denoising steps: step ranges must lie in [0, steps]. */
  steps?: number;
  /** Model sizes: layer and head indices must exist. */
  model?: ModelDims;
  /** Token grid (`{ frames, height, width }` or `[T, H, W]`): windows must fit it. */
  grid?: Size3;
}

/**
 * Validates a per-layer / per-head override table (a JSON array of rules, or `{ "overrides": [...] }`), e.g.
 * `[{ "layers": [0, 1], "heads": [3], "plan": { "mode": "dense-bf16" } }]`. With `steps`, `model` and `grid` it also
 * checks step ranges, layer / head indices and window sizes (without them, against `SCHEDULE_LIMITS`). The wrapper
 * takes no other field. Reports every problem. (The check that all heads of a layer share one attention tile needs
 * the phase plans: `parseScheduleConfig` runs it on the whole config.)
 */
export function safeParseOverrideTable(options: ParseOverrideTableOptions): SafeParseResult<OverrideRule[]> {
  const issues = new IssueList();
  const input = options.table;
  const grid = options.grid === undefined ? undefined : readGrid(issues, 'grid', options.grid);
  const context = { steps: options.steps, model: options.model, grid };
  const isWrapped = typeof input === 'object' && input !== null && !Array.isArray(input) && 'overrides' in input;
  if (isWrapped) readObject(issues, '', input, ['overrides'], 'an override table { overrides: [...] }'); // unknown fields
  const value = isWrapped ? (input as { overrides: unknown }).overrides : input;
  const rules = readOverrides(issues, isWrapped ? 'overrides' : '', value, context);
  if (!rules || issues.issues.length > 0) {
    return { success: false, error: new ConfigError({ issues: issues.issues, subject: 'override table' }) };
  }
  return { success: true, value: rules };
}

/** Throwing variant of {@link safeParseOverrideTable}. */
export function parseOverrideTable(options: ParseOverrideTableOptions): OverrideRule[] {
  const result = safeParseOverrideTable(options);
  if (!result.success) throw result.error;
  return result.value;
}
