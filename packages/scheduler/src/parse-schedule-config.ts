import { ConfigError, type SafeParseResult } from './config-error';
import {
  IssueList,
  isRecord,
  readGrid,
  readInt,
  readModel,
  readObject,
  readOverrides,
  readPlan,
  readUnit,
} from './_config-checks';
import { checkLayerTiles } from './_layer-tiles';
import { SCHEDULE_LIMITS } from './limits';
import { SCHEDULE_PRESET_NAMES, WAN_1_3B_MODEL, schedulePreset, type SchedulePresetName } from './presets';
import type { AttentionPlan, ScheduleConfig } from './types';

const TOP_FIELDS = ['extends', 'steps', 'alpha1', 'alpha2', 'denseSteps', 'grid', 'model', 'phases', 'overrides'] as const;

/** Applies `extends: '<preset>'`: top-level fields replace the preset's, `phases` and `model` merge per key. */
function withPreset(issues: IssueList, input: Record<string, unknown>): Record<string, unknown> {
  if (input.extends === undefined) return input;
  // Stryker disable next-line ConditionalExpression: the typeof test only narrows the type: includes() is false for every non-string (equivalent)
  if (typeof input.extends !== 'string' || !(SCHEDULE_PRESET_NAMES as readonly string[]).includes(input.extends)) {
    issues.add('extends', input.extends, 'unknown preset', SCHEDULE_PRESET_NAMES.map((n) => `'${n}'`).join(', '));
    return input;
  }
  const valid = typeof input.steps === 'number' && Number.isInteger(input.steps) && input.steps >= 1 && input.steps <= SCHEDULE_LIMITS.maxSteps;
  const steps = valid ? (input.steps as number) : undefined; // an invalid steps is reported by the main pass
  const base = schedulePreset({ name: input.extends as SchedulePresetName, ...(steps === undefined ? {} : { steps }) }) as unknown as Record<string, unknown>;
  const merged: Record<string, unknown> = { ...base, ...input };
  if (isRecord(input.phases)) merged.phases = { ...(base.phases as object), ...input.phases };
  if (isRecord(input.model)) merged.model = { ...(base.model as object), ...input.model };
  delete merged.extends;
  return merged;
}

/**
 * Validates a schedule config (e.g. parsed JSON) and reports **every** problem at once.
 *
 * Fields: `steps` (D, integer in [1, 10000]), `alpha1`, `alpha2` (in [0, 1], alpha1 <= alpha2), `denseSteps` (integer
 * in [0, steps], default 0), `grid` ({ frames, height, width }, at most 2^31 - 1 tokens), `model` ({ layers, heads,
 * headDim }, at most 4096 / 4096 / 1024, default Wan2.1-1.3B),
 * `phases` ({ early, middle, late } attention plans), `overrides` (rules, default []), and optionally
 * `extends: '<preset name>'` to start from a preset. Windows larger than the grid, zero or non-integer tile sizes,
 * unknown modes / kinds / fields, fields a mode does not take (a window on 'dense-bf16') and sparse block masks of
 * more than 2^31 - 1 key tiles are errors. The bounds are {@link SCHEDULE_LIMITS}. Sizes are `[t, h, w]` or
 * `{ frames, height, width }` (the config returned holds the grid as an object and tiles and windows as arrays).
 * Plans a kernel cannot run are errors too: an `fp8-sparse` plan whose `tile` granularity cuts across its attention
 * tile (see README "Kernel constraints"), and heads of one layer running different attention tiles at one step.
 */
export function safeParseScheduleConfig(input: unknown): SafeParseResult<ScheduleConfig> {
  const issues = new IssueList();
  const root = readObject(issues, '', input, TOP_FIELDS, 'a schedule config object');
  if (!root) return { success: false, error: new ConfigError({ issues: issues.issues }) };
  const o = withPreset(issues, root);

  const steps = readInt(issues, 'steps', o.steps, 1, SCHEDULE_LIMITS.maxSteps);
  const alpha1 = readUnit(issues, 'alpha1', o.alpha1);
  const alpha2 = readUnit(issues, 'alpha2', o.alpha2);
  // Stryker disable next-line ConditionalExpression,LogicalOperator: the undefined tests only narrow the type: any comparison with undefined is false (equivalent)
  if (alpha1 !== undefined && alpha2 !== undefined && alpha1 > alpha2) {
    issues.add('alpha1', alpha1, `alpha1 must not exceed alpha2 (${alpha2})`, `a number in [0, alpha2 = ${alpha2}]`);
  }
  const denseSteps = o.denseSteps === undefined ? 0 : readInt(issues, 'denseSteps', o.denseSteps, 0, steps ?? SCHEDULE_LIMITS.maxSteps);
  const grid = readGrid(issues, 'grid', o.grid);
  const model = o.model === undefined ? WAN_1_3B_MODEL : readModel(issues, 'model', o.model);

  let phases: ScheduleConfig['phases'] | undefined;
  const p = readObject(issues, 'phases', o.phases, ['early', 'middle', 'late'], 'the three phase plans { early, middle, late }');
  if (p) {
    const read = (name: 'early' | 'middle' | 'late'): AttentionPlan | undefined => {
      if (p[name] === undefined) {
        issues.add(`phases.${name}`, undefined, `missing the ${name} plan`, 'an attention plan');
        return undefined;
      }
      return readPlan(issues, `phases.${name}`, p[name], grid);
    };
    const early = read('early');
    const middle = read('middle');
    const late = read('late');
    // Stryker disable next-line ConditionalExpression,LogicalOperator: a missing plan has already added an issue, so the config is rejected whatever phases holds (equivalent)
    if (early && middle && late) phases = { early, middle, late };
  }
  const overrides =
    o.overrides === undefined
      ? []
      : readOverrides(issues, 'overrides', o.overrides, { steps, model, grid });

  if (issues.issues.length > 0) return { success: false, error: new ConfigError({ issues: issues.issues }) };
  const value: ScheduleConfig = {
    steps: steps!,
    alpha1: alpha1!,
    alpha2: alpha2!,
    denseSteps: denseSteps!,
    grid: grid!,
    model: model!,
    phases: phases!,
    overrides: overrides!,
  };
  // Checks across fields, once each field is valid on its own.
  checkLayerTiles(issues, value);
  if (issues.issues.length > 0) return { success: false, error: new ConfigError({ issues: issues.issues }) };
  return { success: true, value };
}

/** Throwing variant of {@link safeParseScheduleConfig}: throws a {@link ConfigError} listing every issue. */
export function parseScheduleConfig(input: unknown): ScheduleConfig {
  const result = safeParseScheduleConfig(input);
  if (!result.success) throw result.error;
  return result.value;
}
