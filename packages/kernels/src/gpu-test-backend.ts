// The preamble every GPU suite (packages/*/gpu-test/) opens with: the CUDA backend, or the reason the suite is skipped,
// printed as a `#` line; FPSATTN_GPU_TEST_ON_CPU=1 gives the CPU backend instead, for suites that have such a dry run.
// Exported from the ./testing entry, which the GPU machine resolves through its node_modules/@fpsattn links (no npm).
import type { Backend } from './core/backend';
import { loadBackend } from './core/loader';
import { CpuBackend } from './cpu/backend';

/** The environment switch of the dry run: `1` runs a suite's logic on the CPU backend. */
export const GPU_TEST_ON_CPU_ENV = 'FPSATTN_GPU_TEST_ON_CPU';

export interface GpuTestBackendOptions {
  /** The suite as its skip line names it: 'gemm GPU suite' prints `# gemm GPU suite skipped: <reason>`. */
  suite: string;
  /**
   * Whether FPSATTN_GPU_TEST_ON_CPU=1 runs the suite on a CpuBackend (off when omitted: the switch is then ignored).
   * An object is assigned onto that CpuBackend, for suites that read CUDA-only members (a `device` record, addon stubs).
   */
  dryRun?: boolean | Record<string, unknown>;
  /** Read instead of process.env (tests). */
  env?: NodeJS.ProcessEnv;
}

/** The backend a suite runs on, or why it is skipped (a string for node:test's `skip`; false when it runs). */
export type GpuTestBackend = { backend: Backend; skipReason: false } | { backend: null; skipReason: string };

/** The CUDA backend for a GPU suite (loaded fresh), the CPU backend for its dry run, or the reason to skip it. */
export function gpuTestBackend(options: GpuTestBackendOptions): GpuTestBackend {
  const env = options.env ?? process.env;
  let result: GpuTestBackend;
  try {
    if (options.dryRun && env[GPU_TEST_ON_CPU_ENV] === '1') {
      const backend = new CpuBackend();
      if (typeof options.dryRun === 'object') Object.assign(backend, options.dryRun);
      result = { backend, skipReason: false };
    } else {
      const loaded = loadBackend({ backend: 'auto', env, fresh: true });
      result =
        loaded.backend.name === 'cuda'
          ? { backend: loaded.backend, skipReason: false }
          : { backend: null, skipReason: `no usable CUDA device: ${loaded.fallbackReason}` };
    }
  } catch (e) {
    result = { backend: null, skipReason: `backend load failed: ${(e as Error).message}` };
  }
  if (result.skipReason) console.log(`# ${options.suite} skipped: ${result.skipReason}`);
  return result;
}
