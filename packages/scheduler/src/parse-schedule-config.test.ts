import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error';
import { parseScheduleConfig, safeParseScheduleConfig } from './parse-schedule-config';
import { schedulePreset } from './presets';

const fp8Sparse = (tiles: number[]) => ({
  mode: 'fp8-sparse',
  granularity: { kind: 'tile', tile: [3, 5, 8] },
  sparsity: { tile: [3, 5, 8], window: { kind: 'clamped', tiles } },
});

const valid = {
  steps: 50,
  alpha1: 0.3,
  alpha2: 0.7,
  denseSteps: 5,
  grid: { frames: 21, height: 45, width: 80 },
  model: { layers: 30, heads: 12, headDim: 128 },
  phases: {
    early: fp8Sparse([3, 3, 5]),
    middle: { mode: 'fp8-dense', granularity: { kind: 'token' } },
    late: { mode: 'sparse-bf16', sparsity: { tile: [3, 5, 8], window: { kind: 'seed', tokens: [6, 20, 48] } } },
  },
  overrides: [{ layers: [0], heads: [1, 2], plan: { mode: 'dense-bf16' } }],
};

function issuesOf(input: unknown) {
  const result = safeParseScheduleConfig(input);
  if (result.success) throw new Error('expected a failure');
  return result.error.issues;
}

const patch = (f: (c: any) => void) => {
  const c = structuredClone(valid);
  f(c);
  return c;
};

describe('parseScheduleConfig', () => {
  it('accepts a valid config and returns it typed', () => {
    expect(parseScheduleConfig(JSON.parse(JSON.stringify(valid)))).toEqual(valid);
  });

  it('fills defaults: denseSteps 0, Wan2.1-1.3B model, no overrides', () => {
    const { denseSteps, model, overrides, ...rest } = valid;
    void denseSteps;
    void model;
    void overrides;
    const parsed = parseScheduleConfig(rest);
    expect(parsed.denseSteps).toBe(0);
    expect(parsed.model).toEqual({ layers: 30, heads: 12, headDim: 128 });
    expect(parsed.overrides).toEqual([]);
  });

  it.each(['wan-480p', 'wan-720p', 'dense', 'fp8-only', 'sparse-only'] as const)('round-trips the %s preset through JSON', (name) => {
    const preset = schedulePreset({ name });
    expect(parseScheduleConfig(JSON.parse(JSON.stringify(preset)))).toEqual(preset);
  });

  it('extends a preset: fields replace, phases and model merge per key', () => {
    const parsed = parseScheduleConfig({ extends: 'wan-720p', alpha1: 0.2, phases: { late: { mode: 'dense-bf16' } }, model: { layers: 40 } });
    const base = schedulePreset({ name: 'wan-720p' });
    expect(parsed.alpha1).toBe(0.2);
    expect(parsed.alpha2).toBe(base.alpha2);
    expect(parsed.phases.early).toEqual(base.phases.early);
    expect(parsed.phases.late).toEqual({ mode: 'dense-bf16' });
    expect(parsed.model).toEqual({ layers: 40, heads: 12, headDim: 128 });
  });

  it.each([
    // description, patch, path, value, allowed fragment
    ['alpha1 above 1', (c: any) => (c.alpha1 = 1.2), 'alpha1', 1.2, '[0, 1]'],
    ['alpha2 below 0', (c: any) => (c.alpha2 = -0.1), 'alpha2', -0.1, '[0, 1]'],
    ['alpha1 not a number', (c: any) => (c.alpha1 = '0.3'), 'alpha1', '0.3', '[0, 1]'],
    ['alpha1 NaN', (c: any) => (c.alpha1 = Number.NaN), 'alpha1', Number.NaN, '[0, 1]'],
    ['alpha1 > alpha2', (c: any) => ((c.alpha1 = 0.8), (c.alpha2 = 0.5)), 'alpha1', 0.8, 'alpha2 = 0.5'],
    ['zero steps', (c: any) => (c.steps = 0), 'steps', 0, 'integer in [1, 10000]'],
    ['fractional steps', (c: any) => (c.steps = 12.5), 'steps', 12.5, 'integer in [1, 10000]'],
    ['denseSteps above steps', (c: any) => (c.denseSteps = 51), 'denseSteps', 51, '[0, 50]'],
    ['zero grid height', (c: any) => (c.grid.height = 0), 'grid.height', 0, 'integer in [1, 2147483647]'],
    ['missing grid', (c: any) => delete c.grid, 'grid', undefined, '{ frames, height, width }'],
    ['unknown top-level field', (c: any) => (c.alpha3 = 1), 'alpha3', 1, "'alpha1'"],
    ['unknown mode', (c: any) => (c.phases.middle.mode = 'fp4-dense'), 'phases.middle.mode', 'fp4-dense', "'fp8-sparse'"],
    ['zero quantization tile', (c: any) => (c.phases.early.granularity.tile = [3, 0, 8]), 'phases.early.granularity.tile[1]', 0, 'integer >= 1'],
    ['zero attention tile', (c: any) => (c.phases.early.sparsity.tile = [0, 5, 8]), 'phases.early.sparsity.tile[0]', 0, 'integer >= 1'],
    ['tile with two sizes', (c: any) => (c.phases.early.sparsity.tile = [5, 8]), 'phases.early.sparsity.tile', [5, 8], 'three positive integers'],
    ['unknown granularity', (c: any) => (c.phases.middle.granularity = { kind: 'per-block' }), 'phases.middle.granularity.kind', 'per-block', "'tensor', 'token', 'tile'"],
    ['clamped window larger than the grid', (c: any) => (c.phases.early.sparsity.window.tiles = [8, 3, 5]), 'phases.early.sparsity.window.tiles[0]', 8, '[1, 7]'],
    ['seed window larger than the grid', (c: any) => (c.phases.late.sparsity.window.tokens = [6, 20, 81]), 'phases.late.sparsity.window.tokens[2]', 81, '[1, 80]'],
    ['unknown window kind', (c: any) => (c.phases.early.sparsity.window = { kind: 'radial', tiles: [1, 1, 1] }), 'phases.early.sparsity.window.kind', 'radial', "'seed', 'clamped'"],
    ['a window on a dense plan', (c: any) => (c.phases.middle.sparsity = c.phases.early.sparsity), 'phases.middle.sparsity', undefined, "'mode', 'granularity'"],
    ['a missing granularity on fp8', (c: any) => delete c.phases.early.granularity, 'phases.early.granularity', undefined, "'tile'"],
    ['a missing phase', (c: any) => delete c.phases.late, 'phases.late', undefined, 'an attention plan'],
    ['an override for layer 30 of 30', (c: any) => (c.overrides[0].layers = [30]), 'overrides[0].layers[0]', 30, '[0, 29]'],
    ['an override with an unknown phase', (c: any) => (c.overrides[0].phases = ['mid']), 'overrides[0].phases[0]', 'mid', "'middle'"],
    ['an override with an empty step range', (c: any) => (c.overrides[0].steps = { from: 5, to: 5 }), 'overrides[0].steps', { from: 5, to: 5 }, 'from < to'],
    ['an unknown preset', (c: any) => (c.extends = 'wan-1080p'), 'extends', 'wan-1080p', "'wan-720p'"],
  ])('reports %s with its path, value and what is allowed', (_name, f, path, value, allowed) => {
    const issues = issuesOf(patch(f));
    const issue = issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    if (value !== undefined) expect(issue!.value).toEqual(value);
    expect(issue!.allowed).toContain(allowed);
  });

  it('reports every bad field at once, not only the first', () => {
    const bad = patch((c) => {
      c.steps = -3;
      c.alpha1 = 2;
      c.grid.width = 0;
      c.phases.early.mode = 'sparse';
      c.phases.middle.granularity.kind = 'per-row';
      c.phases.late.sparsity.tile = [3, 0, 8];
      c.overrides[0].heads = [12];
      c.unknown = true;
    });
    const result = safeParseScheduleConfig(bad);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.issues.map((i) => i.path).sort()).toEqual(
      ['alpha1', 'grid.width', 'overrides[0].heads[0]', 'phases.early.mode', 'phases.late.sparsity.tile[1]', 'phases.middle.granularity.kind', 'steps', 'unknown'].sort(),
    );
    for (const path of ['steps', 'alpha1', 'grid.width', 'phases.early.mode', 'overrides[0].heads[0]']) {
      expect(result.error.message).toContain(path);
    }
    expect(() => parseScheduleConfig(bad)).toThrow(ConfigError);
  });

  it.each([null, 42, 'config', [1, 2]])('rejects a non-object input %s', (input) => {
    const issues = issuesOf(input);
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('');
  });
});

describe('parseScheduleConfig limits', () => {
  const base = schedulePreset({ name: 'wan-720p' });
  const dense = { early: { mode: 'dense-bf16' }, middle: { mode: 'dense-bf16' }, late: { mode: 'dense-bf16' } };
  const sparse = (tile: number[], tiles: number[]) => ({ mode: 'sparse-bf16', sparsity: { tile, window: { kind: 'clamped', tiles } } });
  it.each([
    // description, config, path, allowed fragment
    ['steps 9e15', { ...base, steps: 9e15 }, 'steps', '[1, 10000]'],
    ['steps 10001', { ...base, steps: 10_001 }, 'steps', '[1, 10000]'],
    ['steps 9e15 on a preset', { extends: 'wan-720p', steps: 9e15 }, 'steps', '[1, 10000]'],
    ['layers 1e12', { ...base, model: { layers: 1e12, heads: 12, headDim: 128 } }, 'model.layers', '[1, 4096]'],
    ['heads 4097', { ...base, model: { layers: 30, heads: 4097, headDim: 128 } }, 'model.heads', '[1, 4096]'],
    ['headDim 1e6', { ...base, model: { layers: 30, heads: 12, headDim: 1e6 } }, 'model.headDim', '[1, 1024]'],
    ['grid of 1e18 tokens', { ...base, grid: { frames: 1e6, height: 1e6, width: 1e6 }, phases: dense }, 'grid', '2^31 - 1'],
    ['grid of 1e12 tokens', { ...base, grid: { frames: 1e4, height: 1e4, width: 1e4 }, phases: dense }, 'grid', '2^31 - 1'],
    ['a 1x1x1-tile mask of 75600^2 key tiles', { ...base, phases: { ...base.phases, early: sparse([1, 1, 1], [21, 45, 80]) } }, 'phases.early.sparsity', 'key tiles per mask'],
    [
      'an override mask of 75600^2 key tiles',
      { ...base, overrides: [{ layers: [0], plan: sparse([1, 1, 1], [21, 45, 80]) }] },
      'overrides[0].plan.sparsity',
      'key tiles per mask',
    ],
  ] as const)('reports %s as a ConfigError issue', (_, config, path, allowed) => {
    const result = safeParseScheduleConfig(config);
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error).toBeInstanceOf(ConfigError);
    const issue = result.error.issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(result.error.issues)).toBeDefined();
    expect(issue!.allowed).toContain(allowed);
  });

  it('names the cause of an oversized mask', () => {
    const result = safeParseScheduleConfig({ ...base, phases: { ...base.phases, early: sparse([1, 1, 1], [21, 45, 80]) } });
    expect(result.success ? '' : result.error.message).toMatch(/5715360000 key tiles.*more than 2\^31-1: use larger tiles or a smaller window/);
  });

  it('accepts the limits themselves', () => {
    const config = { ...base, steps: 10_000, denseSteps: 0, model: { layers: 4096, heads: 4096, headDim: 1024 } };
    expect(safeParseScheduleConfig(config).success).toBe(true);
  });
});

describe('parseScheduleConfig vocabulary and 3D sizes', () => {
  it.each([
    ['per-tensor', 'tensor'],
    ['per-token', 'token'],
  ])("rejects the old granularity name '%s' with an issue naming '%s'", (old, renamed) => {
    const issues = issuesOf(patch((c) => (c.phases.middle.granularity = { kind: old })));
    expect(issues).toEqual([
      {
        path: 'phases.middle.granularity.kind',
        value: old,
        message: `granularity kind '${old}' was renamed: use '${renamed}'`,
        allowed: "'tensor', 'token', 'tile'",
      },
    ]);
  });

  it.each(['toString', 'constructor', 42])('reports a kind %j that is not an old name as unknown', (kind) => {
    const issues = issuesOf(patch((c) => (c.phases.middle.granularity = { kind })));
    expect(issues.map((i) => i.message)).toEqual(['unknown granularity kind']);
  });

  it('accepts the grid as [T, H, W] and tiles and windows as { frames, height, width }, returning the canonical shapes', () => {
    const parsed = parseScheduleConfig(
      patch((c) => {
        c.grid = [21, 45, 80];
        c.phases.early.granularity.tile = { frames: 3, height: 5, width: 8 };
        c.phases.early.sparsity.tile = { frames: 3, height: 5, width: 8 };
        c.phases.early.sparsity.window.tiles = { frames: 3, height: 3, width: 5 };
        c.phases.late.sparsity.window.tokens = { frames: 6, height: 20, width: 48 };
      }),
    );
    expect(parsed).toEqual(valid);
  });

  it.each([
    [(c: any) => (c.grid = [21, 45]), 'grid', 'expected a token grid as [t, h, w] or { frames, height, width }'],
    [(c: any) => (c.grid = [21, 0, 80]), 'grid[1]', 'out of range'],
    [(c: any) => (c.phases.early.sparsity.tile = { frames: 3, height: 5 }), 'phases.early.sparsity.tile.width', 'expected an integer'],
    [(c: any) => (c.phases.early.sparsity.tile = { frames: 3, height: 5, width: 8, depth: 1 }), 'phases.early.sparsity.tile.depth', "unknown field 'depth'"],
    [(c: any) => (c.phases.early.sparsity.window.tiles = { frames: 8, height: 3, width: 5 }), 'phases.early.sparsity.window.tiles[0]', 'window is larger than the grid'],
  ])('names the field of a bad size (%#)', (f, path, message) => {
    const issues = issuesOf(patch(f));
    expect(issues.find((i) => i.path === path)?.message, JSON.stringify(issues)).toContain(message);
  });

  it.each([
    // grid extent, tile, largest clamped window in tiles: ceil(extent / tile) tiles, the last one partial
    [{ frames: 20, height: 45, width: 80 }, [3, 5, 8], 0, 7], // 20 frames = 6 full tiles of 3 + 1 partial: 7 tiles, not 6
    [{ frames: 21, height: 44, width: 80 }, [3, 5, 8], 1, 9], // 44 rows = 8 tiles of 5 + 1 partial: 9, not 8
    [{ frames: 21, height: 45, width: 78 }, [3, 5, 8], 2, 10], // 78 columns = 9 tiles of 8 + 1 partial: 10, not 9
  ])('counts partial tiles when checking a clamped window on a grid the tile does not divide (%o)', (grid, tile, axis, tiles) => {
    const window = [3, 3, 5];
    const config = (w: number) => {
      const size = window.slice();
      size[axis] = w;
      return { ...valid, grid, phases: { ...valid.phases, early: { ...fp8Sparse(size), sparsity: { tile, window: { kind: 'clamped', tiles: size } } } } };
    };
    expect(safeParseScheduleConfig(config(tiles)).success).toBe(true);
    const issues = issuesOf(config(tiles + 1));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe(`phases.early.sparsity.window.tiles[${axis}]`);
    expect(issues[0]!.allowed).toBe(`an integer in [1, ${tiles}]`);
  });

  it('accepts a seed window as wide as the grid and rejects one token wider, also where the tile does not divide the grid', () => {
    const grid = { frames: 20, height: 44, width: 78 };
    const seed = (tokens: number[]) => ({ ...valid, grid, phases: { ...valid.phases, late: { mode: 'sparse-bf16', sparsity: { tile: [3, 5, 8], window: { kind: 'seed', tokens } } } } });
    expect(safeParseScheduleConfig(seed([20, 44, 78])).success).toBe(true);
    expect(issuesOf(seed([21, 44, 79])).map((i) => [i.path, i.allowed])).toEqual([
      ['phases.late.sparsity.window.tokens[0]', 'an integer in [1, 20]'],
      ['phases.late.sparsity.window.tokens[2]', 'an integer in [1, 78]'],
    ]);
  });
});
