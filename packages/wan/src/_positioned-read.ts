import type { FileHandle } from 'node:fs/promises';

/** The most one positioned read asks for (Node caps a read's length at 2^31 - 1 bytes). */
const MAX_READ_BYTES = 2 ** 30;

/**
 * Fills `into` from the file at `position` with positioned reads (the file offset never moves, so reads of one handle
 * may run concurrently). The file readers (safetensors, .pth) turn failures into their own errors: `ioError` for a
 * failed read of `length` bytes at `at`, `truncated` when the file ends at `at` with `missing` bytes still expected.
 */
export async function fillFromFile(options: {
  handle: FileHandle;
  into: Uint8Array;
  position: number;
  ioError: (cause: unknown, length: number, at: number) => Error;
  truncated: (at: number, missing: number) => Error;
}): Promise<void> {
  const { handle, into, position } = options;
  let done = 0;
  while (done < into.byteLength) {
    const length = Math.min(into.byteLength - done, MAX_READ_BYTES);
    let bytesRead: number;
    try {
      ({ bytesRead } = await handle.read(into, done, length, position + done));
    } catch (cause) {
      throw options.ioError(cause, length, position + done);
    }
    if (bytesRead === 0) throw options.truncated(position + done, into.byteLength - done);
    done += bytesRead;
  }
}
