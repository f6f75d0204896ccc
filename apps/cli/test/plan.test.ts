import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PICTURE_COLORS } from '../src/render/colors';
import { countColor, expectOneLineError, readPng, runCli, useTmpDir } from './helpers';

// A small schedule whose pictures can be counted by hand: grid 3x8x10, attention tiles 1x2x2 (3x4x5 = 60 tiles), a
// clamped window of 1x3x3 tiles; the centre query tile (1,2,2) sees 9 tiles of 4 tokens in frame 1.
const SMALL = {
  steps: 4,
  alpha1: 0.25,
  alpha2: 0.75,
  denseSteps: 0,
  grid: { frames: 3, height: 8, width: 10 },
  model: { layers: 2, heads: 2, headDim: 128 },
  phases: {
    early: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 2, 2] }, sparsity: { tile: [1, 2, 2], window: { kind: 'clamped', tiles: [1, 3, 3] } } },
    middle: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 1, 2] }, sparsity: { tile: [1, 2, 2], window: { kind: 'clamped', tiles: [3, 3, 3] } } },
    late: { mode: 'fp8-dense', granularity: { kind: 'token' } },
  },
};
const CELL = 32; // min(32, floor(960 / 10), floor(720 / 8))

describe('fpsattn plan', () => {
  let tmp: ReturnType<typeof useTmpDir>;
  let config: string;
  beforeAll(() => {
    tmp = useTmpDir();
    config = join(tmp.dir, 'small.json');
    writeFileSync(config, JSON.stringify(SMALL));
  });
  afterAll(() => tmp.remove());

  it('prints the step table of a preset', () => {
    const r = runCli(['plan', '--preset', 'wan-720p', '--steps', '10']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('preset wan-720p: 10 steps');
    expect(r.stdout).toMatch(/step\s+phase\s+mode\s+granularity\s+window\s+density\s+flops vs dense\s+executed vs dense/);
    expect(r.stdout).toMatch(/\n0\s+warmup\s+dense-bf16/);
    expect(r.stdout).toMatch(/\n1\s+early\s+fp8-sparse\s+tile 3x15x16\s+clamped 3x3x5 tiles of 3x5x8\s+7\.1%/);
    expect(r.stdout).toMatch(/\nmean\s/);
  });

  it('prints JSON rows for the 480p ablation presets', () => {
    const r = runCli(['plan', '--preset', 'sparse-only', '--resolution', '480p', '--steps', '20', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.config.grid).toEqual({ frames: 21, height: 30, width: 52 });
    expect(out.rows).toHaveLength(20);
    expect(out.blockRows).toBe(128);
    expect(new Set(out.rows.map((row: { mode: string }) => row.mode))).toEqual(new Set(['dense-bf16', 'sparse-bf16']));
    expect(out.mean.density).toBeGreaterThan(0);
    expect(out.mean.density).toBeLessThan(1);
    expect(out.pictures).toBeNull();
  });

  it('reads a JSON config, with --steps overriding its steps', () => {
    const r = runCli(['plan', '--config', config, '--steps', '8', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.config.steps).toBe(8);
    expect(out.rows.map((row: { phase: string }) => row.phase)).toEqual(['early', 'early', 'middle', 'middle', 'middle', 'middle', 'late', 'late']);
    expect(out.rows[0].density).toBeCloseTo(9 / 60, 10);
  });

  it('draws the grid slice, the block mask and the density chart as SVG and PNG', () => {
    const dir = join(tmp.dir, 'pictures');
    const r = runCli(['plan', '--config', config, '--out-dir', dir, '--json']);
    expect(r.code).toBe(0);
    const { pictures } = JSON.parse(r.stdout);
    expect(pictures.phase).toBe('early');
    expect(pictures.queryTile.coords).toEqual([1, 2, 2]);
    expect(pictures.frame).toBe(1);
    const byName = Object.fromEntries(pictures.files.map((f: { name: string }) => [f.name, f]));
    expect(Object.keys(byName).sort()).toEqual(['density', 'grid', 'mask']);

    // (1) grid slice: 10 x 8 tokens of 32 px plus margins; 4 query tokens, 8 window tiles of 4 tokens.
    const grid = readPng(byName.grid.png);
    expect([grid.width, grid.height]).toEqual([10 + 10 * CELL + 10, 40 + 8 * CELL + 56]);
    expect([byName.grid.width, byName.grid.height]).toEqual([grid.width, grid.height]);
    expect(pictures.grid).toMatchObject({ cell: CELL, queryTokens: 4, windowTokens: 32 });
    const windowPx = countColor(grid, PICTURE_COLORS.window);
    const queryPx = countColor(grid, PICTURE_COLORS.query);
    // Tile, group and token lines cover part of the cells; legend swatches add 144 px of each colour.
    expect(windowPx).toBeGreaterThan(0.75 * 32 * CELL * CELL);
    expect(windowPx).toBeLessThan(32 * CELL * CELL + 200);
    expect(queryPx).toBeGreaterThan(0.75 * 4 * CELL * CELL);
    expect(queryPx).toBeLessThan(4 * CELL * CELL + 200);
    expect(countColor(grid, PICTURE_COLORS.quantLine)).toBeGreaterThan(0);
    expect(countColor(grid, PICTURE_COLORS.tileLine)).toBeGreaterThan(0);

    // (2) block mask: 60 tiles of 10 px, 60 x 9 blocks filled.
    const mask = readPng(byName.mask.png);
    expect([mask.width, mask.height]).toEqual([640, 44 + 600 + 20]);
    expect(pictures.mask).toMatchObject({ numTiles: 60, nnz: 540, cell: 10 });
    const on = countColor(mask, PICTURE_COLORS.maskOn);
    expect(on).toBeGreaterThanOrEqual(540 * 100);
    expect(on).toBeLessThanOrEqual(540 * 100 * 1.01);

    // (3) density chart: one bar colour per phase present.
    const chart = readPng(byName.density.png);
    expect([chart.width, chart.height]).toEqual([800, 400]);
    expect(countColor(chart, PICTURE_COLORS.phase.early)).toBeGreaterThan(100);
    expect(countColor(chart, PICTURE_COLORS.phase.middle)).toBeGreaterThan(100);
    expect(countColor(chart, PICTURE_COLORS.phase.late)).toBeGreaterThan(100);
    expect(countColor(chart, PICTURE_COLORS.phase.warmup)).toBeLessThan(100); // no warm-up bar (text antialiasing aside)
    // The SVGs were written too, and no temporary file is left.
    expect(readdirSync(dir).sort()).toEqual(['density.png', 'density.svg', 'grid.png', 'grid.svg', 'mask.png', 'mask.svg']);
    expect(readFileSync(byName.mask.svg, 'utf8')).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg" width="640" height="664"/);
  });

  it('draws an empty window on a frame outside it', () => {
    const dir = join(tmp.dir, 'frame0');
    const r = runCli(['plan', '--config', config, '--out-dir', dir, '--frame', '0', '--json']);
    expect(r.code).toBe(0);
    const grid = readPng(join(dir, 'grid.png'));
    expect(JSON.parse(r.stdout).pictures.grid).toMatchObject({ queryTokens: 0, windowTokens: 0 });
    expect(countColor(grid, PICTURE_COLORS.window)).toBeLessThanOrEqual(144); // the legend swatch only
  });

  it.each([
    [['--preset', 'nope'], '--preset "nope" is not one of'],
    [['--steps', '0'], '--steps "0" is not an integer'],
    [['--config', '/nonexistent/schedule.json'], 'cannot read schedule config /nonexistent/schedule.json'],
    [['--preset', 'wan-720p', '--resolution', '480p'], 'preset wan-720p fixes its resolution'],
    [['--query-tile', '9,9,9', '--out-dir', '/tmp/never-written'], '--query-tile 9x9x9 is outside'],
    [['--layer', '99'], '--layer "99" is not an integer in [0, 29]'],
  ])('exits 2 with one line for %j', (args, message) => {
    const r = runCli(['plan', ...args]);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r, 'plan')).toContain(message);
  });

  it('exits 2 naming every problem of an invalid config in one line', () => {
    const bad = join(tmp.dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ ...SMALL, alpha1: 0.9, alpha2: 0.5, steps: -1 }));
    const r = runCli(['plan', '--config', bad]);
    expect(r.code).toBe(2);
    const line = expectOneLineError(r, 'plan');
    expect(line).toContain('alpha1');
    expect(line).toContain('steps');
    expect(line).toContain('[FPSATTN_CONFIG_INVALID]');
  });

  it('exits 2 for a config that is not JSON', () => {
    const bad = join(tmp.dir, 'broken.json');
    writeFileSync(bad, '{ "steps": ');
    const r = runCli(['plan', '--config', bad]);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r, 'plan')).toContain('is not valid JSON');
  });
});
