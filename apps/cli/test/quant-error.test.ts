import { join } from 'node:path';
import { writeSafetensors } from '@fpsattn/wan';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PICTURE_COLORS } from '../src/render/colors';
import { countColor, expectOneLineError, readPng, runCli, useTmpDir } from './helpers';

interface Row {
  granularity: string;
  scales: number;
  relativeL2: number;
  cosine: number;
  snrDb: number;
}

describe('fpsattn quant-error', () => {
  let tmp: ReturnType<typeof useTmpDir>;
  let file: string;
  beforeAll(async () => {
    tmp = useTmpDir();
    file = join(tmp.dir, 'k.safetensors');
    // [1, 24 tokens, 2 heads x 64]: a 2x3x4 grid.
    const data = Float32Array.from({ length: 24 * 128 }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 128 === 3 ? 20 : 0)));
    await writeSafetensors({ path: file, tensors: { k: { dtype: 'F32', shape: [1, 24, 128], data } } });
  });
  afterAll(() => tmp.remove());

  it('prints a table of every granularity on random inputs', () => {
    const r = runCli(['quant-error']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('random N(0, 1), grid 6x10x16, 2 heads x 128');
    for (const g of ['tensor', 'token', 'tile 1x5x8', 'tile 3x5x8', 'tile 3x10x16']) expect(r.stdout).toMatch(new RegExp(`\\n${g}\\s+\\d`));
  });

  it('counts scales per granularity (one per head) and orders fidelity on K-like outliers', () => {
    const r = runCli(['quant-error', '--input', 'outlier', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const rows: Record<string, Row> = Object.fromEntries(out.rows.map((row: Row) => [row.granularity, row]));
    expect(rows.tensor?.scales).toBe(2);
    expect(rows.token?.scales).toBe(960 * 2);
    expect(rows['tile 1x5x8']?.scales).toBe(6 * 2 * 2 * 2); // 6x2x2 tiles of the 6x10x16 grid, 2 heads
    expect(rows['tile 3x10x16']?.scales).toBe(2 * 1 * 1 * 2);
    for (const row of out.rows as Row[]) {
      expect(row.cosine).toBeGreaterThan(0.999);
      expect(row.relativeL2).toBeLessThan(0.05);
    }
    // Finer groups never lose to the whole tensor: token >= small tiles >= tensor (SNR in dB).
    expect(rows.token!.snrDb).toBeGreaterThan(rows.tensor!.snrDb);
    expect(rows['tile 1x5x8']!.snrDb).toBeGreaterThanOrEqual(rows.tensor!.snrDb);
  });

  it('reads a supplied safetensors tensor on its grid', () => {
    const r = runCli(['quant-error', '--input', file, '--tensor', 'k', '--grid', '2x3x4', '--head-dim', '64', '--tiles', '1x3x4,2x1x2', '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.tokens).toBe(24);
    expect(out.cols).toBe(128);
    expect(out.rows.map((row: Row) => row.granularity)).toEqual(['tensor', 'token', 'tile 1x3x4', 'tile 2x1x2']);
    expect(out.rows[2].scales).toBe(2 * 2);
  });

  it('draws a chart of SNR per granularity', () => {
    const dir = join(tmp.dir, 'chart');
    const r = runCli(['quant-error', '--input', 'outlier', '--out-dir', dir, '--json']);
    expect(r.code).toBe(0);
    const png = readPng(join(dir, 'quant-error.png'));
    expect([png.width, png.height]).toEqual([800, 400]);
    // Five bars of the bar colour, each at least a few pixels wide and tall.
    expect(countColor(png, PICTURE_COLORS.bar)).toBeGreaterThan(5 * 50 * 50);
  });

  it.each([
    [['--input', 'gaussian'], '--input "gaussian" is not random, outlier or a .safetensors file'],
    [['--tiles', '3x5'], '--tiles "3x5" is not three positive integers'],
    [['--format', 'e3m4'], '--format "e3m4" is not one of e4m3, e5m2'],
    [['--input', '/nonexistent/k.safetensors'], 'cannot open /nonexistent/k.safetensors as safetensors'],
  ])('exits 2 with one line for %j', (args, message) => {
    const r = runCli(['quant-error', ...args]);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r, 'quant-error')).toContain(message);
  });

  it('exits 2 when the grid does not hold the tensor\'s tokens, or the tensor is missing', () => {
    const wrongGrid = runCli(['quant-error', '--input', file, '--grid', '2x2x2', '--head-dim', '64']);
    expect(wrongGrid.code).toBe(2);
    expect(expectOneLineError(wrongGrid, 'quant-error')).toContain('holds 8 tokens, tensor k 24');
    const missing = runCli(['quant-error', '--input', file, '--tensor', 'q']);
    expect(missing.code).toBe(2);
    expect(expectOneLineError(missing, 'quant-error')).toContain('holds no tensor "q"');
  });
});
