/**
 * The safetensors header: what it holds and every rule it must follow.
 *
 * The format (toolchain.md, section "safetensors format"): an 8-byte little-endian u64 header length N; N bytes of
 * UTF-8 JSON `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__": { str: str } }`; then the data,
 * little-endian, row-major; offsets are relative to the first byte after the header. Writers pad the JSON with spaces
 * to a multiple of 8 bytes (JSON allows the trailing whitespace).
 *
 * Where we differ from the reference (Rust) implementation: it rejects gaps between tensors and bytes after the last
 * one; we accept them and list them in `gaps`. Like it, we ignore fields of a tensor entry other than the three, cap N
 * at 100,000,000 bytes and accept `"__metadata__": null`.
 */
import { InvalidArgumentError } from '@fpsattn/fp8';
import { findDuplicateKey } from './_duplicate-keys';
import { show, showList } from './_show';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES } from './checkpoint-error';
import { SAFETENSORS_DTYPES, type SafetensorsDtype, dtypeItemSize, isSafetensorsDtype, shapeElementCount } from './dtypes';

/** Bytes of the header length that opens every safetensors file. */
export const SAFETENSORS_LENGTH_BYTES = 8;

/**
 * The largest header length accepted, as in the reference implementation: a corrupt or foreign file can start with
 * any 8 bytes, and their value must not become an allocation of gigabytes. Wan2.1-1.3B's header is 83,224 bytes.
 */
export const SAFETENSORS_MAX_HEADER_BYTES = 100_000_000;

/** The key of the header that holds string-to-string metadata instead of a tensor. */
const METADATA_KEY = '__metadata__';

/** One tensor of a header. */
export interface SafetensorsTensorInfo {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  /** `[begin, end)` in bytes, relative to the start of the data section. */
  readonly dataOffsets: readonly [number, number];
  /** `end - begin` = element count x item size. */
  readonly byteLength: number;
}

/** A byte range `[begin, end)` of the data section. */
export interface SafetensorsByteRange {
  readonly begin: number;
  readonly end: number;
}

/** A validated header. */
export interface SafetensorsHeader {
  /** N, the JSON's length in bytes (padding included). */
  readonly headerLength: number;
  /** Where the data section starts in the file: 8 + N. */
  readonly dataStart: number;
  /** Bytes from the data section's start to the end of the file. */
  readonly dataLength: number;
  /** The tensors, in the order of their data (by `dataOffsets`). */
  readonly tensors: ReadonlyMap<string, SafetensorsTensorInfo>;
  /** `__metadata__` (empty when absent). */
  readonly metadata: Readonly<Record<string, string>>;
  /** The ranges of the data section no tensor covers, the bytes after the last tensor included (usually none). */
  readonly gaps: readonly SafetensorsByteRange[];
}

function fail(code: (typeof WAN_CHECKPOINT_ERROR_CODES)[keyof typeof WAN_CHECKPOINT_ERROR_CODES], file: string, rule: string, tensor?: string, cause?: unknown): never {
  throw new CheckpointError({ code, file, tensor: tensor ?? null, rule, cause });
}

/**
 * Reads N from the first 8 bytes of a file of `fileSize` bytes, and checks that the header fits in the file and under
 * {@link SAFETENSORS_MAX_HEADER_BYTES}.
 */
export function decodeHeaderLength(options: { file: string; prefix: Uint8Array; fileSize: number }): number {
  const { file, prefix, fileSize } = options;
  if (fileSize < SAFETENSORS_LENGTH_BYTES || prefix.byteLength < SAFETENSORS_LENGTH_BYTES) {
    fail(
      WAN_CHECKPOINT_ERROR_CODES.TRUNCATED,
      file,
      `truncated: the file holds ${Math.min(fileSize, prefix.byteLength)} bytes, fewer than the 8-byte header length every safetensors file starts with`,
    );
  }
  const n = new DataView(prefix.buffer, prefix.byteOffset, SAFETENSORS_LENGTH_BYTES).getBigUint64(0, true);
  if (n > BigInt(SAFETENSORS_MAX_HEADER_BYTES)) {
    fail(
      WAN_CHECKPOINT_ERROR_CODES.HEADER_TOO_LARGE,
      file,
      `header length ${n} bytes is over the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit (not a safetensors file, or a corrupt one)`,
    );
  }
  const headerLength = Number(n);
  if (SAFETENSORS_LENGTH_BYTES + headerLength > fileSize) {
    fail(
      WAN_CHECKPOINT_ERROR_CODES.TRUNCATED,
      file,
      `truncated: header length ${headerLength} bytes runs past the end of the file (${fileSize} bytes, room for ${fileSize - SAFETENSORS_LENGTH_BYTES})`,
    );
  }
  return headerLength;
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describeKind(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

function readMetadata(file: string, value: unknown): Record<string, string> {
  if (value === undefined || value === null) return {};
  if (!isRecord(value)) fail(WAN_CHECKPOINT_ERROR_CODES.INVALID_HEADER, file, `__metadata__ is ${show(value)}, expected an object of strings`);
  for (const [key, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      fail(WAN_CHECKPOINT_ERROR_CODES.INVALID_HEADER, file, `__metadata__ ${JSON.stringify(key)} is ${show(v)}, expected a string (metadata maps strings to strings)`);
    }
  }
  return Object.fromEntries(Object.entries(value)) as Record<string, string>;
}

function readTensor(file: string, name: string, entry: unknown, dataLength: number): SafetensorsTensorInfo {
  const bad = (rule: string): never => fail(WAN_CHECKPOINT_ERROR_CODES.INVALID_TENSOR, file, rule, name);
  if (!isRecord(entry)) return bad(`is ${show(entry)}, expected an object { dtype, shape, data_offsets }`);
  const { dtype, shape, data_offsets: offsets } = entry;
  if (!isSafetensorsDtype(dtype)) return bad(`dtype ${show(dtype)} is not one of ${SAFETENSORS_DTYPES.join(', ')}`);
  if (!Array.isArray(shape)) return bad(`shape ${show(shape)} is not a list of dimensions`);
  const elements = shapeElementCount(shape);
  if (elements === null) {
    const badDim = shape.find((d) => typeof d !== 'number' || !Number.isSafeInteger(d) || d < 0);
    return badDim === undefined
      ? bad(`shape ${showList(shape as number[])} has too many elements (its byte size is past 2^53)`)
      : bad(`shape ${show(shape)} holds ${show(badDim)}, expected non-negative integers`);
  }
  const isOffset = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !isOffset(offsets[0]) || !isOffset(offsets[1])) {
    return bad(`data_offsets ${show(offsets)} is not a pair [begin, end] of non-negative integers`);
  }
  const [begin, end] = offsets as [number, number];
  if (end < begin) return bad(`data_offsets ${showList([begin, end])} end before they begin`);
  const expected = elements * dtypeItemSize(dtype);
  if (end - begin !== expected) {
    return bad(`data_offsets ${showList([begin, end])} hold ${end - begin} bytes, expected ${expected} (${dtype} ${showList(shape as number[])})`);
  }
  if (end > dataLength) {
    return bad(`data_offsets ${showList([begin, end])} run past the end of the data section (${dataLength} bytes): the file is truncated or the offsets are wrong`);
  }
  // JSON's -0 is a valid non-negative integer here; `+ 0` stores it as 0 (so -0 never leaks into shapes or offsets).
  const dims = (shape as number[]).map((d) => d + 0);
  return { dtype, shape: Object.freeze(dims), dataOffsets: Object.freeze([begin + 0, end + 0]) as readonly [number, number], byteLength: expected };
}

/** Sorted by data, checked for overlaps (empty tensors overlap nothing), with the uncovered ranges listed. */
function layOut(file: string, entries: [string, SafetensorsTensorInfo][], dataLength: number): SafetensorsByteRange[] {
  entries.sort(([, a], [, b]) => a.dataOffsets[0] - b.dataOffsets[0] || a.dataOffsets[1] - b.dataOffsets[1]);
  const gaps: SafetensorsByteRange[] = [];
  let covered = 0;
  let last: [string, SafetensorsTensorInfo] | null = null;
  for (const entry of entries) {
    const [name, info] = entry;
    const [begin, end] = info.dataOffsets;
    if (begin === end) continue;
    if (last !== null && begin < covered) {
      fail(
        WAN_CHECKPOINT_ERROR_CODES.INVALID_TENSOR,
        file,
        `data_offsets ${showList([begin, end])} overlap tensor ${JSON.stringify(last[0])} ${showList([...last[1].dataOffsets])}`,
        name,
      );
    }
    if (begin > covered) gaps.push({ begin: covered, end: begin });
    covered = end;
    last = entry;
  }
  if (covered < dataLength) gaps.push({ begin: covered, end: dataLength });
  return gaps;
}

/**
 * Parses and validates the N header bytes of a file of `fileSize` bytes (the JSON, without the 8-byte length before
 * it). Throws a {@link CheckpointError} naming `file`, the tensor and the rule at the first problem.
 */
export function parseHeaderJson(options: { file: string; json: Uint8Array; fileSize: number }): SafetensorsHeader {
  const { file, json, fileSize } = options;
  const headerLength = json.byteLength;
  const dataStart = SAFETENSORS_LENGTH_BYTES + headerLength;
  const dataLength = fileSize - dataStart;
  if (dataLength < 0) {
    fail(WAN_CHECKPOINT_ERROR_CODES.TRUNCATED, file, `truncated: header length ${headerLength} bytes runs past the end of the file (${fileSize} bytes)`);
  }

  let text: string;
  try {
    text = utf8.decode(json);
  } catch (cause) {
    fail(WAN_CHECKPOINT_ERROR_CODES.INVALID_HEADER, file, 'header is not valid UTF-8', undefined, cause);
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (cause) {
    fail(WAN_CHECKPOINT_ERROR_CODES.INVALID_HEADER, file, `header is not valid JSON (${(cause as Error).message})`, undefined, cause);
  }
  if (!isRecord(root)) fail(WAN_CHECKPOINT_ERROR_CODES.INVALID_HEADER, file, `header JSON is ${describeKind(root)}, expected an object of tensors`);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== null) {
    if (duplicate.path.length === 0) {
      fail(WAN_CHECKPOINT_ERROR_CODES.INVALID_HEADER, file, `the header names ${JSON.stringify(duplicate.key)} twice`);
    }
    const [owner] = duplicate.path as [string];
    const within = owner === METADATA_KEY ? 'in __metadata__' : `in tensor ${JSON.stringify(owner)}`;
    fail(WAN_CHECKPOINT_ERROR_CODES.INVALID_HEADER, file, `the header repeats the key ${JSON.stringify(duplicate.key)} ${within}`);
  }

  const metadata = readMetadata(file, root[METADATA_KEY]);
  const entries: [string, SafetensorsTensorInfo][] = [];
  for (const [name, entry] of Object.entries(root)) {
    if (name !== METADATA_KEY) entries.push([name, readTensor(file, name, entry, dataLength)]);
  }
  const gaps = layOut(file, entries, dataLength);
  return {
    headerLength,
    dataStart,
    dataLength,
    tensors: new Map(entries),
    metadata: Object.freeze(metadata),
    gaps: Object.freeze(gaps),
  };
}

/**
 * Parses and validates the header of a safetensors file held in memory: `bytes` is the file, or its first bytes
 * (at least 8 + N) when `fileSize` gives the whole file's length.
 *
 * @example parseSafetensorsHeader({ file: 'model.safetensors', bytes: await readFile('model.safetensors') })
 */
export function parseSafetensorsHeader(options: { file: string; bytes: Uint8Array; fileSize?: number }): SafetensorsHeader {
  const { file, bytes } = options;
  const fileSize = options.fileSize ?? bytes.byteLength;
  if (!Number.isSafeInteger(fileSize) || fileSize < bytes.byteLength) {
    throw new InvalidArgumentError({ argument: 'fileSize', value: fileSize, message: `expected an integer of at least bytes.byteLength (${bytes.byteLength})` });
  }
  const headerLength = decodeHeaderLength({ file, prefix: bytes, fileSize });
  const end = SAFETENSORS_LENGTH_BYTES + headerLength;
  if (bytes.byteLength < end) {
    throw new InvalidArgumentError({
      argument: 'bytes',
      value: bytes.byteLength,
      message: `holds ${bytes.byteLength} bytes of ${file}, expected at least the ${end} of its header`,
    });
  }
  return parseHeaderJson({ file, json: bytes.subarray(SAFETENSORS_LENGTH_BYTES, end), fileSize });
}
