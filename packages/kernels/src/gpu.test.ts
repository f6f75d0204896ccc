// Runs the GPU suites (gpu-test/kernels.test.mjs and gemm.test.mjs, node:test) when a CUDA device answers; otherwise
// skips with the reason.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { loadBackend } from './core/loader';

const loaded = loadBackend({ backend: 'auto', fresh: true });
const reason = loaded.backend.name === 'cuda' ? null : `no usable CUDA device (${loaded.fallbackReason})`;
if (reason) console.log(`GPU suite skipped: ${reason}`);

describe('GPU suite', () => {
  for (const suite of ['kernels.test.mjs', 'gemm.test.mjs']) {
    it.skipIf(reason !== null)(`gpu-test/${suite} passes (medium sizes)`, () => {
      const file = join(dirname(fileURLToPath(import.meta.url)), '..', 'gpu-test', suite);
      const r = spawnSync(process.execPath, [file], { env: { ...process.env, FPSATTN_GPU_TEST_SIZE: 'medium' }, encoding: 'utf8' });
      expect(r.status, r.stdout + r.stderr).toBe(0);
    });
  }
});
