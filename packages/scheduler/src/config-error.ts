import { FpsAttnError } from '@fpsattn/fp8';

/** The codes of the errors @fpsattn/scheduler throws (it also throws @fpsattn/fp8's InvalidArgumentError). */
export const SCHEDULER_ERROR_CODES = Object.freeze({
  /** {@link ConfigError}: a schedule config or override table failed validation. */
  CONFIG_INVALID: 'FPSATTN_CONFIG_INVALID',
} as const);

export type SchedulerErrorCode = (typeof SCHEDULER_ERROR_CODES)[keyof typeof SCHEDULER_ERROR_CODES];

/** One problem in a config: where (`phases.early.sparsity.window.tiles[2]`), the value found, what is wrong and allowed. */
export interface ConfigIssue {
  readonly path: string;
  readonly value: unknown;
  readonly message: string;
  readonly allowed: string;
}

function show(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value); // JSON would print null
  try {
    const text = JSON.stringify(value) ?? String(value); // undefined, functions and symbols have no JSON
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return String(value);
  }
}

/** Formats one issue as `path = value: message (allowed: ...)`. */
export function formatConfigIssue(issue: ConfigIssue): string {
  return `${issue.path || '(root)'} = ${show(issue.value)}: ${issue.message} (allowed: ${issue.allowed})`;
}

/** A config (schedule, overrides) failed validation; `issues` lists every problem found, not only the first. */
export class ConfigError extends FpsAttnError {
  readonly issues: readonly ConfigIssue[];

  constructor(options: { issues: readonly ConfigIssue[]; subject?: string }) {
    const subject = options.subject ?? 'scheduler config';
    const count = options.issues.length;
    super({
      code: SCHEDULER_ERROR_CODES.CONFIG_INVALID,
      message: `Invalid ${subject} (${count} problem${count === 1 ? '' : 's'}):\n${options.issues
        .map((i) => `  - ${formatConfigIssue(i)}`)
        .join('\n')}`,
    });
    this.name = 'ConfigError';
    this.issues = options.issues;
  }
}

/** Result of a non-throwing parse. */
export type SafeParseResult<T> = { success: true; value: T } | { success: false; error: ConfigError };
