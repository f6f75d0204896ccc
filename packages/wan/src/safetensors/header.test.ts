import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { findDuplicateKey } from './_duplicate-keys';
import { fileBytes } from './_test-helpers';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES as CODES } from './checkpoint-error';
import { SAFETENSORS_MAX_HEADER_BYTES, parseSafetensorsHeader } from './header';

const FILE = 'model.safetensors';

/** Parses a hand-built file: `header` JSON-encoded (or a string), then `dataLength` zero bytes. */
function parse(header: unknown, dataLength = 0, headerLength?: number | bigint) {
  return parseSafetensorsHeader({ file: FILE, bytes: fileBytes({ header, data: new Uint8Array(dataLength), headerLength }) });
}

function thrown(run: () => unknown): CheckpointError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(CheckpointError);
    return error as CheckpointError;
  }
  throw new Error('expected a CheckpointError');
}

const A = { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] };
const B = { dtype: 'BF16', shape: [3], data_offsets: [16, 22] };

describe('parseSafetensorsHeader', () => {
  it('stores a JSON -0 in a shape or an offset as 0 (found by the fuzz test)', () => {
    const header = parse('{"z":{"dtype":"F32","shape":[-0,3],"data_offsets":[-0,0]}}', 0);
    const info = header.tensors.get('z');
    expect(Object.is(info?.shape[0], 0)).toBe(true);
    expect(Object.is(info?.dataOffsets[0], 0)).toBe(true);
  });

  it('reads tensors (in the order of their data), metadata and the data section', () => {
    const header = parse({ b: B, __metadata__: { format: 'pt' }, a: A }, 22);
    expect([...header.tensors]).toEqual([
      ['a', { dtype: 'F32', shape: [2, 2], dataOffsets: [0, 16], byteLength: 16 }],
      ['b', { dtype: 'BF16', shape: [3], dataOffsets: [16, 22], byteLength: 6 }],
    ]);
    expect(header.metadata).toEqual({ format: 'pt' });
    const jsonLength = JSON.stringify({ b: B, __metadata__: { format: 'pt' }, a: A }).length;
    expect(header).toMatchObject({ headerLength: jsonLength, dataStart: 8 + jsonLength, dataLength: 22, gaps: [] });
  });

  it('accepts an empty header, no metadata, null metadata, padding spaces and extra fields of an entry', () => {
    expect(parse({}).tensors.size).toBe(0);
    expect(parse('{}      ').headerLength).toBe(8);
    expect(parse({ __metadata__: null }).metadata).toEqual({});
    expect(parse({ a: { ...A, extra: 1 } }, 16).tensors.get('a')?.byteLength).toBe(16);
  });

  it('accepts zero-size tensors anywhere in the data section (they overlap nothing), scalars and every dtype', () => {
    const header = parse({ a: A, e: { dtype: 'F64', shape: [0, 5], data_offsets: [8, 8] }, s: { dtype: 'F8_E4M3', shape: [], data_offsets: [16, 17] } }, 17);
    expect(header.tensors.get('e')).toEqual({ dtype: 'F64', shape: [0, 5], dataOffsets: [8, 8], byteLength: 0 });
    expect(header.tensors.get('s')?.byteLength).toBe(1);
  });

  it('lists the bytes no tensor covers as gaps, trailing bytes included', () => {
    const header = parse({ a: { ...A, data_offsets: [4, 20] }, b: { ...B, data_offsets: [24, 30] } }, 32);
    expect(header.gaps).toEqual([
      { begin: 0, end: 4 },
      { begin: 20, end: 24 },
      { begin: 30, end: 32 },
    ]);
  });

  it('keeps a tensor named __proto__ as a tensor, and metadata keys as own keys', () => {
    const header = parse('{"__proto__":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"__metadata__":{"__proto__":"x"}}', 1);
    expect([...header.tensors.keys()]).toEqual(['__proto__']);
    expect(Object.keys(header.metadata)).toEqual(['__proto__']);
  });

  it('reads the header from the first bytes of a file when fileSize gives its length', () => {
    const bytes = fileBytes({ header: { a: A } });
    expect(parseSafetensorsHeader({ file: FILE, bytes, fileSize: bytes.byteLength + 16 }).dataLength).toBe(16);
    const cut = () => parseSafetensorsHeader({ file: FILE, bytes: bytes.subarray(0, 12), fileSize: 1000 });
    expect(cut).toThrow(InvalidArgumentError);
    expect(cut).toThrow(`holds 12 bytes of ${FILE}, expected at least the ${bytes.byteLength} of its header`);
    expect(() => parseSafetensorsHeader({ file: FILE, bytes, fileSize: 3 })).toThrow(InvalidArgumentError);
  });
});

describe('parseSafetensorsHeader rejects', () => {
  const dtypes = 'F64, F32, F16, BF16, I64, I32, I16, I8, U64, U32, U16, U8, BOOL, F8_E4M3, F8_E5M2';
  it.each([
    ['a file shorter than the length', () => parseSafetensorsHeader({ file: FILE, bytes: new Uint8Array(5) }), CODES.TRUNCATED,
      'model.safetensors: truncated: the file holds 5 bytes, fewer than the 8-byte header length every safetensors file starts with'],
    ['a header length past the end of the file', () => parse({}, 0, 1000), CODES.TRUNCATED,
      'model.safetensors: truncated: header length 1000 bytes runs past the end of the file (10 bytes, room for 2)'],
    ['an absurd header length', () => parse({}, 0, 2n ** 63n), CODES.HEADER_TOO_LARGE,
      'model.safetensors: header length 9223372036854775808 bytes is over the 100000000-byte limit (not a safetensors file, or a corrupt one)'],
    ['a header length one past the limit', () => parse({}, 0, SAFETENSORS_MAX_HEADER_BYTES + 1), CODES.HEADER_TOO_LARGE,
      'model.safetensors: header length 100000001 bytes is over the 100000000-byte limit (not a safetensors file, or a corrupt one)'],
    ['an unknown dtype', () => parse({ a: { ...A, dtype: 'F4' } }, 16), CODES.INVALID_TENSOR,
      `model.safetensors: tensor "a" dtype "F4" is not one of ${dtypes}`],
    ['a lower-case dtype', () => parse({ a: { ...A, dtype: 'f32' } }, 16), CODES.INVALID_TENSOR,
      `model.safetensors: tensor "a" dtype "f32" is not one of ${dtypes}`],
    ['a missing dtype', () => parse({ a: { shape: [1], data_offsets: [0, 4] } }, 4), CODES.INVALID_TENSOR,
      `model.safetensors: tensor "a" dtype undefined is not one of ${dtypes}`],
    ['offsets holding the wrong size', () => parse({ 'blocks.0.self_attn.q.weight': { dtype: 'F32', shape: [32, 32], data_offsets: [0, 100] } }, 100), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "blocks.0.self_attn.q.weight" data_offsets [0, 100] hold 100 bytes, expected 4096 (F32 [32, 32])'],
    ['offsets past the data section', () => parse({ a: A }, 10), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "a" data_offsets [0, 16] run past the end of the data section (10 bytes): the file is truncated or the offsets are wrong'],
    ['overlapping offsets', () => parse({ a: A, b: { ...B, data_offsets: [8, 14] } }, 22), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "b" data_offsets [8, 14] overlap tensor "a" [0, 16]'],
    ['two tensors on the same bytes', () => parse({ a: A, c: A }, 16), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "c" data_offsets [0, 16] overlap tensor "a" [0, 16]'],
    ['offsets that end before they begin', () => parse({ a: { ...A, data_offsets: [16, 0] } }, 16), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "a" data_offsets [16, 0] end before they begin'],
    ['offsets that are not a pair', () => parse({ a: { ...A, data_offsets: [0] } }, 16), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "a" data_offsets [0] is not a pair [begin, end] of non-negative integers'],
    ['negative offsets', () => parse({ a: { ...A, data_offsets: [-16, 0] } }, 16), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "a" data_offsets [-16,0] is not a pair [begin, end] of non-negative integers'],
    ['offsets past 2^53', () => parse('{"a":{"dtype":"U8","shape":[1],"data_offsets":[9007199254740993,9007199254740994]}}', 16), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "a" data_offsets [9007199254740992,9007199254740994] is not a pair [begin, end] of non-negative integers'],
    ['a negative dimension', () => parse({ a: { ...A, shape: [2, -2] } }, 16), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "a" shape [2,-2] holds -2, expected non-negative integers'],
    ['a fractional dimension', () => parse({ a: { ...A, shape: [2.5] } }, 16), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "a" shape [2.5] holds 2.5, expected non-negative integers'],
    ['a shape that is not a list', () => parse({ a: { ...A, shape: 4 } }, 16), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "a" shape 4 is not a list of dimensions'],
    ['a shape of more than 2^53 bytes', () => parse({ a: { ...A, shape: [2 ** 30, 2 ** 30] } }, 16), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "a" shape [1073741824, 1073741824] has too many elements (its byte size is past 2^53)'],
    ['an entry that is not an object', () => parse({ a: 5 }), CODES.INVALID_TENSOR,
      'model.safetensors: tensor "a" is 5, expected an object { dtype, shape, data_offsets }'],
    ['metadata that is not an object', () => parse({ __metadata__: ['x'] }), CODES.INVALID_HEADER,
      'model.safetensors: __metadata__ is ["x"], expected an object of strings'],
    ['metadata values that are not strings', () => parse({ __metadata__: { total: 5 } }), CODES.INVALID_HEADER,
      'model.safetensors: __metadata__ "total" is 5, expected a string (metadata maps strings to strings)'],
    ['a header that is an array', () => parse([A]), CODES.INVALID_HEADER,
      'model.safetensors: header JSON is an array, expected an object of tensors'],
    ['a header that is null', () => parse(null), CODES.INVALID_HEADER,
      'model.safetensors: header JSON is null, expected an object of tensors'],
    ['a header that is a string', () => parse('"x"'), CODES.INVALID_HEADER,
      'model.safetensors: header JSON is a string, expected an object of tensors'],
    ['a tensor named twice', () => parse('{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}', 2), CODES.INVALID_HEADER,
      'model.safetensors: the header names "a" twice'],
    ['a field repeated in an entry', () => parse('{"a":{"dtype":"U8","dtype":"I8","shape":[1],"data_offsets":[0,1]}}', 1), CODES.INVALID_HEADER,
      'model.safetensors: the header repeats the key "dtype" in tensor "a"'],
    ['a metadata key repeated', () => parse('{"__metadata__":{"k":"1","k":"2"}}'), CODES.INVALID_HEADER,
      'model.safetensors: the header repeats the key "k" in __metadata__'],
    ['bytes that are not UTF-8', () => parseSafetensorsHeader({ file: FILE, bytes: fileBytes({ header: '{"\u00ff":1}' }).map((b) => (b === 0xc3 ? 0xff : b)) }), CODES.INVALID_HEADER,
      'model.safetensors: header is not valid UTF-8'],
  ] as const)('%s', (_, run, code, message) => {
    const error = thrown(run);
    expect(error.message).toBe(message);
    expect(error.code).toBe(code);
  });

  it.each([['{'], [''], ['{"a":1,}'], ['\ufeff{}'], ['{} x']])('header %j, which is not JSON, naming the parser error', (text) => {
    const error = thrown(() => parse(text));
    expect(error.code).toBe(CODES.INVALID_HEADER);
    expect(error.message).toMatch(/^model\.safetensors: header is not valid JSON \(.+\)$/);
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });

  it('names the tensor in the error fields', () => {
    expect(thrown(() => parse({ a: { ...A, dtype: 'X' } }, 16))).toMatchObject({ file: FILE, tensor: 'a', name: 'CheckpointError' });
    expect(thrown(() => parse([]))).toMatchObject({ file: FILE, tensor: null });
  });
});

describe('findDuplicateKey', () => {
  it.each([
    ['{"a":1,"b":2}', null],
    ['{"a":{"x":1},"b":{"x":1}}', null],
    ['[{"a":1},{"a":1}]', null],
    ['{"a":[1,{"x":"y"}],"b":["a","a"]}', null],
    ['{"a":"\\"a\\"","\\"a\\"":1}', null],
    ['{"a":1,"\\u0061":2}', { path: [], key: 'a' }],
    ['{"a":{"b":{"c":1,"c":2}}}', { path: ['a', 'b'], key: 'c' }],
    ['{"a":[{"c":1,"c":2}]}', { path: ['a'], key: 'c' }],
    ['{"k\\\\":{"x":[],"x":1}}', { path: ['k\\'], key: 'x' }],
  ])('%s -> %j', (text, expected) => {
    JSON.parse(text);
    expect(findDuplicateKey(text)).toEqual(expected);
  });
});
