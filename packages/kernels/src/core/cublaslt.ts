// The addon's run-time cuBLASLt loader seen from TypeScript (native/src/blas/cublaslt_loader.h): what it found, for
// doctor() and for callers that want to check before the first gemm, and the explicit path setter.
import { InvalidArgumentError } from '@fpsattn/fp8';
import type { NativeCublasLtStatus } from './addon-types';
import { BackendUnavailableError, callNative } from './errors';
import { loadAddon } from './loader';

export type CublasLtStatus = NativeCublasLtStatus;

/**
 * What the addon's cuBLASLt loader found (it searches on the first call): the file, its version, every place tried.
 * Null when no addon loads, or the addon predates the loader. Never throws.
 */
export function cublasLtStatus(options: { env?: NodeJS.ProcessEnv } = {}): CublasLtStatus | null {
  const addon = loadAddon(options.env).addon;
  if (addon === null || typeof addon.cublasLtStatus !== 'function') return null;
  try {
    return addon.cublasLtStatus();
  } catch {
    return null;
  }
}

/**
 * Points the addon at a libcublasLt.so.* file or the folder holding it, searched before every other place (null: back
 * to $FPSATTN_CUBLASLT), searches at once and returns what it found. A process keeps the first library it loads: once
 * one is loaded (by a gemm, cublasLtStatus() or doctor()), pointing elsewhere throws a CublasLtError.
 */
export function setCublasLtPath(path: string | null): CublasLtStatus {
  if (path !== null && (typeof path !== 'string' || path === '')) {
    throw new InvalidArgumentError({ argument: 'path', value: path, message: 'expected a libcublasLt.so.* file or its folder, or null' });
  }
  const load = loadAddon();
  const addon = load.addon;
  if (addon === null || typeof addon.setCublasLtPath !== 'function') {
    throw new BackendUnavailableError({
      message: `setCublasLtPath needs the native addon with its cuBLASLt loader; rebuild native/ (npm run build:native). Tried:\n${load.tried.map((t) => `  - ${t}`).join('\n')}`,
      tried: load.tried,
    });
  }
  return callNative('setCublasLtPath', () => addon.setCublasLtPath(path));
}
