import { describe, expect, it } from 'vitest';
import * as scheduler from './index';

describe('public surface', () => {
  it('exports exactly the documented runtime names', () => {
    expect(Object.keys(scheduler).sort()).toEqual(
      [
        'ConfigError', 'SCHEDULER_ERROR_CODES', 'SCHEDULE_LIMITS', 'SCHEDULE_PRESET_NAMES', 'WAN_1_3B_MODEL', 'describeGranularity', 'describePlan', 'describeSparsity',
        'explain', 'formatConfigIssue', 'formatExplainTable', 'parseOverrideTable', 'parseScheduleConfig', 'phaseBoundaries',
        'phaseBoundary', 'planCost', 'resolvePlan', 'safeParseOverrideTable', 'safeParseScheduleConfig', 'schedulePreset', 'stepPhase',
      ].sort(),
    );
  });
});
