import type { FileHandle } from 'node:fs/promises';
import { fillFromFile } from '../_positioned-read';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES } from './checkpoint-error';

/** A Node file-system error turned into a CheckpointError naming the file and what was being done. */
export function fsError(file: string, action: string, cause: unknown): CheckpointError {
  if (cause instanceof CheckpointError) return cause;
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  const missing = code === 'ENOENT' || code === 'ENOTDIR';
  const reason = code ?? (cause instanceof Error ? cause.message : String(cause));
  return new CheckpointError({
    code: missing ? WAN_CHECKPOINT_ERROR_CODES.NOT_FOUND : WAN_CHECKPOINT_ERROR_CODES.IO_ERROR,
    file,
    rule: missing ? `cannot ${action}: no such file` : `cannot ${action} (${reason})`,
    cause,
  });
}

/**
 * Fills `into` from the file at `position` with positioned reads (the file offset is never moved, so reads of one
 * handle may run concurrently). A file that ends early is TRUNCATED: its size was checked when it was opened, so it
 * shrank since.
 */
export async function readFully(options: { handle: FileHandle; file: string; tensor?: string; into: Uint8Array; position: number }): Promise<void> {
  const { file } = options;
  await fillFromFile({
    handle: options.handle,
    into: options.into,
    position: options.position,
    ioError: (cause, length, at) => fsError(file, `read ${length} bytes at offset ${at}`, cause),
    truncated: (at, missing) =>
      new CheckpointError({
        code: WAN_CHECKPOINT_ERROR_CODES.TRUNCATED,
        file,
        tensor: options.tensor ?? null,
        rule: `truncated: the file ends at byte ${at}, expected ${missing} more bytes (it shrank since it was opened?)`,
      }),
  });
}
