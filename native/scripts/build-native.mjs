#!/usr/bin/env node
// Builds native/build/Release/fpsattn.node with cmake-js (Node-API mode, offline).
// - Uses nvcc from PATH, else /usr/local/cuda/bin/nvcc (or $CUDACXX / $CUDA_HOME/bin/nvcc) when present.
// - Without nvcc, or with FPSATTN_WITH_CUDA=OFF/0, builds the CPU-only addon (same exports, "built without CUDA").
// - Never fails the install because CUDA is missing; a failing CUDA build is an error (CI compiles every kernel),
//   unless FPSATTN_CUDA_OPTIONAL=1, which then retries CPU-only.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve, delimiter } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const require = createRequire(join(root, 'package.json'));

function findCmakeJs() {
  const candidates = [
    join(root, 'node_modules', '.bin', 'cmake-js'),
    join(root, '..', 'node_modules', '.bin', 'cmake-js'),
  ];
  for (const c of candidates) if (existsSync(c)) return { cmd: c, args: [] };
  try {
    const pkg = require.resolve('cmake-js/package.json');
    return { cmd: process.execPath, args: [join(dirname(pkg), 'bin', 'cmake-js')] };
  } catch {
    return undefined;
  }
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function findNvcc() {
  const explicit = [process.env.CUDACXX, process.env.CUDA_HOME && join(process.env.CUDA_HOME, 'bin', 'nvcc')];
  for (const e of explicit) if (e && existsSync(e)) return e;
  return onPath('nvcc') ?? (existsSync('/usr/local/cuda/bin/nvcc') ? '/usr/local/cuda/bin/nvcc' : undefined);
}

const flag = (process.env.FPSATTN_WITH_CUDA ?? '').toLowerCase();
const cudaDisabled = flag === 'off' || flag === '0' || flag === 'false' || process.argv.includes('--cpu-only');
const nvcc = cudaDisabled ? undefined : findNvcc();
const cmakeJs = findCmakeJs();
// As an install hook (--install), missing build tools only warn: @fpsattn/kernels then runs on its CPU backend.
const missingToolStatus = process.argv.includes('--install') ? 0 : 1;
if (!cmakeJs) {
  console.error('build-native: cmake-js not found (expected node_modules/.bin/cmake-js at the repo root); addon not built');
  process.exit(missingToolStatus);
}
if (!onPath('cmake')) {
  console.error('build-native: cmake not found on PATH (install cmake >= 3.18); addon not built, the CPU backend will be used');
  process.exit(missingToolStatus);
}

function build(withCuda) {
  const args = [...cmakeJs.args, 'build', '--directory', root, '--out', join(root, 'build'), '--config', 'Release'];
  args.push(`--CDFPSATTN_WITH_CUDA=${withCuda ? 'ON' : 'OFF'}`);
  if (withCuda) args.push(`--CDCMAKE_CUDA_COMPILER=${nvcc}`);
  const parallel = Math.max(1, Number(process.env.FPSATTN_BUILD_JOBS ?? 4));
  args.push('--parallel', String(parallel));
  console.log(`build-native: ${withCuda ? `CUDA build (nvcc ${nvcc}, sm_90a)` : 'CPU-only build'}`);
  const r = spawnSync(cmakeJs.cmd, args, { stdio: 'inherit', cwd: root });
  return r.status === 0;
}

// Reconfigure when the CUDA choice changed since the last build (CMakeCache keeps FPSATTN_WITH_CUDA).
const cache = join(root, 'build', 'CMakeCache.txt');
const want = nvcc ? 'ON' : 'OFF';
if (existsSync(cache)) {
  const text = readFileSync(cache, 'utf8');
  const m = /FPSATTN_WITH_CUDA:BOOL=(\w+)/.exec(text);
  if (m && m[1] !== want) {
    spawnSync('cmake', ['-E', 'remove_directory', join(root, 'build')], { stdio: 'inherit' });
  }
}

let usedCuda = Boolean(nvcc);
let ok = build(usedCuda);
if (!ok && nvcc && process.env.FPSATTN_CUDA_OPTIONAL === '1') {
  console.warn('build-native: CUDA build failed; FPSATTN_CUDA_OPTIONAL=1, retrying CPU-only');
  spawnSync('cmake', ['-E', 'remove_directory', join(root, 'build')], { stdio: 'inherit' });
  usedCuda = false;
  ok = build(false);
}
if (!ok) process.exit(1);
mkdirSync(join(root, 'build', 'Release'), { recursive: true });
writeFileSync(
  join(root, 'build', 'Release', 'build-info.json'),
  JSON.stringify({ cuda: usedCuda, nvcc: usedCuda ? nvcc : null, builtAt: new Date().toISOString() }, null, 2) + '\n',
);
console.log(`build-native: wrote ${join(root, 'build', 'Release', 'fpsattn.node')}`);
