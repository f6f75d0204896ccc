export type {
  AttentionMode,
  AttentionPlan,
  Granularity,
  GranularityKind,
  ModelDims,
  OverrideRule,
  PhaseName,
  ScheduleConfig,
  Sparsity,
  SparseWindow,
} from './types';
export {
  ConfigError,
  formatConfigIssue,
  SCHEDULER_ERROR_CODES,
  type ConfigIssue,
  type SafeParseResult,
  type SchedulerErrorCode,
} from './config-error';
export { SCHEDULE_LIMITS } from './limits';
export { phaseBoundary, phaseBoundaries, stepPhase } from './phase-boundaries';
export { parseScheduleConfig, safeParseScheduleConfig } from './parse-schedule-config';
export { parseOverrideTable, safeParseOverrideTable, type ParseOverrideTableOptions } from './parse-override-table';
export { schedulePreset, SCHEDULE_PRESET_NAMES, WAN_1_3B_MODEL, type SchedulePresetName, type WanResolution } from './presets';
export { resolvePlan, type ResolvedPlan } from './resolve-plan';
export { describeGranularity, describePlan, describeSparsity } from './describe-plan';
export { planCost, type PlanCost } from './plan-cost';
export { explain, formatExplainTable, type ExplainRow } from './explain';
