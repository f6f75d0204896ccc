import type { GridDims } from '@fpsattn/tiling';
import { ConfigError, type SafeParseResult } from './config-error';
import { IssueList, readObject, readOverrides } from './_config-checks';
import type { ModelDims, OverrideRule } from './types';

/**
 * Validates a per-layer / per-head override table (a JSON array of rules, or `{ "overrides": [...] }`), e.g.
 * `[{ "layers": [0, 1], "heads": [3], "plan": { "mode": "dense-bf16" } }]`. With `steps`, `model` and `grid` it also
 * checks step ranges, layer / head indices and window sizes (without them, against `SCHEDULE_LIMITS`). The wrapper
 * takes no other field. Reports every problem.
 */
export function safeParseOverrideTable(
  input: unknown,
  context: { steps?: number; model?: ModelDims; grid?: GridDims } = {},
): SafeParseResult<OverrideRule[]> {
  const issues = new IssueList();
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
export function parseOverrideTable(input: unknown, context: { steps?: number; model?: ModelDims; grid?: GridDims } = {}): OverrideRule[] {
  const result = safeParseOverrideTable(input, context);
  if (!result.success) throw result.error;
  return result.value;
}
