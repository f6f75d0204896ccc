// How the CLI fails: stable exit codes, and every error as one line naming the problem and the fix.
import { FpsAttnError } from '@fpsattn/fp8';

/** The process exit codes (README "Exit codes"). */
export const EXIT_CODES = Object.freeze({
  ok: 0,
  /** The work failed (a corrupt file, a device error, problems found by inspect). */
  failure: 1,
  /** The command line or an input the user named is wrong (bad flag value, missing file, invalid config). */
  usage: 2,
  /** Stopped by Ctrl-C (SIGINT): 128 + 2, as shells report it. */
  interrupted: 130,
} as const);

export type ExitCode = (typeof EXIT_CODES)[keyof typeof EXIT_CODES];

/** An error the CLI raises itself, with its exit code. The message names the problem; `fix` says what to do. */
export class CliError extends Error {
  readonly exitCode: ExitCode;
  readonly fix: string | null;

  constructor(options: { message: string; fix?: string; exitCode?: ExitCode; cause?: unknown }) {
    super(options.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CliError';
    this.exitCode = options.exitCode ?? EXIT_CODES.failure;
    this.fix = options.fix ?? null;
  }
}

/** A bad command line or user input: exit code 2. */
export class UsageError extends CliError {
  constructor(options: { message: string; fix?: string; cause?: unknown }) {
    super({ ...options, exitCode: EXIT_CODES.usage });
    this.name = 'UsageError';
  }
}

/** Package error codes that mean "the input the user gave is wrong" (exit 2) or "stopped" (exit 130). */
const USAGE_CODES = new Set([
  'FPSATTN_CONFIG_INVALID',
  'FPSATTN_INVALID_ARGUMENT',
  'FPSATTN_WAN_SAMPLER_INVALID_OPTION',
  'FPSATTN_WAN_CHECKPOINT_NOT_FOUND',
  'FPSATTN_WAN_PTH_NOT_FOUND',
]);
const ABORT_CODES = new Set(['FPSATTN_WAN_SAMPLER_ABORTED', 'FPSATTN_WAN_MODEL_LOAD_ABORTED', 'FPSATTN_WAN_VIDEO_ABORTED']);

export function exitCodeOf(error: unknown): ExitCode {
  if (error instanceof CliError) return error.exitCode;
  if (FpsAttnError.isInstance(error)) {
    if (USAGE_CODES.has(error.code)) return EXIT_CODES.usage;
    if (ABORT_CODES.has(error.code)) return EXIT_CODES.interrupted;
  }
  if (error instanceof Error && error.name === 'AbortError') return EXIT_CODES.interrupted;
  return EXIT_CODES.failure;
}

/** The error as one line: `<problem>[: <fix>]`, multi-line package messages joined with '; '. */
export function errorLine(error: unknown): string {
  const raw = error instanceof Error ? error.message : String(error);
  const line = raw
    .split('\n')
    .map((l) => l.trim().replace(/^- /, ''))
    .filter((l) => l !== '')
    .join('; ');
  const fix = error instanceof CliError && error.fix ? ` (fix: ${error.fix})` : '';
  const code = FpsAttnError.isInstance(error) ? ` [${error.code}]` : '';
  return `${line}${code}${fix}`;
}
