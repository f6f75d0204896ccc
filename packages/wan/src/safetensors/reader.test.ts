import fc from 'fast-check';
import { open, truncate, writeFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { expectAllClosed, fileBytes, rejection, tempDir } from './_test-helpers';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES as CODES } from './checkpoint-error';
import { SAFETENSORS_DTYPES, type SafetensorsDtype, dtypeArrayClass, dtypeItemSize } from './dtypes';
import { openSafetensors } from './reader';
import { writeSafetensors } from './writer';

// Every FileHandle the reader (and the writer) opens is recorded, so the tests can check that none leaks.
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

/** The prototype every FileHandle shares, to spy on its methods. */
async function fileHandlePrototype(): Promise<{ read: (...args: unknown[]) => unknown }> {
  const handle = await open(dir.path, 'r');
  await handle.close();
  openMock.mockClear(); // not one of the handles under test
  return Object.getPrototypeOf(handle) as { read: (...args: unknown[]) => unknown };
}

describe('openSafetensors on a file built by hand', () => {
  // The header, 191 bytes of JSON plus one space of padding: 192 = 0xc0. The F32 tensor starts at data byte 1, so
  // its values are not aligned in the file.
  const json =
    '{"u":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"f":{"dtype":"F32","shape":[2],"data_offsets":[1,9]},' +
    '"h":{"dtype":"F16","shape":[2],"data_offsets":[9,13]},"__metadata__":{"format":"pt"}} ';
  const bytes = new Uint8Array([
    ...[0xc0, 0, 0, 0, 0, 0, 0, 0], // header length 192, u64 little-endian
    ...new TextEncoder().encode(json),
    0x07, // u: 7
    ...[0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0], // f: 1.0 (0x3f800000), -2.5 (0xc0200000)
    ...[0x00, 0x3c, 0xff, 0x7b], // h: 1.0 (0x3c00), 65504 (0x7bff)
  ]);

  it('decodes its header, metadata and every tensor', async () => {
    expect(json.length).toBe(192);
    const path = dir.file('golden.safetensors');
    await writeFile(path, bytes);
    const file = await openSafetensors(path);
    expect(file.path).toBe(path);
    expect(file.metadata).toEqual({ format: 'pt' });
    expect(file.header).toMatchObject({ headerLength: 192, dataStart: 200, dataLength: 13, gaps: [] });
    expect([...file.tensors.keys()]).toEqual(['u', 'f', 'h']);
    expect(file.tensors.get('f')).toEqual({ dtype: 'F32', shape: [2], dataOffsets: [1, 9], byteLength: 8 });
    expect(await file.read('u')).toEqual(new Uint8Array([7]));
    expect(await file.read('f')).toEqual(new Float32Array([1, -2.5]));
    expect(await file.read('h')).toEqual(new Uint16Array([0x3c00, 0x7bff]));
    expect(await file.readBytes('f')).toEqual(new Uint8Array([0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x20, 0xc0]));
    expect(await file.readAsFloat32('h')).toEqual(new Float32Array([1, 65504]));
    expect(await file.readAsFloat32('u')).toEqual(new Float32Array([7]));
    await file.close();
    expect(await expectAllClosed(openMock)).toBe(1);
  });
});

/** Values of each dtype, as bytes: random, but the same on every run. */
function sampleBytes(dtype: SafetensorsDtype, count: number, seed: number): Uint8Array {
  const bytes = new Uint8Array(count * dtypeItemSize(dtype));
  for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 193 + seed * 71 + 17) & 0xff;
  if (dtype === 'BOOL') bytes.forEach((b, i) => (bytes[i] = b & 1));
  return bytes;
}

describe('openSafetensors after writeSafetensors', () => {
  it.each(SAFETENSORS_DTYPES)('round-trips %s bit for bit, given as bytes or as its typed array', async (dtype) => {
    const raw = sampleBytes(dtype, 15, 1);
    const ArrayClass = dtypeArrayClass(dtype);
    const typed = new ArrayClass(raw.slice().buffer);
    const path = dir.file(`${dtype}.safetensors`);
    await writeSafetensors({ path, tensors: { raw: { dtype, shape: [3, 5], data: raw }, typed: { dtype, shape: [15], data: typed } } });
    const file = await openSafetensors(path);
    expect(file.tensors.get('raw')).toMatchObject({ dtype, shape: [3, 5], byteLength: raw.byteLength });
    expect(await file.readBytes('raw')).toEqual(raw);
    expect(await file.readBytes('typed')).toEqual(raw);
    const read = await file.read('typed');
    expect(read).toBeInstanceOf(ArrayClass);
    expect(new Uint8Array(read.buffer, read.byteOffset, read.byteLength)).toEqual(raw);
    await file.close();
  });

  it('round-trips every dtype in one file, whatever the alignment of each tensor', async () => {
    // 15 elements each: after the U8/BOOL/F8 tensors, the wider ones start at odd offsets.
    const tensors = Object.fromEntries(SAFETENSORS_DTYPES.map((dtype, i) => [`t${i}`, { dtype, shape: [15], data: sampleBytes(dtype, 15, i) }]));
    const path = dir.file('all.safetensors');
    await writeSafetensors({ path, tensors, metadata: { format: 'pt' } });
    const file = await openSafetensors(path);
    expect(file.tensors.size).toBe(SAFETENSORS_DTYPES.length);
    expect([...file.tensors.values()].some((t) => t.dataOffsets[0] % dtypeItemSize(t.dtype) !== 0)).toBe(true);
    for (const [name, { data }] of Object.entries(tensors)) expect(await file.readBytes(name)).toEqual(data);
    // Concurrent reads of one handle do not disturb each other (positioned reads).
    const all = await Promise.all(Object.keys(tensors).map((name) => file.readBytes(name)));
    expect(all).toEqual(Object.values(tensors).map((t) => t.data));
    await file[Symbol.asyncDispose]();
    await expectAllClosed(openMock);
  });

  it('reads empty tensors and scalars', async () => {
    const path = dir.file('edge.safetensors');
    await writeSafetensors({
      path,
      tensors: { empty: { dtype: 'F32', shape: [0, 7], data: new Float32Array(0) }, scalar: { dtype: 'F64', shape: [], data: new Float64Array([Math.PI]) } },
    });
    await using file = await openSafetensors(path);
    expect(await file.read('empty')).toEqual(new Float32Array(0));
    expect(await file.read('scalar')).toEqual(new Float64Array([Math.PI]));
    expect(await file.readAsFloat32('scalar')).toEqual(new Float32Array([Math.fround(Math.PI)]));
  });
});

describe('readAsFloat32', () => {
  const f16 = [0x3c00, 0xc000, 0x7bff, 0x0001, 0x7c00, 0xfc00, 0x8000];
  const i64 = [2n ** 53n + 1n, -(2n ** 63n), 2n ** 24n + 1n, 2n ** 54n + 2n ** 30n + 1n, 2n ** 63n - 1n];
  it.each([
    ['F64', new Float64Array([1.5, 1 / 3, -0, 1e300, -1e-50]), [1.5, Math.fround(1 / 3), -0, Infinity, -0]],
    ['F16', new Uint16Array(f16), [1, -2, 65504, 2 ** -24, Infinity, -Infinity, -0]],
    ['BF16', new Uint16Array([0x3f80, 0xc0a0, 0x7f80, 0x0001, 0x8000]), [1, -5, Infinity, 2 ** -133, -0]],
    ['F8_E4M3', new Uint8Array([0x7e, 0x38, 0x01, 0x80, 0xfe]), [448, 1, 2 ** -9, -0, -448]],
    ['F8_E5M2', new Uint8Array([0x7b, 0x3c, 0x7c, 0x01, 0xfc]), [57344, 1, Infinity, 2 ** -16, -Infinity]],
    // 2^54 + 2^30 + 1 is just above a float32 midpoint: rounding through float64 would land on the midpoint, then on 2^54.
    ['I64', new BigInt64Array(i64), [2 ** 53, -(2 ** 63), 2 ** 24, 2 ** 54 + 2 ** 31, 2 ** 63]],
    ['U64', new BigUint64Array([2n ** 64n - 1n, 3n]), [2 ** 64, 3]],
    ['I32', new Int32Array([2147483647, -5, 16777217]), [2147483648, -5, 16777216]],
    ['U32', new Uint32Array([4294967295]), [4294967296]],
    ['I16', new Int16Array([-32768, 7]), [-32768, 7]],
    ['U16', new Uint16Array([65535]), [65535]],
    ['I8', new Int8Array([-128, 127]), [-128, 127]],
    ['U8', new Uint8Array([0, 255]), [0, 255]],
    ['BOOL', new Uint8Array([0, 1, 2]), [0, 1, 1]],
  ] as const)('converts %s like torch .float()', async (dtype, data, expected) => {
    const path = dir.file('values.safetensors');
    await writeSafetensors({ path, tensors: { x: { dtype, shape: [data.length], data } } });
    await using file = await openSafetensors(path);
    expect(await file.readAsFloat32('x')).toEqual(new Float32Array(expected));
  });

  it('keeps NaNs NaN (and BF16 NaN payloads bit for bit)', async () => {
    const path = dir.file('nan.safetensors');
    await writeSafetensors({
      path,
      tensors: {
        b: { dtype: 'BF16', shape: [1], data: new Uint16Array([0xffc1]) },
        h: { dtype: 'F16', shape: [1], data: new Uint16Array([0x7e00]) },
        e: { dtype: 'F8_E4M3', shape: [1], data: new Uint8Array([0x7f]) },
        m: { dtype: 'F8_E5M2', shape: [1], data: new Uint8Array([0x7e]) },
      },
    });
    await using file = await openSafetensors(path);
    expect(new Uint32Array((await file.readAsFloat32('b')).buffer)).toEqual(new Uint32Array([0xffc10000]));
    for (const name of ['h', 'e', 'm']) expect((await file.readAsFloat32(name))[0]).toBeNaN();
  });

  it('returns the F32 array it read, without a copy', async () => {
    const path = dir.file('f32.safetensors');
    await writeSafetensors({ path, tensors: { x: { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) } } });
    await using file = await openSafetensors(path);
    expect(await file.readAsFloat32('x')).toEqual(new Float32Array([1, 2]));
  });
});

describe('openSafetensors reads lazily', () => {
  it('reads the header and then only the bytes of the tensor asked for, from a 64 MB file', async () => {
    const big = 2 ** 24; // F32 elements: 64 MiB
    const header = { big: { dtype: 'F32', shape: [big], data_offsets: [0, 4 * big] }, small: { dtype: 'F32', shape: [4], data_offsets: [4 * big, 4 * big + 16] } };
    const head = fileBytes({ header });
    const dataStart = head.byteLength;
    const path = dir.file('big.safetensors');
    await writeFile(path, head);
    await truncate(path, dataStart + 4 * big + 16); // sparse: the 64 MiB of zeros cost no disk
    const handle = await open(path, 'r+');
    await handle.write(new Uint8Array(new Float32Array([1, 2, 3, 4]).buffer), 0, 16, dataStart + 4 * big);
    await handle.close();

    const prototype = await fileHandlePrototype();
    const read = vi.spyOn(prototype, 'read');
    const readWhole = vi.spyOn(prototype as unknown as { readFile: () => unknown }, 'readFile');
    const file = await openSafetensors(path);
    expect(await file.readAsFloat32('small')).toEqual(new Float32Array([1, 2, 3, 4]));
    await file.close();
    // [length, position] of every read: the 8-byte length, the JSON, the 16 bytes of "small".
    expect(read.mock.calls.map((call) => [call[2], call[3]])).toEqual([
      [8, 0],
      [dataStart - 8, 8],
      [16, dataStart + 4 * big],
    ]);
    expect(readWhole).not.toHaveBeenCalled();
  });
});

describe('openSafetensors rejects', () => {
  const name = 'bad.safetensors';
  const A = { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] };
  it.each([
    ['a truncated file (5 bytes)', new Uint8Array(5), CODES.TRUNCATED,
      'truncated: the file holds 5 bytes, fewer than the 8-byte header length every safetensors file starts with'],
    ['an empty file', new Uint8Array(0), CODES.TRUNCATED,
      'truncated: the file holds 0 bytes, fewer than the 8-byte header length every safetensors file starts with'],
    ['a header length past the end of the file', fileBytes({ header: { a: A }, headerLength: 4096 }), CODES.TRUNCATED,
      'truncated: header length 4096 bytes runs past the end of the file (65 bytes, room for 57)'],
    ['an absurdly large header length', fileBytes({ header: {}, headerLength: 2n ** 40n }), CODES.HEADER_TOO_LARGE,
      'header length 1099511627776 bytes is over the 100000000-byte limit (not a safetensors file, or a corrupt one)'],
    ['data cut short', fileBytes({ header: { a: A }, data: new Uint8Array(10) }), CODES.INVALID_TENSOR,
      'tensor "a" data_offsets [0, 16] run past the end of the data section (10 bytes): the file is truncated or the offsets are wrong'],
    ['out-of-range offsets', fileBytes({ header: { a: { ...A, data_offsets: [100, 116] } }, data: new Uint8Array(16) }), CODES.INVALID_TENSOR,
      'tensor "a" data_offsets [100, 116] run past the end of the data section (16 bytes): the file is truncated or the offsets are wrong'],
    ['overlapping offsets', fileBytes({ header: { a: A, b: { ...A, data_offsets: [12, 28] } }, data: new Uint8Array(28) }), CODES.INVALID_TENSOR,
      'tensor "b" data_offsets [12, 28] overlap tensor "a" [0, 16]'],
    ['an unknown dtype', fileBytes({ header: { a: { ...A, dtype: 'F4' } }, data: new Uint8Array(16) }), CODES.INVALID_TENSOR,
      'tensor "a" dtype "F4" is not one of F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2'],
    ['a header that is not JSON', fileBytes({ header: 'PK\u0003\u0004' }), CODES.INVALID_HEADER, /^header is not valid JSON \(/],
  ] as const)('%s, naming the file, and closes it', async (_, bytes, code, rule) => {
    const path = dir.file(name);
    await writeFile(path, bytes);
    const error = await rejection(openSafetensors(path));
    expect(error).toBeInstanceOf(CheckpointError);
    expect((error as CheckpointError).code).toBe(code);
    if (typeof rule === 'string') expect(error.message).toBe(`${path}: ${rule}`);
    else expect((error as CheckpointError).rule).toMatch(rule);
    expect(await expectAllClosed(openMock)).toBe(1);
  });

  it('a missing file and a directory', async () => {
    const missing = dir.file('missing.safetensors');
    expect(await rejection(openSafetensors(missing))).toMatchObject({ code: CODES.NOT_FOUND, message: `${missing}: cannot open the file: no such file` });
    expect(await rejection(openSafetensors(dir.path))).toMatchObject({ code: CODES.NOT_FOUND, message: `${dir.path}: is not a file (openCheckpoint takes directories)` });
    expect(await expectAllClosed(openMock)).toBe(1);
  });

  it('a failing read of the header, closing the file', async () => {
    const path = dir.file('io.safetensors');
    await writeFile(path, fileBytes({ header: {} }));
    vi.spyOn(await fileHandlePrototype(), 'read').mockRejectedValueOnce(Object.assign(new Error('i/o error'), { code: 'EIO' }));
    const error = await rejection(openSafetensors(path));
    expect(error).toMatchObject({ code: CODES.IO_ERROR, message: `${path}: cannot read 8 bytes at offset 0 (EIO)` });
    expect((error.cause as { code: string }).code).toBe('EIO');
    expect(await expectAllClosed(openMock)).toBe(1);
  });

  it('random files: opens them or throws a CheckpointError, and never leaves one open', async () => {
    const path = dir.file('random.safetensors');
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), fc.nat(64), async (body, length) => {
        const bytes = new Uint8Array(8 + body.byteLength);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(length), true);
        bytes.set(body, 8);
        await writeFile(path, bytes);
        try {
          await (await openSafetensors(path)).close();
        } catch (error) {
          expect(error).toBeInstanceOf(CheckpointError);
        }
      }),
      { numRuns: 60 },
    );
    expect(await expectAllClosed(openMock)).toBe(60);
  });
});

describe('SafetensorsFile reads', () => {
  async function small(): Promise<string> {
    const path = dir.file('small.safetensors');
    await writeSafetensors({ path, tensors: { a: { dtype: 'F32', shape: [4], data: new Float32Array([1, 2, 3, 4]) } } });
    return path;
  }

  it('reject a tensor the file does not hold', async () => {
    const path = await small();
    await using file = await openSafetensors(path);
    expect(await rejection(file.read('b'))).toMatchObject({ code: CODES.UNKNOWN_TENSOR, tensor: 'b', message: `${path}: tensor "b" is not in the file (it holds 1 tensors)` });
    expect(await rejection(file.readAsFloat32('constructor'))).toMatchObject({ code: CODES.UNKNOWN_TENSOR });
  });

  it('reject reads after close, and close twice is harmless', async () => {
    const path = await small();
    const file = await openSafetensors(path);
    await file.close();
    await file.close();
    expect(await rejection(file.readBytes('a'))).toMatchObject({ code: CODES.CLOSED, message: `${path}: tensor "a" cannot be read: the file was closed` });
    expect(await expectAllClosed(openMock)).toBe(2); // the writer's handle and the reader's
  });

  it('reject a tensor whose bytes vanished since the file was opened (TRUNCATED), and still close', async () => {
    const path = await small();
    const file = await openSafetensors(path);
    await truncate(path, file.header.dataStart + 6);
    expect(await rejection(file.read('a'))).toMatchObject({
      code: CODES.TRUNCATED,
      message: `${path}: tensor "a" truncated: the file ends at byte ${file.header.dataStart + 6}, expected 10 more bytes (it shrank since it was opened?)`,
    });
    await file.close();
    await expectAllClosed(openMock);
  });
});
