// Edges that mutation testing showed were not pinned (npm run mutation -- scheduler).
import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { ConfigError, formatConfigIssue } from './config-error';
import { explain, formatExplainTable } from './explain';
import { parseOverrideTable, safeParseOverrideTable } from './parse-override-table';
import { parseScheduleConfig, safeParseScheduleConfig } from './parse-schedule-config';
import { phaseBoundaries, phaseBoundary, stepPhase } from './phase-boundaries';
import { schedulePreset } from './presets';
import { resolvePlan } from './resolve-plan';

const base = schedulePreset({ name: 'wan-720p' }); // 50 steps, warmup 0-4, early 5-19, middle 20-39, late 40-49
const sparse = (tile: number[]) => ({ mode: 'sparse-bf16', sparsity: { tile, window: { kind: 'clamped', tiles: [3, 3, 5] } } });
const pathsOf = (input: unknown) => {
  const result = safeParseScheduleConfig(input);
  return result.success ? [] : result.error.issues.map((i) => i.path);
};
const dense = { early: { mode: 'dense-bf16' }, middle: { mode: 'dense-bf16' }, late: { mode: 'dense-bf16' } };

describe('one attention tile per layer: exhaustive classes', () => {
  it('resolves only existing layers and heads when every one is listed by a rule', () => {
    const config = { ...base, model: { layers: 1, heads: 1, headDim: 128 }, overrides: [{ layers: [0], heads: [0], plan: sparse([1, 5, 8]) }] };
    expect(parseScheduleConfig(config).overrides).toHaveLength(1);
  });

  it('reports the first step of a clash in step order', () => {
    const issues = (() => {
      const r = safeParseScheduleConfig({ ...base, overrides: [{ heads: [3], steps: { from: 10, to: 50 }, plan: sparse([1, 5, 8]) }] });
      return r.success ? [] : r.error.issues;
    })();
    expect(issues[0]!.message).toMatch(/^at step 10, layer 0, head 3 /);
  });

  it('takes the phase plan tile as the reference even when the override is on head 0', () => {
    const r = safeParseScheduleConfig({ ...base, overrides: [{ heads: [0], plan: sparse([1, 5, 8]) }] });
    expect(r.success ? [] : r.error.issues.map((i) => [i.path, i.message.slice(0, 70)])).toEqual([
      ['overrides[0].plan.sparsity.tile', 'at step 5, layer 0, head 0 would run attention tile 1x5x8 while head 1'],
    ]);
  });
});

describe('parseScheduleConfig edges', () => {
  it('round-trips plans without extra fields', () => {
    for (const name of ['dense', 'sparse-only', 'fp8-only', 'wan-720p'] as const) {
      const preset = schedulePreset({ name, steps: 10 });
      expect(parseScheduleConfig(JSON.parse(JSON.stringify(preset)))).toStrictEqual(preset);
    }
  });

  it('accepts alpha bounds 0 and 1 and equal alphas', () => {
    expect(pathsOf({ ...base, alpha1: 0, alpha2: 1 })).toEqual([]);
    expect(pathsOf({ ...base, alpha1: 0.5, alpha2: 0.5 })).toEqual([]);
  });

  it('accepts a grid of exactly 2^31 - 1 tokens and a mask of exactly 2^31 - 1 key tiles', () => {
    expect(pathsOf({ ...base, grid: [2147483647, 1, 1], phases: dense })).toEqual([]);
    const line = { mode: 'sparse-bf16', sparsity: { tile: [1, 1, 1], window: { kind: 'clamped', tiles: [1, 1, 1] } } };
    expect(pathsOf({ ...base, grid: [1, 1, 2147483647], phases: { ...dense, early: line } })).toEqual([]);
  });

  it('reports bad seed tokens and clamped tiles without reading them further', () => {
    const window = (w: unknown) => ({ ...base, phases: { ...base.phases, late: { mode: 'sparse-bf16', sparsity: { tile: [3, 5, 8], window: w } } } });
    expect(pathsOf(window({ kind: 'seed', tokens: [0, 1, 1] }))).toEqual(['phases.late.sparsity.window.tokens[0]']);
    expect(pathsOf(window({ kind: 'clamped', tiles: [1, 'x', 1] }))).toEqual(['phases.late.sparsity.window.tiles[1]']);
  });

  it.each([
    [0, ['steps']],
    [1.5, ['steps']],
    ['10', ['steps']],
    [10_001, ['steps']],
  ])('extends a preset with steps %j: a ConfigError at steps, not a preset error', (steps, paths) => {
    expect(pathsOf({ extends: 'wan-720p', steps })).toEqual(paths);
  });

  it('extends a preset with the step count at both limits, scaling its warmup', () => {
    expect(parseScheduleConfig({ extends: 'wan-720p', steps: 1 }).denseSteps).toBe(0);
    expect(parseScheduleConfig({ extends: 'wan-720p', steps: 10_000 }).denseSteps).toBe(1000);
  });

  it('reports non-object phases and model of an extended preset at their own path', () => {
    expect(pathsOf({ extends: 'wan-720p', phases: 'x' })).toEqual(['phases']);
    expect(pathsOf({ extends: 'wan-720p', model: 'x' })).toEqual(['model']);
  });
});

describe('override tables', () => {
  it('parses a table without context', () => {
    expect(parseOverrideTable({ table: [] })).toEqual([]);
    expect(parseOverrideTable({ table: { overrides: [{ plan: { mode: 'dense-bf16' } }] } })).toEqual([{ plan: { mode: 'dense-bf16' } }]);
  });

  it.each([null, 'x', 5, { rules: [] }])('rejects the table %j with a ConfigError, not a TypeError', (table) => {
    const result = safeParseOverrideTable({ table });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error).toBeInstanceOf(ConfigError);
    expect(result.error.issues.map((i) => i.path)).toEqual(['']);
  });

  it('prefixes paths with overrides inside the wrapper', () => {
    const result = safeParseOverrideTable({ table: { overrides: [{ plan: { mode: 'x' } }] } });
    expect(result.success ? [] : result.error.issues.map((i) => i.path)).toEqual(['overrides[0].plan.mode']);
  });
});

describe('ConfigError text', () => {
  it('shortens long values to 80 characters and prints values JSON cannot', () => {
    const issue = (value: unknown) => formatConfigIssue({ path: 'p', value, message: 'm', allowed: 'a' });
    const exactly80 = 'x'.repeat(78); // quoted: 80 characters
    expect(issue(exactly80)).toBe(`p = "${exactly80}": m (allowed: a)`);
    expect(issue(`${exactly80}y`)).toBe(`p = "${'x'.repeat(76)}...: m (allowed: a)`);
    expect(issue(10n)).toBe('p = 10: m (allowed: a)');
    expect(issue(Symbol.for('s'))).toBe('p = Symbol(s): m (allowed: a)');
    expect(issue(-Infinity)).toBe('p = -Infinity: m (allowed: a)');
    expect(issue(undefined)).toBe('p = undefined: m (allowed: a)');
  });

  it('names its subject and puts one issue per line', () => {
    const issues = [
      { path: 'a', value: 1, message: 'm', allowed: 'x' },
      { path: 'b', value: 2, message: 'n', allowed: 'y' },
    ];
    expect(new ConfigError({ issues }).message).toBe('Invalid scheduler config (2 problems):\n  - a = 1: m (allowed: x)\n  - b = 2: n (allowed: y)');
  });
});

describe('explain and its table', () => {
  it('describes the phase plan when averaging, whatever the last call runs', () => {
    const config = parseScheduleConfig({ ...base, model: { layers: 1, heads: 2, headDim: 128 }, overrides: [{ heads: [1], plan: { mode: 'dense-bf16' } }] });
    const row = explain({ config, layer: 0, blockRows: 128 })[10]!;
    expect(row).toMatchObject({ mode: 'fp8-sparse', overridden: 1 });
  });

  it('prints the exact table: right-aligned numbers, a rule line and the means', () => {
    const config = parseScheduleConfig({
      ...base,
      steps: 3,
      alpha1: 0,
      alpha2: 1,
      denseSteps: 1,
      model: { layers: 1, heads: 1, headDim: 128 },
    });
    expect(formatExplainTable(explain({ config, blockRows: 128 }))).toMatchInlineSnapshot(`
      "step  phase   mode        granularity  window                        density  flops vs dense  executed vs dense  overridden
      ----  ------  ----------  -----------  ----------------------------  -------  --------------  -----------------  ----------
      0     warmup  dense-bf16  -            full                           100.0%          100.0%             100.1%           0
      1     middle  fp8-sparse  tile 1x5x8   clamped 5x5x7 tiles of 3x5x8    27.8%           27.8%              31.6%           0
      2     middle  fp8-sparse  tile 1x5x8   clamped 5x5x7 tiles of 3x5x8    27.8%           27.8%              31.6%           0
      mean                                                                   51.9%           51.9%              54.4%"
    `);
  });
});

describe('phase boundary messages', () => {
  it.each([
    [() => phaseBoundary({ alpha: 1.5, steps: 10 }), "Invalid argument 'alpha': expected a number in [0, 1], got 1.5"],
    [() => phaseBoundary({ alpha: 0.5, steps: 0 }), "Invalid argument 'steps': expected an integer >= 1, got 0"],
    [() => phaseBoundaries({ steps: 10, alpha1: 0.6, alpha2: 0.5 }), "Invalid argument 'alpha1': must not exceed alpha2 (0.5), got 0.6"],
    [() => stepPhase({ step: 10, steps: 10, alpha1: 0.2, alpha2: 0.5 }), "Invalid argument 'step': expected an integer in [0, 10), got 10"],
    [() => stepPhase({ step: 0, steps: 10, alpha1: 0.2, alpha2: 0.5, denseSteps: 11 }), "Invalid argument 'denseSteps': expected an integer in [0, 10], got 11"],
    [() => resolvePlan({ config: base, step: 0, layer: -1 }), "Invalid argument 'layer': expected an integer in [0, 30), got -1"],
    [() => schedulePreset({ name: 'wan-720p', resolution: '480p' }), "Invalid argument 'resolution': preset 'wan-720p' fixes its resolution"],
    [() => schedulePreset({ name: 'dense', resolution: '1080p' as never }), "Invalid argument 'resolution': expected '480p' or '720p'"],
    [
      () => schedulePreset({ name: 'wan' as never }),
      "Invalid argument 'name': unknown preset; expected one of 'wan-480p', 'wan-720p', 'dense', 'fp8-only', 'sparse-only'",
    ],
  ])('%#: %s', (call, message) => {
    expect(call).toThrow(InvalidArgumentError);
    expect(call).toThrow(message);
  });
});
