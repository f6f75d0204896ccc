import { mkdir, open, readFile, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectAllClosed, rejection, tempDir } from './_test-helpers';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES as CODES } from './checkpoint-error';
import { parseSafetensorsHeader } from './header';
import { type TensorToWrite, writeSafetensors } from './writer';

// Every FileHandle the writer opens is recorded, so the tests can check that none leaks and which path it wrote.
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return { ...actual, open: vi.fn(actual.open) };
});
const openMock = vi.mocked(open);

let dir: Awaited<ReturnType<typeof tempDir>>;
beforeEach(async () => {
  dir = await tempDir();
  openMock.mockClear();
});
afterEach(async () => {
  vi.restoreAllMocks();
  await dir.remove();
});

async function fileHandlePrototype(): Promise<{ write: (...args: unknown[]) => unknown }> {
  const handle = await open(dir.path, 'r');
  await handle.close();
  openMock.mockClear();
  return Object.getPrototypeOf(handle) as { write: (...args: unknown[]) => unknown };
}

describe('writeSafetensors', () => {
  it('writes the header with sorted keys and space padding, then the data in header order (exact bytes)', async () => {
    const path = dir.file('tiny.safetensors');
    await writeSafetensors({
      path,
      tensors: { b: { dtype: 'U8', shape: [2], data: new Uint8Array([1, 2]) }, a: { dtype: 'F32', shape: [1], data: new Float32Array([1]) } },
      metadata: { format: 'pt' },
    });
    // 137 bytes of JSON + 7 spaces = 144 = 0x90.
    const json = '{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]}}';
    const expected = new Uint8Array([
      ...[0x90, 0, 0, 0, 0, 0, 0, 0],
      ...new TextEncoder().encode(`${json}       `),
      ...[0x00, 0x00, 0x80, 0x3f], // a: 1.0
      ...[1, 2], // b
    ]);
    expect(new Uint8Array(await readFile(path))).toEqual(expected);
    expect(await dir.list()).toEqual(['tiny.safetensors']);
    expect(await expectAllClosed(openMock)).toBe(1);
  });

  it('writes an empty checkpoint as "{}" padded to 8 bytes, without __metadata__', async () => {
    const path = dir.file('empty.safetensors');
    await writeSafetensors({ path, tensors: {}, metadata: {} });
    expect(new Uint8Array(await readFile(path))).toEqual(new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, ...new TextEncoder().encode('{}      ')]));
  });

  it('orders names by code point (as Python sorts them), and takes a Map (for names such as __proto__)', async () => {
    const path = dir.file('names.safetensors');
    const t: TensorToWrite = { dtype: 'U8', shape: [1], data: new Uint8Array([0]) };
    const names = ['b', 'a', 'Z', '\u{1F600}', '\uFFFF', '__proto__', 'a.b', 'a0'];
    await writeSafetensors({ path, tensors: new Map(names.map((n) => [n, t])) });
    const header = parseSafetensorsHeader({ file: path, bytes: new Uint8Array(await readFile(path)) });
    expect([...header.tensors.keys()]).toEqual(['Z', '__proto__', 'a', 'a.b', 'a0', 'b', '\uFFFF', '\u{1F600}']);
  });

  it('replaces an existing file', async () => {
    const path = dir.file('x.safetensors');
    await writeFile(path, 'old');
    await writeSafetensors({ path, tensors: { a: { dtype: 'I8', shape: [1], data: new Int8Array([-1]) } } });
    expect((await readFile(path)).at(-1)).toBe(0xff);
    expect(await dir.list()).toEqual(['x.safetensors']);
  });

  it('writes to <path>.tmp-<pid>-<random>, created exclusively, then renames it', async () => {
    const path = dir.file('t.safetensors');
    await writeSafetensors({ path, tensors: {} });
    const [tempPath, flags] = openMock.mock.calls[0] as [string, string];
    expect(tempPath).toMatch(new RegExp(`^${path.replace(/[.]/g, '\\.')}\\.tmp-${process.pid}-[0-9a-f]{12}$`));
    expect(flags).toBe('wx');
  });
});

describe('writeSafetensors checks everything before writing anything', () => {
  const dtypes = 'F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2';
  const F32 = (shape: number[], n: number) => ({ dtype: 'F32', shape, data: new Float32Array(n) });
  it.each([
    ['an unknown dtype', { a: { dtype: 'F4', shape: [1], data: new Uint8Array(1) } }, undefined, CODES.INVALID_TENSOR, `tensor "a" dtype "F4" is not one of ${dtypes}`],
    ['a negative dimension', { a: F32([-1], 0) }, undefined, CODES.INVALID_TENSOR,
      'tensor "a" shape [-1] is not a list of non-negative integers (with fewer than 2^53 bytes in all)'],
    ['a fractional dimension', { a: F32([1.5], 1) }, undefined, CODES.INVALID_TENSOR,
      'tensor "a" shape [1.5] is not a list of non-negative integers (with fewer than 2^53 bytes in all)'],
    ['data of the wrong length', { ok: F32([1], 1), a: F32([2, 2], 3) }, undefined, CODES.INVALID_TENSOR, 'tensor "a" data holds 12 bytes, expected 16 (F32 [2, 2])'],
    ['data of another dtype', { a: { dtype: 'BF16', shape: [2], data: new Float32Array(1) } }, undefined, CODES.INVALID_TENSOR,
      'tensor "a" data is Float32Array, expected a Uint8Array of its bytes or a Uint16Array of BF16 values'],
    ['no data', { a: { dtype: 'U8', shape: [1] } }, undefined, CODES.INVALID_TENSOR,
      'tensor "a" data is undefined, expected a Uint8Array of its bytes or a Uint8Array of U8 values'],
    ['a tensor that is not an object', { a: 7 }, undefined, CODES.INVALID_TENSOR, 'tensor "a" is 7, expected { dtype, shape, data }'],
    ['a tensor named __metadata__', { __metadata__: F32([1], 1) }, undefined, CODES.INVALID_TENSOR,
      'tensor "__metadata__" is not a tensor name: __metadata__ and the empty string are not allowed'],
    ['a tensor with an empty name', { '': F32([1], 1) }, undefined, CODES.INVALID_TENSOR,
      'tensor "" is not a tensor name: __metadata__ and the empty string are not allowed'],
    ['metadata that is not strings', { a: F32([1], 1) }, { n: 5 }, CODES.INVALID_HEADER, 'metadata "n" is 5, expected a string (metadata maps strings to strings)'],
    ['metadata that is not an object', {}, ['x'], CODES.INVALID_HEADER, 'metadata is ["x"], expected an object of strings'],
  ] as const)('rejects %s', async (_, tensors, metadata, code, rule) => {
    const path = dir.file('bad.safetensors');
    const error = await rejection(writeSafetensors({ path, tensors: tensors as never, metadata: metadata as never }));
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error).toMatchObject({ code, message: `${path}: ${rule}` });
    expect(await dir.list()).toEqual([]);
    expect(openMock).not.toHaveBeenCalled();
  });
});

describe('writeSafetensors is atomic', () => {
  const tensors = { a: { dtype: 'F32', shape: [4], data: new Float32Array([1, 2, 3, 4]) }, b: { dtype: 'U8', shape: [1], data: new Uint8Array([9]) } } as const;

  it('leaves neither the file nor the temporary file when a write fails midway', async () => {
    const path = dir.file('full-disk.safetensors');
    const prototype = await fileHandlePrototype();
    const original = prototype.write;
    let calls = 0;
    // The header goes through, the first tensor does not.
    vi.spyOn(prototype, 'write').mockImplementation(function (this: unknown, ...args: unknown[]) {
      calls += 1;
      if (calls === 2) return Promise.reject(Object.assign(new Error('no space left on device'), { code: 'ENOSPC' }));
      return original.apply(this, args);
    });
    const error = await rejection(writeSafetensors({ path, tensors }));
    expect(error).toMatchObject({ code: CODES.IO_ERROR, file: path, message: `${path}: cannot write the file (ENOSPC)` });
    expect((error.cause as { code: string }).code).toBe('ENOSPC');
    expect(calls).toBe(2);
    expect(await dir.list()).toEqual([]);
    expect(await expectAllClosed(openMock)).toBe(1);
  });

  it('keeps the previous file whole when the new one fails', async () => {
    const path = dir.file('keep.safetensors');
    await writeFile(path, 'previous');
    vi.spyOn(await fileHandlePrototype(), 'write').mockRejectedValue(Object.assign(new Error('i/o'), { code: 'EIO' }));
    expect(await rejection(writeSafetensors({ path, tensors }))).toMatchObject({ code: CODES.IO_ERROR });
    expect(await readFile(path, 'utf8')).toBe('previous');
    expect(await dir.list()).toEqual(['keep.safetensors']);
  });

  it('removes the temporary file when the rename fails (the path is a directory)', async () => {
    const path = dir.file('taken');
    await mkdir(path);
    await writeFile(`${path}/inside`, 'x');
    const error = await rejection(writeSafetensors({ path, tensors }));
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toMatch(new RegExp(`^${path}: cannot write the file \\((EISDIR|ENOTEMPTY|EEXIST)\\)$`));
    expect(await dir.list()).toEqual(['taken']);
    expect(await expectAllClosed(openMock)).toBe(1);
  });

  it('fails without writing when the directory does not exist', async () => {
    const path = dir.file('no/such/dir.safetensors');
    expect(await rejection(writeSafetensors({ path, tensors }))).toMatchObject({ code: CODES.NOT_FOUND, message: `${path}: cannot write the file: no such file` });
  });
});
