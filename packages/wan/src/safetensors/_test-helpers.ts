// Helpers of the safetensors tests (not exported from the package).
import type { FileHandle } from 'node:fs/promises';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'vitest';

/** A fresh directory under the OS temp dir; `remove()` deletes it. */
export async function tempDir(): Promise<{ path: string; file: (name: string) => string; list: () => Promise<string[]>; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'fpsattn-safetensors-'));
  return {
    path,
    file: (name) => join(path, name),
    list: async () => (await readdir(path)).sort(),
    remove: () => rm(path, { recursive: true, force: true }),
  };
}

/**
 * The bytes of a safetensors file, built by hand: the 8-byte little-endian length (`headerLength` overrides it), the
 * header (an object is JSON-encoded, a string taken as is; no padding) and the data.
 */
export function fileBytes(options: { header: unknown; data?: Uint8Array | number[]; headerLength?: number | bigint }): Uint8Array {
  const text = typeof options.header === 'string' ? options.header : JSON.stringify(options.header);
  const json = new TextEncoder().encode(text);
  const data = options.data instanceof Uint8Array ? options.data : new Uint8Array(options.data ?? []);
  const out = new Uint8Array(8 + json.byteLength + data.byteLength);
  new DataView(out.buffer).setBigUint64(0, BigInt(options.headerLength ?? json.byteLength), true);
  out.set(json, 8);
  out.set(data, 8 + json.byteLength);
  return out;
}

/** The handles a mocked `open` returned: expects every one of them closed (a closed FileHandle's fd is -1). */
export async function expectAllClosed(openMock: { mock: { settledResults: { type: string; value: unknown }[] } }): Promise<number> {
  const handles = openMock.mock.settledResults.filter((r) => r.type === 'fulfilled').map((r) => r.value as FileHandle);
  expect(handles.map((h) => h.fd)).toEqual(handles.map(() => -1));
  return handles.length;
}

/** The error a promise rejects with (fails the test when it resolves). */
export async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected the promise to reject');
}
