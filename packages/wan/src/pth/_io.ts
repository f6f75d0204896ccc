import type { FileHandle } from "node:fs/promises";
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

/** The most one positioned read asks for (Node caps a read's length at 2^31 - 1 bytes). */
const MAX_READ_BYTES = 2 ** 30;

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
  const { handle, file, into, position } = options;
  let done = 0;
  while (done < into.byteLength) {
    const length = Math.min(into.byteLength - done, MAX_READ_BYTES);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(into, done, length, position + done));
    } catch (cause) {
      throw pthFsError(
        file,
        `read ${length} bytes at offset ${position + done}`,
        cause
      );
    }
    if (bytesRead === 0) {
      throw new PthError({
        code: WAN_PTH_ERROR_CODES.TRUNCATED,
        file,
        tensor: options.tensor ?? null,
        rule: `truncated: the file ends at byte ${position + done}, inside ${
          options.what
        } (${into.byteLength - done} more bytes expected)`,
      });
    }
    done += bytesRead;
  }
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

let CRC_TABLE: Uint32Array | null = null;

/** The CRC-32 (IEEE, as zip stores it) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  if (CRC_TABLE === null) {
    CRC_TABLE = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      CRC_TABLE[n] = c >>> 0;
    }
  }
  const table = CRC_TABLE;
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i++)
    crc = (table[(crc ^ (bytes[i] as number)) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}
