// Every message a config can produce, word for word: they are the interface of a config file's author (the CLI prints
// them), so a changed path, value, message or allowed list is a visible change and must show up here.
import { describe, expect, it } from 'vitest';
import { formatConfigIssue } from './config-error';
import { safeParseOverrideTable } from './parse-override-table';
import { safeParseScheduleConfig } from './parse-schedule-config';
import { schedulePreset } from './presets';

const base = schedulePreset({ name: 'wan-720p', steps: 20 });
const messagesOf = (input: unknown): string[] => {
  const result = safeParseScheduleConfig(input);
  return result.success ? [] : result.error.issues.map(formatConfigIssue);
};
const sparse = (tile: unknown, window: unknown) => ({ mode: 'sparse-bf16', sparsity: { tile, window } });

describe('config messages', () => {
  it('top-level fields', () => {
    expect(messagesOf(null)).toMatchInlineSnapshot(`
      [
        "(root) = null: expected a schedule config object (allowed: an object with fields 'extends', 'steps', 'alpha1', 'alpha2', 'denseSteps', 'grid', 'model', 'phases', 'overrides')",
      ]
    `);
    expect(messagesOf({ ...base, steps: 'x', alpha1: Number.NaN, alpha2: 1.5, denseSteps: -1, bogus: 1 })).toMatchInlineSnapshot(`
      [
        "bogus = 1: unknown field 'bogus' (allowed: fields 'extends', 'steps', 'alpha1', 'alpha2', 'denseSteps', 'grid', 'model', 'phases', 'overrides')",
        "steps = "x": expected an integer (allowed: an integer in [1, 10000])",
        "alpha1 = NaN: expected a finite number (allowed: a number in [0, 1])",
        "alpha2 = 1.5: must be a fraction of the steps (allowed: a number in [0, 1])",
        "denseSteps = -1: out of range (allowed: an integer in [0, 10000])",
      ]
    `);
    expect(messagesOf({ ...base, alpha1: 0.9, alpha2: 0.5 })).toMatchInlineSnapshot(`
      [
        "alpha1 = 0.9: alpha1 must not exceed alpha2 (0.5) (allowed: a number in [0, alpha2 = 0.5])",
      ]
    `);
    expect(messagesOf({ extends: 'wan-1080p' })).toMatchInlineSnapshot(`
      [
        "extends = "wan-1080p": unknown preset (allowed: 'wan-480p', 'wan-720p', 'dense', 'fp8-only', 'sparse-only')",
        "steps = undefined: expected an integer (allowed: an integer in [1, 10000])",
        "alpha1 = undefined: expected a finite number (allowed: a number in [0, 1])",
        "alpha2 = undefined: expected a finite number (allowed: a number in [0, 1])",
        "grid = undefined: expected a token grid as [t, h, w] or { frames, height, width } (allowed: [t, h, w] or { frames, height, width } with three positive integers)",
        "phases = undefined: expected the three phase plans { early, middle, late } (allowed: an object with fields 'early', 'middle', 'late')",
      ]
    `);
    expect(messagesOf({ extends: 7, steps: 10 })).toMatchInlineSnapshot(`
      [
        "extends = 7: unknown preset (allowed: 'wan-480p', 'wan-720p', 'dense', 'fp8-only', 'sparse-only')",
        "alpha1 = undefined: expected a finite number (allowed: a number in [0, 1])",
        "alpha2 = undefined: expected a finite number (allowed: a number in [0, 1])",
        "grid = undefined: expected a token grid as [t, h, w] or { frames, height, width } (allowed: [t, h, w] or { frames, height, width } with three positive integers)",
        "phases = undefined: expected the three phase plans { early, middle, late } (allowed: an object with fields 'early', 'middle', 'late')",
      ]
    `);
    expect(messagesOf({ ...base, phases: { early: base.phases.early } })).toMatchInlineSnapshot(`
      [
        "phases.middle = undefined: missing the middle plan (allowed: an attention plan)",
        "phases.late = undefined: missing the late plan (allowed: an attention plan)",
      ]
    `);
    expect(messagesOf({ ...base, phases: 3 })).toMatchInlineSnapshot(`
      [
        "phases = 3: expected the three phase plans { early, middle, late } (allowed: an object with fields 'early', 'middle', 'late')",
      ]
    `);
  });

  it('grid and model', () => {
    expect(messagesOf({ ...base, grid: [21, 45] })).toMatchInlineSnapshot(`
      [
        "grid = [21,45]: expected a token grid as [t, h, w] or { frames, height, width } (allowed: [t, h, w] or { frames, height, width } with three positive integers)",
      ]
    `);
    expect(messagesOf({ ...base, grid: { frames: 0, height: 2.5, width: 'w', depth: 1 } })).toMatchInlineSnapshot(`
      [
        "grid.depth = 1: unknown field 'depth' (allowed: fields 'frames', 'height', 'width')",
        "grid.frames = 0: out of range (allowed: an integer in [1, 2147483647])",
        "grid.height = 2.5: expected an integer (allowed: an integer in [1, 2147483647])",
        "grid.width = "w": expected an integer (allowed: an integer in [1, 2147483647])",
      ]
    `);
    expect(messagesOf({ ...base, grid: [2000, 2000, 2000], phases: { early: { mode: 'dense-bf16' }, middle: { mode: 'dense-bf16' }, late: { mode: 'dense-bf16' } } })).toMatchInlineSnapshot(`
      [
        "grid = [2000,2000,2000]: 8000000000 tokens (frames x height x width) do not fit Int32 index arrays (allowed: at most 2147483647 tokens (2^31 - 1))",
      ]
    `);
    expect(messagesOf({ ...base, model: { layers: 0, heads: 5000, headDim: 2048 } })).toMatchInlineSnapshot(`
      [
        "model.layers = 0: out of range (allowed: an integer in [1, 4096])",
        "model.heads = 5000: out of range (allowed: an integer in [1, 4096])",
        "model.headDim = 2048: out of range (allowed: an integer in [1, 1024])",
      ]
    `);
    expect(messagesOf({ ...base, model: 'wan' })).toMatchInlineSnapshot(`
      [
        "model = "wan": expected model sizes (allowed: an object with fields 'layers', 'heads', 'headDim')",
      ]
    `);
  });

  it('plans, granularities, sparsity and windows', () => {
    const phases = (early: unknown) => ({ ...base, phases: { ...base.phases, early } });
    expect(messagesOf(phases('fp8'))).toMatchInlineSnapshot(`
      [
        "phases.early = "fp8": expected an attention plan object (allowed: { mode: 'dense-bf16', 'fp8-dense', 'sparse-bf16', 'fp8-sparse' })",
      ]
    `);
    expect(messagesOf(phases({ mode: 'fp4' }))).toMatchInlineSnapshot(`
      [
        "phases.early.mode = "fp4": unknown attention mode (allowed: 'dense-bf16', 'fp8-dense', 'sparse-bf16', 'fp8-sparse')",
      ]
    `);
    expect(messagesOf(phases({ mode: 'dense-bf16', granularity: { kind: 'token' } }))).toMatchInlineSnapshot(`
      [
        "phases.early.granularity = {"kind":"token"}: field 'granularity' is not allowed for mode 'dense-bf16' (allowed: fields 'mode')",
      ]
    `);
    expect(messagesOf(phases({ mode: 'fp8-dense', granularity: 'tile' }))).toMatchInlineSnapshot(`
      [
        "phases.early.granularity = "tile": expected a granularity object (allowed: { kind: 'tensor', 'token', 'tile' })",
      ]
    `);
    expect(messagesOf(phases({ mode: 'fp8-dense', granularity: { kind: 'per-tensor' } }))).toMatchInlineSnapshot(`
      [
        "phases.early.granularity.kind = "per-tensor": granularity kind 'per-tensor' was renamed: use 'tensor' (allowed: 'tensor', 'token', 'tile')",
      ]
    `);
    expect(messagesOf(phases({ mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 2] } }))).toMatchInlineSnapshot(`
      [
        "phases.early.granularity.tile = [1,2]: expected a quantization tile as [t, h, w] or { frames, height, width } (allowed: [t, h, w] or { frames, height, width } with three positive integers)",
      ]
    `);
    expect(messagesOf(phases({ mode: 'fp8-dense', granularity: { kind: 'token', tile: [1, 2, 3] } }))).toMatchInlineSnapshot(`
      [
        "phases.early.granularity.tile = [1,2,3]: unknown field 'tile' (allowed: fields 'kind')",
      ]
    `);
    expect(messagesOf(phases({ mode: 'fp8-dense', granularity: { kind: 'blocks' } }))).toMatchInlineSnapshot(`
      [
        "phases.early.granularity.kind = "blocks": unknown granularity kind (allowed: 'tensor', 'token', 'tile')",
      ]
    `);
    expect(messagesOf(phases({ mode: 'sparse-bf16', sparsity: 'wide' }))).toMatchInlineSnapshot(`
      [
        "phases.early.sparsity = "wide": expected a sparsity object (allowed: an object with fields 'tile', 'window')",
      ]
    `);
    expect(messagesOf(phases(sparse([3, 5, 8], 'clamped')))).toMatchInlineSnapshot(`
      [
        "phases.early.sparsity.window = "clamped": expected a window object (allowed: { kind: 'seed', 'clamped' })",
      ]
    `);
    expect(messagesOf(phases(sparse([3, 5, 8], { kind: 'radial' })))).toMatchInlineSnapshot(`
      [
        "phases.early.sparsity.window.kind = "radial": unknown window kind (allowed: 'seed', 'clamped')",
      ]
    `);
    expect(messagesOf(phases(sparse([3, 5, 8], { kind: 'seed', tokens: [22, 45, 81], tiles: [1, 1, 1] })))).toMatchInlineSnapshot(`
      [
        "phases.early.sparsity.window.tiles = [1,1,1]: unknown field 'tiles' (allowed: fields 'kind', 'tokens')",
        "phases.early.sparsity.window.tokens[0] = 22: window is larger than the grid (frames = 21 tokens) (allowed: an integer in [1, 21])",
        "phases.early.sparsity.window.tokens[2] = 81: window is larger than the grid (width = 80 tokens) (allowed: an integer in [1, 80])",
      ]
    `);
    expect(messagesOf(phases(sparse([3, 5, 8], { kind: 'clamped', tiles: { frames: 8, height: 10, width: 11 } })))).toMatchInlineSnapshot(`
      [
        "phases.early.sparsity.window.tiles[0] = 8: window is larger than the grid (frames: 7 tiles of 3) (allowed: an integer in [1, 7])",
        "phases.early.sparsity.window.tiles[1] = 10: window is larger than the grid (height: 9 tiles of 5) (allowed: an integer in [1, 9])",
        "phases.early.sparsity.window.tiles[2] = 11: window is larger than the grid (width: 10 tiles of 8) (allowed: an integer in [1, 10])",
      ]
    `);
    expect(messagesOf(phases(sparse([1, 1, 1], { kind: 'clamped', tiles: [21, 45, 80] })))).toMatchInlineSnapshot(`
      [
        "phases.early.sparsity = {"tile":[1,1,1],"window":{"kind":"clamped","tiles":[21,45,80]}}: the block mask would hold 5715360000 key tiles (tiles x window tiles), more than 2^31-1: use larger tiles or a smaller window (allowed: at most 2147483647 key tiles per mask)",
      ]
    `);
    expect(messagesOf(phases({ ...sparse([3, 5, 8], { kind: 'clamped', tiles: [1, 1, 1] }), mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [2, 5, 8] } }))).toMatchInlineSnapshot(`
      [
        "phases.early.granularity.tile = [2,5,8]: quantization tile 2x5x8 cuts across the attention tile 3x5x8 (sparsity.tile): a scale must cover whole attention blocks or whole parts of one (allowed: a tile that divides 3x5x8 on every axis (finer) or a multiple of 3x5x8 on every axis (coarser))",
      ]
    `);
  });

  it('override rules', () => {
    const overrides = (rules: unknown) => messagesOf({ ...base, overrides: rules });
    expect(overrides({})).toMatchInlineSnapshot(`
      [
        "overrides = {}: expected an array of override rules (allowed: an array of { layers?, heads?, phases?, steps?, plan })",
      ]
    `);
    expect(overrides([7])).toMatchInlineSnapshot(`
      [
        "overrides[0] = 7: expected an override rule (allowed: an object with fields 'layers', 'heads', 'phases', 'steps', 'plan')",
      ]
    `);
    expect(overrides([{ layers: [], heads: 'all', plan: { mode: 'dense-bf16' } }])).toMatchInlineSnapshot(`
      [
        "overrides[0].layers = []: expected a non-empty array of layer indices (allowed: integers in [0, 29])",
        "overrides[0].heads = "all": expected a non-empty array of head indices (allowed: integers in [0, 11])",
      ]
    `);
    expect(overrides([{ layers: [30, -1, 0.5], heads: [12], plan: { mode: 'dense-bf16' } }])).toMatchInlineSnapshot(`
      [
        "overrides[0].layers[0] = 30: out of range (allowed: an integer in [0, 29])",
        "overrides[0].layers[1] = -1: out of range (allowed: an integer in [0, 29])",
        "overrides[0].layers[2] = 0.5: expected an integer (allowed: an integer in [0, 29])",
        "overrides[0].heads[0] = 12: out of range (allowed: an integer in [0, 11])",
      ]
    `);
    expect(overrides([{ phases: [], plan: { mode: 'dense-bf16' } }, { phases: 'late', plan: { mode: 'dense-bf16' } }])).toMatchInlineSnapshot(`
      [
        "overrides[0].phases = []: expected a non-empty array of phase names (allowed: 'warmup', 'early', 'middle', 'late')",
        "overrides[1].phases = "late": expected a non-empty array of phase names (allowed: 'warmup', 'early', 'middle', 'late')",
      ]
    `);
    expect(overrides([{ phases: ['late', 'final'], plan: { mode: 'dense-bf16' } }])).toMatchInlineSnapshot(`
      [
        "overrides[0].phases[1] = "final": unknown phase (allowed: 'warmup', 'early', 'middle', 'late')",
      ]
    `);
    expect(overrides([{ steps: [1, 2], plan: { mode: 'dense-bf16' } }])).toMatchInlineSnapshot(`
      [
        "overrides[0].steps = [1,2]: expected a step range { from, to } (allowed: an object with fields 'from', 'to')",
      ]
    `);
    expect(overrides([{ steps: { from: -1, to: 21 }, plan: { mode: 'dense-bf16' } }])).toMatchInlineSnapshot(`
      [
        "overrides[0].steps.from = -1: out of range (allowed: an integer in [0, 19])",
        "overrides[0].steps.to = 21: out of range (allowed: an integer in [1, 20])",
      ]
    `);
    expect(overrides([{ steps: { from: 8, to: 3 }, plan: { mode: 'dense-bf16' } }])).toMatchInlineSnapshot(`
      [
        "overrides[0].steps = {"from":8,"to":3}: empty step range (from 8 >= to 3) (allowed: from < to (half-open [from, to)))",
      ]
    `);
    expect(overrides([{ steps: { from: 0, to: 20, every: 2 }, plan: { mode: 'dense-bf16' } }])).toMatchInlineSnapshot(`
      [
        "overrides[0].steps.every = 2: unknown field 'every' (allowed: fields 'from', 'to')",
      ]
    `);
    expect(overrides([{ layers: [1] }])).toMatchInlineSnapshot(`
      [
        "overrides[0].plan = undefined: missing plan (allowed: an attention plan)",
      ]
    `);
    expect(overrides([{ heads: [2], plan: sparse([1, 5, 8], { kind: 'clamped', tiles: [3, 3, 5] }) }])).toMatchInlineSnapshot(`
      [
        "overrides[0].plan.sparsity.tile = [1,5,8]: at step 2, layer 0, head 2 would run attention tile 1x5x8 while head 0 runs 3x5x8: a kernel runs one attention tile for all heads of a layer (allowed: the attention tile of the layer's other heads, [3, 5, 8])",
      ]
    `);
  });

  it('standalone override tables', () => {
    const table = (input: unknown, context = {}) => {
      const result = safeParseOverrideTable({ table: input, ...context });
      return result.success ? [] : [result.error.message];
    };
    expect(table({ overrides: [], extra: 1 })).toMatchInlineSnapshot(`
      [
        "Invalid override table (1 problem):
        - extra = 1: unknown field 'extra' (allowed: fields 'overrides')",
      ]
    `);
    expect(table([{ layers: [4096], steps: { from: 0, to: 10_001 }, plan: { mode: 'dense-bf16' } }])).toMatchInlineSnapshot(`
      [
        "Invalid override table (2 problems):
        - [0].layers[0] = 4096: out of range (allowed: an integer in [0, 4095])
        - [0].steps.to = 10001: out of range (allowed: an integer in [1, 10000])",
      ]
    `);
    expect(table([{ plan: sparse([3, 5, 8], { kind: 'seed', tokens: [4, 4, 4] }) }], { grid: [3, 3, 3] })).toMatchInlineSnapshot(`
      [
        "Invalid override table (3 problems):
        - [0].plan.sparsity.window.tokens[0] = 4: window is larger than the grid (frames = 3 tokens) (allowed: an integer in [1, 3])
        - [0].plan.sparsity.window.tokens[1] = 4: window is larger than the grid (height = 3 tokens) (allowed: an integer in [1, 3])
        - [0].plan.sparsity.window.tokens[2] = 4: window is larger than the grid (width = 3 tokens) (allowed: an integer in [1, 3])",
      ]
    `);
  });
});
