import { describe, expect, it } from 'vitest';
import { ConfigError } from './config-error';
import { parseOverrideTable, safeParseOverrideTable } from './parse-override-table';
import { WAN_1_3B_MODEL } from './presets';

const context = { steps: 50, model: WAN_1_3B_MODEL, grid: { frames: 21, height: 45, width: 80 } };

describe('parseOverrideTable', () => {
  const json = `[
    { "layers": [0, 1], "plan": { "mode": "dense-bf16" } },
    { "heads": [3, 7], "phases": ["middle", "late"], "steps": { "from": 20, "to": 45 },
      "plan": { "mode": "sparse-bf16", "sparsity": { "tile": [3, 5, 8], "window": { "kind": "clamped", "tiles": [3, 5, 5] } } } }
  ]`;

  it('loads rules from JSON', () => {
    const rules = parseOverrideTable({ table: JSON.parse(json), ...context });
    expect(rules).toHaveLength(2);
    expect(rules[0]).toEqual({ layers: [0, 1], plan: { mode: 'dense-bf16' } });
    expect(rules[1]!.steps).toEqual({ from: 20, to: 45 });
    expect(rules[1]!.phases).toEqual(['middle', 'late']);
  });

  it('accepts the { overrides: [...] } wrapper', () => {
    expect(parseOverrideTable({ table: { overrides: JSON.parse(json) }, ...context })).toHaveLength(2);
  });

  it.each([
    // wrapper, unknown field paths
    [{ overrides: [], bogus: 1 }, ['bogus']],
    [{ overrides: [], steps: 50, model: {} }, ['steps', 'model']],
  ])('rejects unknown fields next to overrides in %o', (input, paths) => {
    const result = safeParseOverrideTable({ table: input, ...context });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error.issues.map((i) => i.path)).toEqual(paths);
    expect(result.error.issues[0]!.message).toMatch(/unknown field/);
    expect(result.error.issues[0]!.allowed).toContain("'overrides'");
  });

  it('reports every bad rule field with its path', () => {
    const result = safeParseOverrideTable({
      table: [
        { layers: [], plan: { mode: 'dense-bf16' } },
        { heads: [12], steps: { from: 10, to: 60 }, plan: { mode: 'fp8-dense' } },
        { plan: { mode: 'sparse-bf16', sparsity: { tile: [3, 5, 8], window: { kind: 'clamped', tiles: [3, 10, 5] } } }, extra: 1 },
        { layers: [1] },
      ],
      ...context,
    });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(result.error).toBeInstanceOf(ConfigError);
    expect(result.error.issues.map((i) => i.path)).toEqual([
      '[0].layers',
      '[1].heads[0]',
      '[1].steps.to',
      '[1].plan.granularity',
      '[2].extra',
      '[2].plan.sparsity.window.tiles[1]',
      '[3].plan',
    ]);
    expect(result.error.message).toMatch(/^Invalid override table \(7 problems\)/);
  });

  it('takes the grid as [T, H, W] and reports a bad one at grid', () => {
    const table = [{ plan: { mode: 'sparse-bf16', sparsity: { tile: [3, 5, 8], window: { kind: 'clamped', tiles: [3, 10, 5] } } } }];
    const result = safeParseOverrideTable({ table, grid: [21, 45, 80] });
    expect(result.success ? [] : result.error.issues.map((i) => i.path)).toEqual(['[0].plan.sparsity.window.tiles[1]']);
    const bad = safeParseOverrideTable({ table: [], grid: [21, 0, 80] });
    expect(bad.success ? [] : bad.error.issues.map((i) => i.path)).toEqual(['grid[1]']);
  });

  it('rejects a non-array', () => {
    expect(() => parseOverrideTable({ table: { rules: [] } })).toThrow(/expected an array of override rules/);
  });
});
