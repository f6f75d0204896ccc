// The addon's run-time cuBLASLt loader through its TypeScript functions. On machines without cuBLAS (CI, this repo's
// build machine) the search fails and says where it looked; where a library is installed it reports the version.
import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { thrown } from '../_test/thrown';
import { cublasLtStatus, setCublasLtPath } from './cublaslt';
import { loadAddon } from './loader';

const addon = loadAddon().addon;
const hasLoader = addon !== null && typeof addon.cublasLtStatus === 'function';
const initial = hasLoader ? cublasLtStatus() : null;

describe('cuBLASLt loader', () => {
  it('setCublasLtPath takes a path or null', () => {
    expect(thrown(() => setCublasLtPath(42 as never))).toBeInstanceOf(InvalidArgumentError);
    expect(thrown(() => setCublasLtPath(''))).toMatchObject({ argument: 'path' });
  });

  it.runIf(hasLoader)('reports the search: a loaded library with its version, or every place tried and the fix', () => {
    const s = initial!;
    expect(s.tried.length).toBeGreaterThan(0);
    if (s.loaded) {
      expect(s.path).toMatch(/libcublasLt\.so/);
      expect(s.versionString).toMatch(/^\d+\.\d+\.\d+$/);
      expect(s.error).toBeNull();
    } else {
      expect(s.path).toBeNull();
      expect(s.version).toBeNull();
      expect(s.tried.some((t) => t.startsWith('/usr/local/cuda /usr/local/cuda/lib64'))).toBe(true);
      expect(s.tried.some((t) => t.startsWith('dynamic loader'))).toBe(true);
      expect(s.error).toMatch(/^cuBLASLt \(libcublasLt\.so\.13, \.so\.12 or \.so\) not found; tried:/);
      expect(s.error).toMatch(/Fix: .*nvidia-cublas.*FPSATTN_CUBLASLT \(or setCublasLtPath\(\) from JS\)/);
    }
  });

  it.runIf(hasLoader && initial?.loaded === false)('searches an explicit path first, and forgets it on null', () => {
    const s = setCublasLtPath('/nonexistent/libcublasLt.so.13');
    expect(s.explicitPath).toBe('/nonexistent/libcublasLt.so.13');
    expect(s.tried[0]).toBe('setCublasLtPath /nonexistent/libcublasLt.so.13: not found');
    expect(s.loaded).toBe(false);
    const back = setCublasLtPath(null);
    expect(back.explicitPath).toBe(process.env.FPSATTN_CUBLASLT ?? null);
  });
});
