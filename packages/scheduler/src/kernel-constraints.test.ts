import { describe, expect, it } from 'vitest';
import { quantTileFits } from './_config-checks';
import { ConfigError } from './config-error';
import { parseScheduleConfig, safeParseScheduleConfig } from './parse-schedule-config';
import { schedulePreset } from './presets';

const base = schedulePreset({ name: 'wan-720p' }); // attention tile 3x5x8 in every phase
const sparse = (tile: number[], tiles = [3, 3, 5]) => ({ mode: 'sparse-bf16', sparsity: { tile, window: { kind: 'clamped', tiles } } });
const fp8 = (quant: number[], tile = [3, 5, 8]) => ({
  mode: 'fp8-sparse',
  granularity: { kind: 'tile', tile: quant },
  sparsity: { tile, window: { kind: 'clamped', tiles: [3, 3, 5] } },
});

function issuesOf(input: unknown) {
  const result = safeParseScheduleConfig(input);
  if (result.success) throw new Error('expected a ConfigError');
  expect(result.error).toBeInstanceOf(ConfigError);
  return result.error.issues;
}

describe('quantization tiles against attention tiles', () => {
  it.each([
    // quant, attention, fits: finer divides on every axis, coarser is a multiple on every axis
    [[3, 5, 8], [3, 5, 8], true],
    [[1, 5, 8], [3, 5, 8], true],
    [[1, 1, 1], [3, 5, 8], true],
    [[3, 15, 16], [3, 5, 8], true],
    [[21, 45, 80], [3, 5, 8], true],
    [[2, 5, 8], [3, 5, 8], false], // 2 neither divides 3 nor is a multiple of it
    [[3, 5, 12], [3, 5, 8], false],
    [[1, 15, 16], [3, 5, 8], false], // finer on frames, coarser on height and width: mixed
    [[3, 5, 4], [3, 10, 8], true],
    [[6, 10, 8], [3, 5, 8], true],
    [[6, 5, 4], [3, 5, 8], false],
  ])('quant tile %j with attention tile %j fits: %s', (quant, attention, fits) => {
    expect(quantTileFits(quant as unknown as [number, number, number], attention as unknown as [number, number, number])).toBe(fits);
  });

  it('accepts every Wan preset (coarse, fine and intermediate scales all line up with the blocks)', () => {
    for (const name of ['wan-480p', 'wan-720p'] as const) {
      expect(safeParseScheduleConfig(schedulePreset({ name })).success).toBe(true);
    }
  });

  it('rejects an fp8-sparse plan whose quantization tile cuts across the attention tile, naming the field', () => {
    const issues = issuesOf({ ...base, phases: { ...base.phases, middle: fp8([2, 5, 8]) } });
    expect(issues).toHaveLength(1);
    expect(issues[0]).toEqual({
      path: 'phases.middle.granularity.tile',
      value: [2, 5, 8],
      message: 'quantization tile 2x5x8 cuts across the attention tile 3x5x8 (sparsity.tile): a scale must cover whole attention blocks or whole parts of one',
      allowed: 'a tile that divides 3x5x8 on every axis (finer) or a multiple of 3x5x8 on every axis (coarser)',
    });
  });

  it('checks override plans too, and leaves fp8-dense plans and other granularities alone', () => {
    const issues = issuesOf({ ...base, overrides: [{ layers: [0], plan: fp8([1, 15, 16]) }] });
    expect(issues.map((i) => i.path)).toEqual(['overrides[0].plan.granularity.tile']);
    const ok = {
      ...base,
      phases: {
        early: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [2, 2, 2] } },
        middle: { ...fp8([3, 5, 8]), granularity: { kind: 'token' } },
        late: { ...fp8([3, 5, 8]), granularity: { kind: 'tensor' } },
      },
    };
    expect(safeParseScheduleConfig(ok).success).toBe(true);
  });
});

describe('one attention tile per layer', () => {
  it('rejects a per-head override whose attention tile differs from the layer\'s other heads', () => {
    const issues = issuesOf({ ...base, overrides: [{ layers: [2], heads: [5], plan: sparse([1, 5, 8]) }] });
    expect(issues).toEqual([
      {
        path: 'overrides[0].plan.sparsity.tile',
        value: [1, 5, 8],
        message: 'at step 5, layer 2, head 5 would run attention tile 1x5x8 while head 0 runs 3x5x8: a kernel runs one attention tile for all heads of a layer',
        allowed: "the attention tile of the layer's other heads, [3, 5, 8]",
      },
    ]);
  });

  it('accepts a different tile for whole layers, a different window per head, and dense heads next to sparse ones', () => {
    const config = {
      ...base,
      overrides: [
        { layers: [2], plan: sparse([1, 5, 8]) },
        { layers: [3], heads: [0], plan: sparse([3, 5, 8], [1, 1, 1]) },
        { layers: [4], heads: [1, 2], plan: { mode: 'dense-bf16' } },
      ],
    };
    expect(safeParseScheduleConfig(config).success).toBe(true);
  });

  it('compares heads against each other where the phase plan is dense (warmup, or a dense phase)', () => {
    const warmup = issuesOf({
      ...base,
      overrides: [
        { phases: ['warmup'], heads: [0], plan: sparse([3, 5, 8]) },
        { phases: ['warmup'], heads: [1], plan: sparse([1, 5, 8]) },
      ],
    });
    expect(warmup.map((i) => [i.path, i.message.slice(0, 40)])).toEqual([['overrides[1].plan.sparsity.tile', 'at step 0, layer 0, head 1 would run att']]);
    const densePhase = issuesOf({
      ...base,
      phases: { ...base.phases, late: { mode: 'dense-bf16' } },
      overrides: [
        { phases: ['late'], heads: [4], plan: sparse([1, 5, 8]) },
        { phases: ['late'], heads: [7], plan: sparse([3, 5, 8]) },
      ],
    });
    expect(densePhase.map((i) => i.path)).toEqual(['overrides[1].plan.sparsity.tile']);
    expect(densePhase[0]!.allowed).toBe("the attention tile of the layer's other heads, [1, 5, 8]");
  });

  it('finds a clash that only exists on some steps, in the last step range of a rule', () => {
    const issues = issuesOf({
      ...base,
      overrides: [{ heads: [3], steps: { from: 48, to: 50 }, plan: sparse([1, 5, 8]) }],
    });
    expect(issues[0]!.message).toMatch(/^at step 48, layer 0, head 3/);
  });

  it('accepts a clash that a later rule removes for every affected head', () => {
    const config = {
      ...base,
      overrides: [
        { heads: [3], plan: sparse([1, 5, 8]) },
        { heads: [3], plan: { mode: 'dense-bf16' } },
      ],
    };
    expect(parseScheduleConfig(config).overrides).toHaveLength(2);
  });

  it('reports each clashing rule once, and only the rules that clash', () => {
    const issues = issuesOf({
      ...base,
      model: { layers: 3, heads: 4, headDim: 128 },
      overrides: [
        { heads: [1], plan: sparse([1, 5, 8]) },
        { heads: [2], plan: sparse([3, 5, 8], [1, 1, 1]) },
        { layers: [1], heads: [3], plan: sparse([3, 5, 4]) },
      ],
    });
    expect(issues.map((i) => i.path)).toEqual(['overrides[0].plan.sparsity.tile', 'overrides[2].plan.sparsity.tile']);
  });

  it('runs only on configs that are otherwise valid', () => {
    const issues = issuesOf({ ...base, steps: 0, overrides: [{ heads: [3], plan: sparse([1, 5, 8]) }] });
    expect(issues.map((i) => i.path)).toEqual(['steps']);
  });
});
