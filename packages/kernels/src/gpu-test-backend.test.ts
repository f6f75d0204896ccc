import { afterEach, describe, expect, it, vi } from 'vitest';
import { CpuBackend } from './cpu/backend';
import { resetBackendCache } from './core/loader';
import { gpuTestBackend } from './gpu-test-backend';

afterEach(() => {
  resetBackendCache();
  vi.restoreAllMocks();
});

describe('gpuTestBackend', () => {
  it('gives the CPU backend for a dry run, with the given members assigned, and prints nothing', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const device = { name: 'CPU (dry run)', major: 0, minor: 0 };
    const { backend, skipReason } = gpuTestBackend({ suite: 'x GPU suite', dryRun: { device }, env: { FPSATTN_GPU_TEST_ON_CPU: '1' } });
    expect(skipReason).toBe(false);
    expect(backend).toBeInstanceOf(CpuBackend);
    expect((backend as unknown as { device: unknown }).device).toBe(device);
    expect(log).not.toHaveBeenCalled();
  });

  it('ignores FPSATTN_GPU_TEST_ON_CPU in suites without a dry run: CUDA or a skip line naming the suite', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const r = gpuTestBackend({ suite: 'x GPU suite', env: { FPSATTN_GPU_TEST_ON_CPU: '1' } });
    if (r.backend) {
      expect(r.backend.name).toBe('cuda');
      expect(log).not.toHaveBeenCalled();
    } else {
      expect(r.skipReason).toMatch(/^no usable CUDA device: /);
      expect(log).toHaveBeenCalledWith(`# x GPU suite skipped: ${r.skipReason}`);
    }
  });

  it('turns a throw while setting up into a skip reason', () => {
    const log = vi.spyOn(console, 'log').mockImplementation(() => {});
    const dryRun = {
      get device(): never {
        throw new Error('no device record');
      },
    };
    const r = gpuTestBackend({ suite: 'x GPU suite', dryRun, env: { FPSATTN_GPU_TEST_ON_CPU: '1' } });
    expect(r).toEqual({ backend: null, skipReason: 'backend load failed: no device record' });
    expect(log).toHaveBeenCalledWith('# x GPU suite skipped: backend load failed: no device record');
  });
});
