// `fpsattn doctor`: what this machine can run, and the one line that fixes each missing piece.
import { spawnSync } from 'node:child_process';
import { freemem, totalmem } from 'node:os';
import { cublasLtStatus, doctor, formatDoctor, type CublasLtStatus, type DoctorReport } from '@fpsattn/kernels';
import type { Command } from 'commander';
import { withExamples } from '../_command';
import { printJson } from '../_format';

/** Which ffmpeg the CLI runs: $FPSATTN_FFMPEG, else `ffmpeg` on PATH. */
export const FFMPEG_ENV = 'FPSATTN_FFMPEG';

export interface FfmpegStatus {
  readonly found: boolean;
  readonly command: string;
  /** The first line of `ffmpeg -version`, or why it could not run. */
  readonly version: string | null;
  readonly error: string | null;
}

/** Runs `ffmpeg -version` (5 s at most). */
export function probeFfmpeg(env: NodeJS.ProcessEnv = process.env): FfmpegStatus {
  const command = env[FFMPEG_ENV] || 'ffmpeg';
  const r = spawnSync(command, ['-version'], { encoding: 'utf8', timeout: 5000 });
  if (r.error) return { found: false, command, version: null, error: (r.error as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : r.error.message };
  if (r.status !== 0) return { found: false, command, version: null, error: `exited with ${r.status ?? r.signal}` };
  return { found: true, command, version: (r.stdout.split('\n')[0] ?? '').trim(), error: null };
}

/** One piece that is missing or not usable, with the one line that fixes it. */
export interface MissingPiece {
  readonly piece: 'addon' | 'cuda' | 'device' | 'backend' | 'cublasLt' | 'ffmpeg';
  readonly problem: string;
  readonly fix: string;
}

/** The missing pieces of a doctor report, most basic first (a missing addon explains everything after it). */
export function missingPieces(options: { report: DoctorReport; cublasLt: CublasLtStatus | null; ffmpeg: FfmpegStatus }): MissingPiece[] {
  const { report, cublasLt, ffmpeg } = options;
  const out: MissingPiece[] = [];
  const build = report.addon.build;
  if (report.requested === 'invalid') {
    out.push({ piece: 'backend', problem: `FPSATTN_BACKEND=${process.env.FPSATTN_BACKEND ?? ''} is not auto, cpu or cuda`, fix: 'unset FPSATTN_BACKEND or set it to auto, cpu or cuda' });
  }
  if (report.addon.path === null) {
    out.push({ piece: 'addon', problem: 'the native addon is not built (the CPU backend runs instead)', fix: 'npm run build:native   (needs cmake and g++; nvcc for CUDA)' });
  } else if (build && !build.cuda) {
    out.push({ piece: 'cuda', problem: 'the addon was built without CUDA (no nvcc at build time)', fix: 'install CUDA 13 (nvcc on PATH or /usr/local/cuda/bin), then npm run build:native' });
  } else if (report.cuda.deviceCount === 0 || report.cuda.error) {
    const why = report.cuda.error ? `${report.cuda.error.name}: ${report.cuda.error.message}` : 'no device';
    out.push({ piece: 'device', problem: `no CUDA device answers (${why})`, fix: 'install the NVIDIA driver (nvidia-smi must list the GPU) or run on a Hopper machine; the CPU backend works meanwhile' });
  } else if (report.device && !report.device.kernelsSupported) {
    out.push({ piece: 'device', problem: `${report.device.name} (compute capability ${report.device.computeCapability}) is not Hopper`, fix: 'run on an H100/H200 (sm_90); the kernels are built for sm_90a only' });
  }
  if (report.backend === 'cuda' && (cublasLt === null || !cublasLt.loaded)) {
    out.push({ piece: 'cublasLt', problem: 'cuBLASLt not found (the DiT GEMMs need it on CUDA)', fix: 'apt-get install -y libcublas-13-0, or set FPSATTN_CUBLASLT to libcublasLt.so.* or its folder' });
  }
  if (!ffmpeg.found) {
    out.push({ piece: 'ffmpeg', problem: `ffmpeg ${ffmpeg.error ?? 'not found'} (${ffmpeg.command}; needed for mp4 output)`, fix: `apt-get install -y ffmpeg   (or set ${FFMPEG_ENV} to its path)` });
  }
  return out;
}

/** Why the backend was chosen, in one line. */
function backendReason(report: DoctorReport): string {
  if (report.requested === 'cpu') return 'forced by FPSATTN_BACKEND=cpu';
  if (report.backend === 'cuda') return `the addon loaded and ${report.device?.name ?? 'a supported device'} answered`;
  return report.fallbackReason ? `fallback to the CPU: ${report.fallbackReason}` : 'the CPU backend';
}

export function registerDoctor(program: Command): void {
  const command = program
    .command('doctor')
    .description('what this machine runs: addon build, backend and why, CUDA runtime/driver, device, memory, cuBLASLt, ffmpeg')
    .option('--json', 'print the report as JSON')
    .action((options: { json?: boolean }) => {
      const report = doctor();
      const cublasLt = cublasLtStatus();
      const ffmpeg = probeFfmpeg();
      const missing = missingPieces({ report, cublasLt, ffmpeg });
      const host = { totalMemoryBytes: totalmem(), freeMemoryBytes: freemem() };
      if (options.json) {
        printJson({ ...report, backendReason: backendReason(report), hostMemory: host, cublasLt, ffmpeg, missing });
        return;
      }
      const lines = [
        formatDoctor(report),
        `why:            ${backendReason(report)}`,
        `host memory:    ${(host.totalMemoryBytes / 2 ** 30).toFixed(1)} GiB (${(host.freeMemoryBytes / 2 ** 30).toFixed(1)} GiB free)`,
        `ffmpeg:         ${ffmpeg.found ? ffmpeg.version : `not found (${ffmpeg.command}: ${ffmpeg.error})`}`,
        '',
        missing.length === 0 ? 'nothing missing' : `missing (${missing.length}):`,
        ...missing.map((m) => `  - ${m.problem}\n    fix: ${m.fix}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  withExamples(command, ['fpsattn doctor', 'fpsattn doctor --json', 'FPSATTN_BACKEND=cpu fpsattn doctor']);
}
