import { InvalidArgumentError } from '@fpsattn/fp8';
import { WAN_480P_GRID, WAN_720P_GRID, createTileLayout, createPaddedTileLayout } from '@fpsattn/tiling';
import { describe, expect, it } from 'vitest';
import { parseScheduleConfig } from './parse-schedule-config';
import { SCHEDULE_PRESET_NAMES, schedulePreset } from './presets';

describe('schedulePreset', () => {
  it.each(SCHEDULE_PRESET_NAMES.flatMap((name) => (['480p', '720p'] as const).map((r) => [name, r] as const)).filter(
    ([name, r]) => !(name === 'wan-480p' && r === '720p') && !(name === 'wan-720p' && r === '480p'),
  ))('%s at %s is a valid config', (name, resolution) => {
    const preset = schedulePreset({ name, resolution });
    expect(parseScheduleConfig(preset)).toEqual(preset);
  });

  it.each([
    ['wan-480p', WAN_480P_GRID, [3, 10, 4]],
    ['wan-720p', WAN_720P_GRID, [3, 5, 8]],
  ] as const)('%s uses 50 steps, alpha 0.4 / 0.8, 5 dense steps and tiles that divide the grid', (name, grid, tile) => {
    const p = schedulePreset({ name });
    expect([p.steps, p.alpha1, p.alpha2, p.denseSteps]).toEqual([50, 0.4, 0.8, 5]);
    expect(p.grid).toEqual({ frames: grid.frames, height: grid.height, width: grid.width });
    for (const plan of Object.values(p.phases)) {
      expect(plan.mode).toBe('fp8-sparse');
      if (plan.mode === 'fp8-sparse') expect(plan.sparsity.tile).toEqual(tile);
    }
    const padded = createPaddedTileLayout({ layout: createTileLayout({ grid, tile }), rowMultiple: 128 });
    expect(padded.layout.tileSizes.every((s) => s === 120)).toBe(true);
    expect(padded.overhead).toBeCloseTo(128 / 120, 12);
  });

  it('makes the ablations from the same defaults', () => {
    const full = schedulePreset({ name: 'wan-720p' });
    const dense = schedulePreset({ name: 'dense' });
    const fp8 = schedulePreset({ name: 'fp8-only' });
    const sparse = schedulePreset({ name: 'sparse-only' });
    expect(Object.values(dense.phases).every((p) => p.mode === 'dense-bf16')).toBe(true);
    expect(dense.denseSteps).toBe(0);
    expect(fp8.phases.early).toEqual({ mode: 'fp8-dense', granularity: full.phases.early.mode === 'fp8-sparse' ? full.phases.early.granularity : null });
    expect(sparse.phases.late).toEqual({ mode: 'sparse-bf16', sparsity: full.phases.late.mode === 'fp8-sparse' ? full.phases.late.sparsity : null });
    expect(sparse.denseSteps).toBe(full.denseSteps);
  });

  it('scales the dense warmup with the step count', () => {
    expect(schedulePreset({ name: 'wan-720p', steps: 20 }).denseSteps).toBe(2);
    expect(schedulePreset({ name: 'wan-720p', steps: 1 }).denseSteps).toBe(0);
  });

  it.each([
    [{ steps: 0 }, 'steps'],
    [{ resolution: '1080p' as never }, 'resolution'],
  ])('rejects options %o', (options, argument) => {
    try {
      schedulePreset({ name: 'dense', ...options });
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(InvalidArgumentError);
      expect((e as InvalidArgumentError).argument).toBe(argument);
    }
  });

  it('rejects a resolution that contradicts the preset name, and unknown names', () => {
    expect(() => schedulePreset({ name: 'wan-480p', resolution: '720p' })).toThrow(/fixes its resolution/);
    expect(() => schedulePreset({ name: 'wan-1080p' as never })).toThrow(/unknown preset/);
  });

});

describe('schedulePreset returns fresh configs', () => {
  const mutations: [string, (c: any) => void][] = [
    ['grid.frames', (c) => (c.grid.frames = 1)],
    ['model.layers', (c) => (c.model.layers = 1)],
    ['phases.early.sparsity.tile[0]', (c) => (c.phases.early.sparsity.tile[0] = 99)],
    ['phases.late.sparsity.tile[2]', (c) => (c.phases.late.sparsity.tile[2] = 99)],
    ['phases.early.sparsity.window.tiles[1]', (c) => (c.phases.early.sparsity.window.tiles[1] = 99)],
    ['phases.middle.granularity.tile[0]', (c) => (c.phases.middle.granularity.tile[0] = 99)],
    ['phases.early.sparsity.tile (push)', (c) => c.phases.early.sparsity.tile.push(1)],
  ];
  it.each(SCHEDULE_PRESET_NAMES.flatMap((name) => mutations.map(([what, mutate]) => [name, what, mutate] as const)))(
    'mutating %s %s leaves every later preset unchanged',
    (name, _, mutate) => {
      const pristine = structuredClone(SCHEDULE_PRESET_NAMES.map((n) => schedulePreset({ name: n })));
      const victim = schedulePreset({ name }) as any;
      try {
        mutate(victim);
      } catch {
        // a frozen part may refuse the mutation: that is fine too
      }
      expect(SCHEDULE_PRESET_NAMES.map((n) => schedulePreset({ name: n }))).toEqual(pristine);
      expect(schedulePreset({ name: 'wan-720p', resolution: '720p' }).phases.early).toEqual(pristine[1]!.phases.early);
    },
  );

  it.each([
    // steps, denseSteps = Math.round(steps / 10): halves round up
    [50, 5],
    [4, 0],
    [5, 1],
    [14, 1],
    [15, 2],
    [25, 3],
    [10_000, 1000],
  ])('gives %i steps a dense warmup of %i', (steps, denseSteps) => {
    expect(schedulePreset({ name: 'wan-720p', steps }).denseSteps).toBe(denseSteps);
  });

  it.each([0, 10_001, 9e15, 1.5])('rejects steps %s (integer in [1, 10000])', (steps) => {
    expect(() => schedulePreset({ name: 'wan-720p', steps })).toThrow(/'steps'.*\[1, 10000\]/);
  });
});
