import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { CLI, expectOneLineError, runCli, type CliResult } from './helpers';

// The demo samples the tiny model twice: seconds alone, more under a full parallel `npm test`; allow three minutes.
const DEMO_TIMEOUT_MS = 180_000;
function runDemo(args: readonly string[]): CliResult {
  const r = spawnSync(process.execPath, [CLI, 'demo', ...args], { encoding: 'utf8', env: { ...process.env, FPSATTN_BACKEND: 'cpu', NO_COLOR: '1' }, timeout: DEMO_TIMEOUT_MS });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('fpsattn demo', () => {
  it('runs every section and reports speed, density and fidelity as JSON', () => {
    const r = runDemo(['--steps', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    for (const s of ['backend', 'schedule', 'blockMask', 'quantization', 'attention', 'dit']) expect(out).toHaveProperty(s);
    expect(out.backend.name).toBe('cpu');
    expect(out.schedule.rows).toHaveLength(2);
    const inUnit = (d: number) => {
      expect(d).toBeGreaterThan(0);
      expect(d).toBeLessThanOrEqual(1);
    };
    for (const row of out.schedule.rows) inUnit(row.density);
    inUnit(out.blockMask.density);
    expect(out.quantization.rows.map((q: { tensor: string }) => q.tensor)).toEqual(['Q', 'K (smoothed)', 'V']);
    for (const q of out.quantization.rows) {
      expect(q.relativeL2).toBeLessThan(0.05);
      expect(q.cosine).toBeGreaterThan(0.999);
    }
    expect(out.attention.rows.map((a: { mode: string }) => a.mode)).toEqual(['dense-bf16', 'sparse-bf16', 'fp8-dense', 'fp8-sparse']);
    for (const a of out.attention.rows) {
      inUnit(a.density);
      expect(a.relL2SameQuantization).toBeLessThan(0.02);
    }
    expect(out.attention.rows[1].density).toBeLessThan(1);
    const dit = out.dit;
    expect(dit.steps).toBe(2);
    expect(dit.latentShape).toEqual([16, 3, 16, 20]);
    expect(dit.runs.map((x: { run: string }) => x.run)).toEqual(['dense', 'FPSAttention']);
    for (const run of dit.runs) {
      inUnit(run.density);
      expect(run.totalSeconds).toBeGreaterThan(0);
      expect(Number.isFinite(run.msPerStepMedian)).toBe(true);
      expect(run.sampler).toBe('host'); // the CPU backend's loop (CUDA: 'device')
    }
    expect(dit.runs[0].density).toBe(1);
    expect(dit.runs[1].density).toBeLessThan(1);
    inUnit(dit.sparseStepDensity);
    // the speed-up compares median step times (the first run's total also pays one-time setup)
    expect(dit.speedup).toBeCloseTo(dit.runs[0].msPerStepMedian / dit.runs[1].msPerStepMedian, 10);
    expect(Number.isFinite(dit.fidelity.relativeL2)).toBe(true);
    expect(dit.fidelity.relativeL2).toBeLessThan(0.05);
    expect(dit.fidelity.cosine).toBeGreaterThan(0.999);
  }, DEMO_TIMEOUT_MS + 10_000);

  it('prints one summary line with --quiet', () => {
    const r = runDemo(['--steps', '2', '--quiet']);
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^wan-tiny on cpu, 2 steps: median step dense [0-9.]+ ms, FPSAttention [0-9.]+ ms \(x[0-9.]+\), density .*%.*fidelity rel L2 .*, cosine 0\.9/);
  }, DEMO_TIMEOUT_MS + 10_000);

  it.each([['0'], ['two']])('exits 2 for --steps %s', (steps) => {
    const r = runCli(['demo', '--steps', steps]);
    expect(r.code).toBe(2);
    expect(expectOneLineError(r, 'demo')).toContain(`--steps "${steps}" is not an integer`);
  });
});
