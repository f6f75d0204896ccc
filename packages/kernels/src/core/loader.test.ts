import { InvalidArgumentError } from '@fpsattn/fp8';
import { afterEach, describe, expect, it } from 'vitest';
import { BackendUnavailableError } from './errors';
import { addonCandidates, doctor, formatDoctor, loadAddon, loadBackend, resetBackendCache } from './loader';

afterEach(() => resetBackendCache());

const addon = loadAddon();
const probe = addon.addon?.probe();
const hasDevice = probe?.ok === true && addon.addon?.buildInfo().cuda === true;

describe('addon resolution', () => {
  it('looks at $FPSATTN_ADDON first, then @fpsattn/native, then native/ above the package', () => {
    const c = addonCandidates({ FPSATTN_ADDON: '/nowhere/fpsattn.node' });
    expect(c[0]).toEqual({ path: '/nowhere/fpsattn.node', source: '$FPSATTN_ADDON' });
    expect(c.some((x) => x.path.endsWith('native/build/Release/fpsattn.node'))).toBe(true);
  });

  it('a bogus $FPSATTN_ADDON is reported in `tried` and the next candidate is used', () => {
    resetBackendCache();
    const load = loadAddon({ FPSATTN_ADDON: '/nowhere/fpsattn.node' });
    expect(load.tried[0]).toMatch(/\$FPSATTN_ADDON \/nowhere\/fpsattn.node: not found/);
  });

  it('the built addon loads here (npm run build:native), CUDA or CPU-only', () => {
    expect(addon.addon, addon.tried.join('\n')).not.toBeNull();
    const info = addon.addon!.buildInfo();
    expect(info.napiVersion).toBe(8);
    expect(info.summary).toMatch(info.cuda ? /built with CUDA .* sm_90a/ : /built without CUDA/);
  });

  it.runIf(!hasDevice && addon.addon?.buildInfo().cuda)('the static-cudart addon loads without a GPU and reports error 35 (or no device)', () => {
    expect(probe?.ok).toBe(false);
    expect([35, 100]).toContain(probe?.error?.code);
    expect(() => addon.addon!.alloc(16)).toThrow(/fpsattn.alloc: .*cudaErrorInsufficientDriver|cudaErrorNoDevice/);
  });
});

describe('backend choice', () => {
  it.runIf(!hasDevice)('auto falls back to the CPU with a reason, never throwing', () => {
    const r = loadBackend({ backend: 'auto', fresh: true });
    expect(r.backend.name).toBe('cpu');
    expect(r.fallbackReason).toBeTruthy();
    expect(loadBackend({ env: {}, fresh: true }).backend.name).toBe('cpu');
  });

  it.runIf(!hasDevice)('forcing cuda gives one actionable error listing what was tried', () => {
    let error: unknown;
    try {
      loadBackend({ env: { FPSATTN_BACKEND: 'cuda' }, fresh: true });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BackendUnavailableError);
    const e = error as BackendUnavailableError;
    expect(e.code).toBe('FPSATTN_BACKEND_UNAVAILABLE');
    expect(e.tried.length).toBeGreaterThan(0);
    expect(e.message).toMatch(/FPSATTN_BACKEND=cuda/);
    expect(e.message).toMatch(/Tried:/);
    expect(e.message).toMatch(/FPSATTN_BACKEND=cpu/);
  });

  it('cpu can always be forced', () => {
    expect(loadBackend({ env: { FPSATTN_BACKEND: 'cpu' }, fresh: true }).backend.name).toBe('cpu');
  });

  it('a bogus FPSATTN_BACKEND is an InvalidArgumentError naming the variable', () => {
    expect(() => loadBackend({ env: { FPSATTN_BACKEND: 'gpu' }, fresh: true })).toThrow(InvalidArgumentError);
    expect(() => loadBackend({ env: { FPSATTN_BACKEND: 'gpu' }, fresh: true })).toThrow(/FPSATTN_BACKEND/);
  });

  it('doctor reports the build, CUDA versions and device (or none)', () => {
    const r = doctor({ env: {} });
    expect(r.addon.build?.summary).toBeTruthy();
    expect(r.node).toBe(process.version);
    if (hasDevice) expect(r.device?.computeCapability).toMatch(/^\d+\.\d+$/);
    else expect(r.device).toBeNull();
    const text = formatDoctor(r);
    expect(text).toMatch(/backend:/);
    expect(text).toMatch(/CUDA runtime:/);
    expect(text).toMatch(/cuBLASLt: /);
    if (r.cublasLt !== null) {
      // The loader searched (every build): loaded with a version, or not found with the places tried and the fix.
      if (r.cublasLt.loaded) expect(r.cublasLt.versionString).toMatch(/^\d+\.\d+\.\d+$/);
      else expect(r.cublasLt.error).toMatch(/not found; tried:[\s\S]*FPSATTN_CUBLASLT/);
      expect(r.cublasLt.tried.length).toBeGreaterThan(0);
    }
    const bad = doctor({ env: { FPSATTN_BACKEND: 'nope' } });
    expect(bad.requested).toBe('invalid');
  });
});
