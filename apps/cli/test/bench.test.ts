import { join } from 'node:path';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attentionChart, ditChart } from '../src/commands/bench';
import { PICTURE_COLORS } from '../src/render/colors';
import { renderPng } from '../src/render/svg';
import { countColor, expectOneLineError, readPng, runCli, useTmpDir } from './helpers';

const attentionRow = (batch: number, mode: 'dense-bf16' | 'sparse-bf16' | 'fp8-dense' | 'fp8-sparse', composedMs: number, kernelMs: number) => ({
  batch,
  mode,
  dtype: mode.startsWith('fp8') ? ('e4m3' as const) : ('bf16' as const),
  kScales: null,
  density: mode.includes('sparse') ? 0.2 : 1,
  kernelMs,
  composedMs,
  overhead: composedMs / kernelMs - 1,
  speedup: 40 / composedMs,
  kernelTflops: 500,
  composedTflops: 450,
});

describe('fpsattn bench', () => {
  let tmp: ReturnType<typeof useTmpDir>;
  beforeAll(() => {
    tmp = useTmpDir();
  });
  afterAll(() => tmp.remove());

  it.each([['attention'], ['dit']])('bench %s without a GPU: exits 1 with why and the fix', (kind) => {
    // FPSATTN_BACKEND=auto: on a machine without a usable CUDA device the doctor's fallback reason is the why.
    const r = runCli(['bench', kind, '--shape', 'wan-1.3b-720p', '--out-dir', join(tmp.dir, 'none')], { env: { FPSATTN_BACKEND: 'auto' } });
    if (r.code === 0) return; // a GPU machine: the benchmark ran
    expect(r.code).toBe(1);
    const line = expectOneLineError(r, 'bench');
    expect(line).toMatch(/cannot benchmark without a GPU: no CUDA backend here \(.+\) \(fix: .+; or pass --dry-run/);
  });

  it('bench with FPSATTN_BACKEND=cpu: exits 1 naming the variable', () => {
    const r = runCli(['bench', 'attention']);
    expect(r.code).toBe(1);
    expect(expectOneLineError(r, 'bench')).toContain('FPSATTN_BACKEND=cpu forces the CPU backend (fix: unset FPSATTN_BACKEND');
  });

  it.each([
    [['attention', '--shape', 'wan-2b-720p'], '--shape "wan-2b-720p" is not one of wan-1.3b-480p, wan-1.3b-720p, wan-14b-720p, tiny or a token grid TxHxW'],
    [['attention', '--shape', '21x45'], '--shape "21x45" is not one of'],
    [['attention', '--shape', '21x45x80', '--model', 'wan-7b'], '--model "wan-7b" is not one of wan-1.3b, wan-14b, wan-tiny'],
    [['attention', '--batch', '0'], '--batch "0" is not an integer in [1, 64]'],
    [['attention', '--modes', 'fp4'], '--modes "fp4" is not one of dense-bf16, sparse-bf16, fp8-dense, fp8-sparse'],
    [['attention', '--reps', 'x'], '--reps "x" is not an integer'],
    [['attention', '--window', '5x5'], '--window "5x5" is not three positive integers'],
    [['attention', '--quant-tile', '1x0x8'], '--quant-tile "1x0x8" is not three positive integers'],
    [['dit', '--presets', 'dense,wan-1080p'], '--presets "wan-1080p" is not one of wan-480p, wan-720p, dense, fp8-only, sparse-only'],
    [['dit', '--steps', '0'], '--steps "0" is not an integer in [1, 10000]'],
    [['dit', '--bogus'], "unknown option '--bogus'"],
    [['dit', '--sampler', 'device'], '--sampler chooses the loop that --sample runs (fix: pass --sample --sampler device)'],
    [['dit', '--sample', '--sampler', 'gpu'], '--sampler "gpu" is not one of host, device'],
    [['dit', '--device-sampler'], "unknown option '--device-sampler'"],
  ])('exits 2 with one line for %j', (args, message) => {
    const r = runCli(['bench', ...args]);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r, 'bench')).toContain(message);
  });

  it('bench attention --dry-run runs the whole path on the CPU: table, JSON and chart', () => {
    const dir = join(tmp.dir, 'attention');
    const r = runCli(['bench', 'attention', '--dry-run', '--batch', '1', '--reps', '1', '--json', '--out-dir', dir]);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ shape: 'tiny', grid: [3, 8, 10], heads: 2, dryRun: true, window: [1, 1, 1] });
    expect(out.results.map((x: { mode: string }) => x.mode)).toEqual(['dense-bf16', 'sparse-bf16', 'fp8-dense', 'fp8-sparse']);
    for (const x of out.results) {
      expect(x.density).toBeGreaterThan(0);
      expect(x.density).toBeLessThanOrEqual(1);
      expect(x.composedMs).toBeGreaterThan(0);
    }
    expect(out.results[0].speedup).toBe(1);
    const png = readPng(join(dir, 'bench-attention.png'));
    expect([png.width, png.height]).toEqual([900, 420]);
  });

  it('bench attention --quant-tile quantizes Q/K in finer groups than the attention tile: per-row K scales', () => {
    const run = (extra: string[]) => {
      const r = runCli(['bench', 'attention', '--dry-run', '--batch', '1', '--reps', '1', '--modes', 'fp8-sparse', '--tile', '1x4x5', '--window', '1x1x1', '--json', ...extra]);
      expect(r.code, r.stderr).toBe(0);
      return JSON.parse(r.stdout);
    };
    // One group per tile: every key block's real rows share a scale (per-block path); half tiles: per row.
    expect(run([])).toMatchObject({ tile: [1, 4, 5], quantTile: [1, 4, 5], results: [{ mode: 'fp8-sparse', kScales: 'per-block' }] });
    expect(run(['--quant-tile', '1x2x5'])).toMatchObject({ tile: [1, 4, 5], quantTile: [1, 2, 5], results: [{ mode: 'fp8-sparse', kScales: 'per-row' }] });
  });

  it('bench dit --dry-run runs the whole path on the CPU', () => {
    const r = runCli(['bench', 'dit', '--dry-run', '--presets', 'dense,wan-480p', '--steps', '2', '--reps', '1', '--profile', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    // --profile: one more forward per plan set, its parts summing to a positive time that includes self-attention
    const profile = out.results[0].phases[0].profileMs;
    expect(Object.keys(profile)).toEqual(expect.arrayContaining(['self-attention', 'projections', 'ffn', 'norms', 'cross-attention', 'head']));
    expect(Object.values(profile).every((v) => typeof v === 'number' && v >= 0)).toBe(true);
    expect(out).toMatchObject({ shape: 'tiny', config: 'wan-tiny', latentShape: [16, 3, 16, 20], steps: 2 });
    expect(out.results.map((x: { preset: string }) => x.preset)).toEqual(['dense', 'wan-480p']);
    expect(out.results[0].speedup).toBe(1);
    expect(out.results[1].phases.length).toBeGreaterThan(0);
  });

  it('bench dit --sample runs each preset\'s whole sampling loop: one time per step, and without --sample none', () => {
    const r = runCli(['bench', 'dit', '--dry-run', '--presets', 'dense,wan-480p', '--steps', '3', '--reps', '1', '--sample', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    for (const row of out.results) {
      expect(row.measured.stepMs).toHaveLength(3);
      expect(row.measured.stepMs.every((ms: number) => ms > 0)).toBe(true);
      // the loop's wall time holds its steps
      expect(row.measured.seconds * 1000).toBeGreaterThanOrEqual(row.measured.stepMs.reduce((a: number, b: number) => a + b, 0) * 0.999);
    }
    const plain = JSON.parse(runCli(['bench', 'dit', '--dry-run', '--presets', 'dense', '--steps', '2', '--reps', '1', '--json']).stdout);
    expect(plain.results[0].measured).toBeUndefined();
  });

  it('bench dit --sample --sampler device runs the device-resident loop on the CPU backend (--dry-run); the CPU default is host', () => {
    const r = runCli(['bench', 'dit', '--dry-run', '--presets', 'dense', '--steps', '3', '--reps', '1', '--sample', '--sampler', 'device', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const row = JSON.parse(r.stdout).results[0];
    expect(row.measured.sampler).toBe('device');
    expect(row.measured.stepMs).toHaveLength(3);
    // No --sampler: the CPU backend's default, the host sampler (CUDA's is device: bench dit without --dry-run needs a GPU).
    const fallback = JSON.parse(runCli(['bench', 'dit', '--dry-run', '--presets', 'dense', '--steps', '2', '--reps', '1', '--sample', '--json']).stdout);
    expect(fallback.results[0].measured.sampler).toBe('host');
    const host = runCli(['bench', 'dit', '--dry-run', '--presets', 'dense', '--steps', '2', '--reps', '1', '--sample', '--sampler', 'host']);
    expect(host.code, host.stderr).toBe(0);
    expect(host.stdout).toMatch(/sample dense: [\d.]+ s measured over 2 steps, host sampler \(estimate/);
  });

  it('draws the attention chart: a PNG of the expected size with a bar per mode and series', () => {
    const rows = [attentionRow(1, 'dense-bf16', 40, 38), attentionRow(1, 'sparse-bf16', 10, 9), attentionRow(1, 'fp8-dense', 25, 23), attentionRow(1, 'fp8-sparse', 6, 5)];
    const picture = attentionChart({ title: 'synthetic', rows });
    const png = PNG.sync.read(Buffer.from(renderPng(picture.svg)));
    expect([png.width, png.height]).toEqual([900, 420]);
    // Bars scale with the time: the composed bars (blue) hold 40 + 10 + 25 + 6 units, the kernel bars (grey) 38 + 9 + 23 + 5.
    const blue = countColor(png, PICTURE_COLORS.bench.composed) - 144; // minus the legend swatch (12x12)
    const grey = countColor(png, PICTURE_COLORS.bench.kernel) - 144;
    expect(blue).toBeGreaterThan(4 * 20 * 5);
    expect(blue / grey).toBeCloseTo(81 / 75, 1);
    expect(picture.svg).toContain('x1.00');
    expect(picture.svg).toContain('x6.67'); // 40 / 6 ms
  });

  it('draws the DiT chart with the speed-up of each preset', () => {
    const phase = { steps: 50, firstStep: 0, modes: 'dense-bf16', forwardMs: 1000 };
    const rows = [
      { preset: 'dense' as const, steps: 50, sampleSeconds: 50, speedup: 1, phases: [phase], peakBytes: null },
      { preset: 'wan-480p' as const, steps: 50, sampleSeconds: 20, speedup: 2.5, phases: [phase], peakBytes: null },
    ];
    const picture = ditChart({ title: 'synthetic', rows });
    const png = PNG.sync.read(Buffer.from(renderPng(picture.svg)));
    expect([png.width, png.height]).toEqual([900, 420]);
    expect(countColor(png, PICTURE_COLORS.bench.composed)).toBeGreaterThan(2 * 50 * 50);
    expect(picture.svg).toContain('x2.50');
  });
});
