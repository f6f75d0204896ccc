import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InvalidArgumentError } from '@fpsattn/fp8';
import { CpuBackend } from '../cpu/backend';
import { CudaBackend } from '../cuda/backend';
import type { NativeAddon, NativeBuildInfo, NativeCublasLtStatus, NativeDeviceInfo, NativeProbe } from './addon-types';
import type { Backend } from './backend';
import { BackendUnavailableError } from './errors';

export type BackendChoice = 'auto' | 'cpu' | 'cuda';
export const BACKEND_ENV = 'FPSATTN_BACKEND';
export const ADDON_ENV = 'FPSATTN_ADDON';
const ADDON_RELATIVE = join('native', 'build', 'Release', 'fpsattn.node');

export interface AddonLoad {
  addon: NativeAddon | null;
  path: string | null;
  /** One line per place looked at, in order, with what happened. */
  tried: string[];
}

const moduleDir = (): string => dirname(fileURLToPath(import.meta.url));

/** Where the addon may be: $FPSATTN_ADDON, the @fpsattn/native package, then native/ above this file (monorepo). */
export function addonCandidates(env: NodeJS.ProcessEnv = process.env): { path: string; source: string }[] {
  const out: { path: string; source: string }[] = [];
  if (env[ADDON_ENV]) out.push({ path: resolve(env[ADDON_ENV] as string), source: `$${ADDON_ENV}` });
  try {
    const require = createRequire(import.meta.url);
    const pkg = require.resolve('@fpsattn/native/package.json');
    out.push({ path: join(dirname(pkg), 'build', 'Release', 'fpsattn.node'), source: '@fpsattn/native' });
  } catch {
    out.push({ path: '@fpsattn/native', source: '@fpsattn/native (package not resolvable)' });
  }
  let dir = moduleDir();
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, ADDON_RELATIVE);
    if (!out.some((c) => c.path === candidate)) out.push({ path: candidate, source: 'monorepo native/' });
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  return out;
}

let cachedLoad: AddonLoad | undefined;

/**
 * Loads the native addon (never throws); `tried` says what was attempted. The first result is kept for the process
 * (a .node cannot be unloaded), so a later `env` is ignored until `resetBackendCache()`.
 */
export function loadAddon(env: NodeJS.ProcessEnv = process.env): AddonLoad {
  if (cachedLoad) return cachedLoad;
  const require = createRequire(import.meta.url);
  const tried: string[] = [];
  for (const { path, source } of addonCandidates(env)) {
    if (source.endsWith('(package not resolvable)')) {
      tried.push(`${source}: skipped`);
      continue;
    }
    if (!existsSync(path)) {
      tried.push(`${source} ${path}: not found`);
      continue;
    }
    try {
      const addon = require(path) as NativeAddon;
      tried.push(`${source} ${path}: loaded (${addon.buildInfo().summary})`);
      cachedLoad = { addon, path, tried };
      return cachedLoad;
    } catch (e) {
      tried.push(`${source} ${path}: failed to load: ${(e as Error).message}`);
    }
  }
  cachedLoad = { addon: null, path: null, tried };
  return cachedLoad;
}

function parseChoice(value: unknown, source: string): BackendChoice {
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'cpu' || value === 'cuda') return value;
  throw new InvalidArgumentError({ argument: source, value, message: "expected 'auto', 'cpu' or 'cuda'" });
}

/** Tries to bring up the CUDA backend; returns it or the reasons it cannot run here. */
function tryCuda(env: NodeJS.ProcessEnv): { backend: CudaBackend | null; tried: string[] } {
  const load = loadAddon(env);
  const tried = [...load.tried];
  const addon = load.addon;
  if (!addon) {
    tried.push('addon: not loadable: run `npm run build:native` (needs cmake; nvcc for CUDA) or set FPSATTN_ADDON');
    return { backend: null, tried };
  }
  const build = addon.buildInfo();
  if (!build.cuda) {
    tried.push(`addon ${load.path}: built without CUDA: rebuild native/ with nvcc on PATH or at /usr/local/cuda/bin`);
    return { backend: null, tried };
  }
  const probe = addon.probe();
  if (!probe.ok) {
    const err = probe.error ? `${probe.error.name} (${probe.error.code}): ${probe.error.message}` : 'no device';
    const hint = probe.error?.code === 35 ? ' (no NVIDIA driver, or one older than the CUDA runtime)' : '';
    tried.push(`cudaGetDeviceCount: ${err}${hint}; runtime ${probe.runtimeVersion ?? '?'}, driver ${probe.driverVersion ?? 'none'}`);
    return { backend: null, tried };
  }
  let device: NativeDeviceInfo;
  try {
    device = addon.deviceInfo();
  } catch (e) {
    tried.push(`deviceInfo: ${(e as Error).message}`);
    return { backend: null, tried };
  }
  if (!device.kernelsSupported) {
    tried.push(`device ${device.name} (compute capability ${device.computeCapability}): the kernels are built for sm_90a (Hopper, 9.0) only`);
    return { backend: null, tried };
  }
  tried.push(`device ${device.name} (sm_${device.major}${device.minor}, ${device.smCount} SMs): ok`);
  return { backend: new CudaBackend(addon, device), tried };
}

export interface LoadedBackend {
  backend: Backend;
  requested: BackendChoice;
  /** Why auto mode fell back to the CPU (null when it did not). */
  fallbackReason: string | null;
  tried: string[];
}

let cachedBackend: LoadedBackend | undefined;

/**
 * Picks the backend: `options.backend`, else $FPSATTN_BACKEND, else auto. Auto takes CUDA when the addon loads and a
 * supported device answers, else the CPU, and never throws. Forcing 'cuda' where it cannot work throws one
 * BackendUnavailableError listing everything that was tried.
 */
export function loadBackend(options: { backend?: BackendChoice; env?: NodeJS.ProcessEnv; fresh?: boolean } = {}): LoadedBackend {
  const env = options.env ?? process.env;
  const requested = options.backend !== undefined ? parseChoice(options.backend, 'backend') : parseChoice(env[BACKEND_ENV], BACKEND_ENV);
  if (!options.fresh && cachedBackend && cachedBackend.requested === requested) return cachedBackend;
  let result: LoadedBackend;
  if (requested === 'cpu') {
    result = { backend: new CpuBackend(), requested, fallbackReason: null, tried: ['cpu: forced'] };
  } else {
    const cuda = tryCuda(env);
    if (cuda.backend) {
      result = { backend: cuda.backend, requested, fallbackReason: null, tried: cuda.tried };
    } else if (requested === 'cuda') {
      throw new BackendUnavailableError({
        message:
          `The CUDA backend was requested (${options.backend !== undefined ? 'backend: "cuda"' : `${BACKEND_ENV}=cuda`}) but cannot run here. Tried:\n` +
          cuda.tried.map((t) => `  - ${t}`).join('\n') +
          `\nUse ${BACKEND_ENV}=auto (falls back to the CPU) or ${BACKEND_ENV}=cpu, or fix the first failing step above.`,
        tried: cuda.tried,
      });
    } else {
      const last = cuda.tried[cuda.tried.length - 1] ?? 'unknown';
      result = { backend: new CpuBackend(), requested, fallbackReason: last, tried: [...cuda.tried, 'cpu: fallback'] };
    }
  }
  cachedBackend = result;
  return result;
}

/** The backend of auto/env selection (cached). */
export function getBackend(): Backend {
  return loadBackend().backend;
}

/** Forget cached choices (tests). */
export function resetBackendCache(): void {
  cachedBackend = undefined;
  cachedLoad = undefined;
}

export interface DoctorReport {
  backend: 'cpu' | 'cuda';
  requested: BackendChoice | 'invalid';
  fallbackReason: string | null;
  addon: { path: string | null; build: NativeBuildInfo | null };
  cuda: { runtimeVersion: string | null; driverVersion: string | null; deviceCount: number; error: NativeProbe['error'] | null };
  device: NativeDeviceInfo | null;
  /** What the addon's run-time cuBLASLt loader found (the GEMMs need it on CUDA); null without an addon. */
  cublasLt: NativeCublasLtStatus | null;
  tried: string[];
  node: string;
}

/** What the kernels package sees on this machine: addon build, CUDA runtime/driver, device, chosen backend. */
export function doctor(options: { env?: NodeJS.ProcessEnv } = {}): DoctorReport {
  const env = options.env ?? process.env;
  const load = loadAddon(env);
  const build = load.addon ? load.addon.buildInfo() : null;
  const probe = load.addon ? load.addon.probe() : null;
  let device: NativeDeviceInfo | null = null;
  if (load.addon && build?.cuda && probe?.ok) {
    try {
      device = load.addon.deviceInfo();
    } catch {
      device = null;
    }
  }
  let cublasLt: NativeCublasLtStatus | null = null;
  if (load.addon && typeof load.addon.cublasLtStatus === 'function') {
    try {
      cublasLt = load.addon.cublasLtStatus();
    } catch {
      cublasLt = null;
    }
  }
  let loaded: LoadedBackend | null = null;
  let requested: DoctorReport['requested'];
  let failure: string | null = null;
  try {
    requested = parseChoice(env[BACKEND_ENV], BACKEND_ENV);
    loaded = loadBackend({ env });
  } catch (e) {
    requested = env[BACKEND_ENV] === 'cuda' ? 'cuda' : 'invalid';
    failure = (e as Error).message;
  }
  return {
    backend: loaded?.backend.name ?? 'cpu',
    requested,
    fallbackReason: loaded?.fallbackReason ?? failure,
    addon: { path: load.path, build },
    cuda: {
      runtimeVersion: probe?.runtimeVersion ?? null,
      driverVersion: probe?.driverVersion ?? null,
      deviceCount: probe?.deviceCount ?? 0,
      error: probe?.error ?? null,
    },
    device,
    cublasLt,
    tried: loaded?.tried ?? load.tried,
    node: process.version,
  };
}

/** doctor()'s cuBLASLt line: the version and file, or why there is none. */
function formatCublasLt(status: NativeCublasLtStatus | null): string {
  if (status === null) return 'n/a (no addon with a cuBLASLt loader)';
  if (status.loaded) return `${status.versionString} from ${status.path} (${status.source})`;
  return `not found (gemm needs it on CUDA; set FPSATTN_CUBLASLT to libcublasLt.so.* or its folder); tried: ${status.tried.join('; ')}`;
}

/** doctor() as readable lines. */
export function formatDoctor(r: DoctorReport): string {
  const gib = (b: number) => `${(b / 2 ** 30).toFixed(1)} GiB`;
  const lines = [
    `backend:        ${r.backend} (requested ${r.requested})${r.fallbackReason ? ` - fallback: ${r.fallbackReason}` : ''}`,
    `addon:          ${r.addon.path ?? 'not found'}${r.addon.build ? ` - ${r.addon.build.summary}` : ''}`,
    `CUDA runtime:   ${r.cuda.runtimeVersion ?? 'n/a'}, driver ${r.cuda.driverVersion ?? 'none'}, devices ${r.cuda.deviceCount}${r.cuda.error ? ` (${r.cuda.error.name}: ${r.cuda.error.message})` : ''}`,
  ];
  if (r.device) {
    lines.push(
      `device:         ${r.device.name}, compute capability ${r.device.computeCapability}, ${r.device.smCount} SMs, ` +
        `${gib(r.device.totalMemoryBytes)} (${gib(r.device.freeMemoryBytes)} free), L2 ${(r.device.l2CacheBytes / 2 ** 20).toFixed(0)} MiB`,
    );
  } else {
    lines.push('device:         none');
  }
  lines.push(`cuBLASLt:       ${formatCublasLt(r.cublasLt)}`);
  lines.push(`node:           ${r.node}`);
  return lines.join('\n');
}
