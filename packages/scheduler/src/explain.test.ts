import { BlockMaskCache } from '@fpsattn/tiling';
import { describe, expect, it } from 'vitest';
import { explain, formatExplainTable } from './explain';
import { parseScheduleConfig } from './parse-schedule-config';
import { planCost } from './plan-cost';
import { schedulePreset } from './presets';

/** The FP8 attention kernel's block row count (@fpsattn/kernels ATTENTION_TILE_POLICY.blockM); tests pass it as callers do. */
const blockRows = 128;

describe('explain', () => {
  it('gives one row per step with the phase plan and its cost (wan-720p)', () => {
    const rows = explain({ config: schedulePreset({ name: 'wan-720p' }), blockRows });
    expect(rows).toHaveLength(50);
    expect(rows[0]).toMatchObject({ step: 0, phase: 'warmup', mode: 'dense-bf16', granularity: '-', window: 'full', density: 1, flopsRelative: 1 });
    expect(rows[0]!.executedRelative).toBeCloseTo((75_648 / 75_600) ** 2, 12);
    expect(rows[5]).toMatchObject({ phase: 'early', mode: 'fp8-sparse', granularity: 'tile 3x15x16', window: 'clamped 3x3x5 tiles of 3x5x8' });
    expect(rows[5]!.density).toBeCloseTo(45 / 630, 12);
    expect(rows[5]!.flopsRelative).toBeCloseTo(45 / 630, 12);
    expect(rows[5]!.executedRelative).toBeCloseTo((45 / 630) * (128 / 120) ** 2, 12);
    expect(rows[20]!.density).toBeCloseTo(175 / 630, 12);
    expect(rows[49]!.density).toBeCloseTo(75 / 630, 12);
    expect(rows.every((r) => r.overridden === 0)).toBe(true);
  });

  it('reports density 1 for the dense and FP8-only ablations and the windows for sparse-only', () => {
    expect(explain({ config: schedulePreset({ name: 'dense' }) }).every((r) => r.density === 1 && r.mode === 'dense-bf16')).toBe(true);
    expect(explain({ config: schedulePreset({ name: 'fp8-only' }) }).every((r) => r.flopsRelative === 1 && r.mode === 'fp8-dense')).toBe(true);
    const sparse = explain({ config: schedulePreset({ name: 'sparse-only' }) });
    expect(sparse[10]!.mode).toBe('sparse-bf16');
    expect(sparse[10]!.density).toBeCloseTo(45 / 630, 12);
  });

  it('averages over layers and heads and counts overridden calls', () => {
    const base = schedulePreset({ name: 'wan-720p' });
    const config = parseScheduleConfig({ ...base, model: { layers: 2, heads: 4, headDim: 128 }, overrides: [{ layers: [0], heads: [0], plan: { mode: 'dense-bf16' } }] });
    const rows = explain({ config });
    const sparse = planCost({ plan: base.phases.early, grid: base.grid, blockRows }).density;
    expect(rows[10]!.overridden).toBe(1);
    expect(rows[10]!.density).toBeCloseTo((1 + 7 * sparse) / 8, 12);
    expect(rows[10]!.mode).toBe('fp8-sparse');
    const one = explain({ config, layer: 0, head: 0 });
    expect(one[10]).toMatchObject({ mode: 'dense-bf16', density: 1, overridden: 1 });
  });

  it.each([
    // given, rows averaged over; the override makes layer 1 / head 0 dense
    [{ layer: 1 }, '(1 + sparse) / 2, the 2 heads of layer 1', (sparse: number) => (1 + sparse) / 2, 1],
    [{ layer: 0 }, 'sparse, the 2 heads of layer 0', (sparse: number) => sparse, 0],
    [{ head: 0 }, '(sparse + 1) / 2, head 0 of the 2 layers', (sparse: number) => (sparse + 1) / 2, 1],
    [{ head: 1 }, 'sparse, head 1 of the 2 layers', (sparse: number) => sparse, 0],
    [{ layer: 1, head: 0 }, '1, that one call', () => 1, 1],
  ] as const)('with only %o averages over the dimension not given: density %s', (which, _, expected, overridden) => {
    const base = schedulePreset({ name: 'wan-720p' });
    const config = parseScheduleConfig({ ...base, model: { layers: 2, heads: 2, headDim: 128 }, overrides: [{ layers: [1], heads: [0], plan: { mode: 'dense-bf16' } }] });
    const sparse = planCost({ plan: base.phases.early, grid: base.grid, blockRows }).density;
    const row = explain({ config, ...which })[10]!;
    expect(row.density).toBeCloseTo(expected(sparse), 12);
    expect(row.overridden).toBe(overridden);
  });

  it('builds each mask once through the cache', () => {
    const cache = new BlockMaskCache();
    explain({ config: schedulePreset({ name: 'wan-480p' }), cache });
    expect(cache.misses).toBe(3);
  });
});

describe('formatExplainTable', () => {
  it('prints a header, one line per step and a mean line', () => {
    const rows = explain({ config: schedulePreset({ name: 'wan-720p', steps: 10 }), blockRows });
    const text = formatExplainTable(rows);
    const lines = text.split('\n');
    expect(lines[0]).toMatch(/^step\s+phase\s+mode\s+granularity\s+window\s+density\s+flops vs dense\s+executed vs dense\s+overridden$/);
    expect(lines).toHaveLength(2 + 10 + 1);
    expect(lines[2]).toMatch(/^0\s+warmup\s+dense-bf16\s+-\s+full\s+100\.0%\s+100\.0%\s+100\.1%\s+0$/);
    expect(lines[3]).toMatch(/\s7\.1%\s+7\.1%\s+8\.1%\s+0$/); // 45/630 real, x (128/120)^2 executed
    expect(lines.at(-1)).toMatch(/^mean\s+\d+\.\d%\s+\d+\.\d%\s+\d+\.\d%$/);
  });

  it('prints - for executed vs dense, rows and mean, when explain was not given the kernel block rows', () => {
    const rows = explain({ config: schedulePreset({ name: 'wan-720p', steps: 10 }) });
    expect(rows.every((r) => r.executedRelative === null)).toBe(true);
    const lines = formatExplainTable(rows).split('\n');
    expect(lines[2]).toMatch(/^0\s+warmup\s+dense-bf16\s+-\s+full\s+100\.0%\s+100\.0%\s+-\s+0$/);
    expect(lines.at(-1)).toMatch(/^mean\s+\d+\.\d%\s+\d+\.\d%\s+-$/);
  });

  it('prints only the header for no rows', () => {
    expect(formatExplainTable([]).split('\n')).toHaveLength(2);
  });
});
