import type { FileHandle } from "node:fs/promises";
import { fillFromFile } from "../_positioned-read";
import { PthError, WAN_PTH_ERROR_CODES } from "./pth-error";

/** A Node file-system error turned into a PthError naming the file and what was being done. */
export function pthFsError(
  file: string,
  action: string,
  cause: unknown
): PthError {
  if (cause instanceof PthError) return cause;
  const code = (cause as NodeJS.ErrnoException | null)?.code;
  const missing = code === "ENOENT" || code === "ENOTDIR";
  const reason =
    code ?? (cause instanceof Error ? cause.message : String(cause));
  return new PthError({
    code: missing
      ? WAN_PTH_ERROR_CODES.NOT_FOUND
      : WAN_PTH_ERROR_CODES.IO_ERROR,
    file,
    rule: missing
      ? `cannot ${action}: no such file`
      : `cannot ${action} (${reason})`,
    cause,
  });
}

/**
 * Fills `into` from the file at `position` with positioned reads (the file offset never moves, so reads of one handle
 * may run concurrently). A file that ends early is TRUNCATED; `what` names what was being read.
 */
export async function readInto(options: {
  handle: FileHandle;
  file: string;
  into: Uint8Array;
  position: number;
  what: string;
  tensor?: string;
}): Promise<void> {
  const { file } = options;
  await fillFromFile({
    handle: options.handle,
    into: options.into,
    position: options.position,
    ioError: (cause, length, at) => pthFsError(file, `read ${length} bytes at offset ${at}`, cause),
    truncated: (at, missing) =>
      new PthError({
        code: WAN_PTH_ERROR_CODES.TRUNCATED,
        file,
        tensor: options.tensor ?? null,
        rule: `truncated: the file ends at byte ${at}, inside ${options.what} (${missing} more bytes expected)`,
      }),
  });
}

/** `length` bytes of the file at `position`, in a fresh buffer. */
export async function readAt(options: {
  handle: FileHandle;
  file: string;
  position: number;
  length: number;
  what: string;
}): Promise<Uint8Array> {
  const into = new Uint8Array(options.length);
  await readInto({ ...options, into });
  return into;
}
