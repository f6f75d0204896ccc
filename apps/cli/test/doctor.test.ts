import { describe, expect, it } from 'vitest';
import { runCli } from './helpers';

describe('fpsattn doctor', () => {
  it('reports the backend, the addon, CUDA, the device, cuBLASLt and ffmpeg', () => {
    const r = runCli(['doctor']);
    expect(r.code).toBe(0);
    for (const label of ['backend:', 'addon:', 'CUDA runtime:', 'device:', 'cuBLASLt:', 'host memory:', 'ffmpeg:', 'why:']) expect(r.stdout).toContain(label);
    expect(r.stdout).toContain('backend:        cpu (requested cpu)');
  });

  it('prints JSON with every field and the missing pieces with their fixes', () => {
    const r = runCli(['doctor', '--json']);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.backend).toBe('cpu');
    expect(report.backendReason).toBe('forced by FPSATTN_BACKEND=cpu');
    expect(report).toHaveProperty('cuda.runtimeVersion');
    expect(report).toHaveProperty('addon.path');
    expect(report).toHaveProperty('ffmpeg.found');
    expect(report.hostMemory.totalMemoryBytes).toBeGreaterThan(0);
    for (const m of report.missing) {
      expect(m.problem).toEqual(expect.any(String));
      expect(m.fix).toEqual(expect.any(String));
    }
  });

  it('names the fix when ffmpeg is missing', () => {
    const r = runCli(['doctor', '--json'], { env: { FPSATTN_FFMPEG: '/nonexistent/ffmpeg' } });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.ffmpeg.found).toBe(false);
    const piece = report.missing.find((m: { piece: string }) => m.piece === 'ffmpeg');
    expect(piece.fix).toContain('apt-get install -y ffmpeg');
    const text = runCli(['doctor'], { env: { FPSATTN_FFMPEG: '/nonexistent/ffmpeg' } });
    expect(text.stdout).toContain('fix: apt-get install -y ffmpeg');
  });

  it('names the fix for a bad FPSATTN_BACKEND', () => {
    const r = runCli(['doctor', '--json'], { env: { FPSATTN_BACKEND: 'tpu' } });
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.missing.some((m: { piece: string }) => m.piece === 'backend')).toBe(true);
  });
});
