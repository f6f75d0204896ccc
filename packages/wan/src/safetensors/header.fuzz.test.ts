// Property tests of the header parser: on any input it returns a header that keeps every rule, or throws a
// CheckpointError; never another exception, never a hang (every run is bounded by the test's time).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fileBytes } from './_test-helpers';
import { CheckpointError } from './checkpoint-error';
import { SAFETENSORS_DTYPES, dtypeItemSize } from './dtypes';
import { type SafetensorsHeader, parseSafetensorsHeader } from './header';

// A fixed seed keeps CI deterministic (a red run must reproduce); FPSATTN_FUZZ_SEED=<n> explores other inputs.
fc.configureGlobal({ seed: Number(process.env.FPSATTN_FUZZ_SEED ?? 20261201) });

const FILE = 'fuzz.safetensors';

/** Checks a parsed header against the rules, independently of the parser's own code. */
function expectValid(header: SafetensorsHeader, fileSize: number): void {
  expect(header.dataStart).toBe(8 + header.headerLength);
  expect(header.dataLength).toBe(fileSize - header.dataStart);
  expect(header.dataLength).toBeGreaterThanOrEqual(0);
  const ranges: [number, number][] = [];
  for (const info of header.tensors.values()) {
    expect(SAFETENSORS_DTYPES).toContain(info.dtype);
    for (const d of info.shape) expect(Number.isSafeInteger(d) && d >= 0).toBe(true);
    const [begin, end] = info.dataOffsets;
    expect(Number.isSafeInteger(begin) && Number.isSafeInteger(end) && begin >= 0).toBe(true);
    expect(end - begin).toBe(info.shape.reduce((p, d) => p * d, 1) * dtypeItemSize(info.dtype));
    expect(info.byteLength).toBe(end - begin);
    expect(end).toBeLessThanOrEqual(header.dataLength);
    if (end > begin) ranges.push([begin, end]);
  }
  // Tensors and gaps tile the data section exactly once.
  const pieces = [...ranges, ...header.gaps.map((g): [number, number] => [g.begin, g.end])].sort((a, b) => a[0] - b[0]);
  let at = 0;
  for (const [begin, end] of pieces) {
    expect(begin).toBe(at);
    at = end;
  }
  expect(at).toBe(header.dataLength);
  for (const value of Object.values(header.metadata)) expect(typeof value).toBe('string');
}

/** Parses, and checks that the outcome is a valid header or a CheckpointError. */
function parsesOrRejects(bytes: Uint8Array, fileSize = bytes.byteLength): 'ok' | 'rejected' {
  let header: SafetensorsHeader;
  try {
    header = parseSafetensorsHeader({ file: FILE, bytes, fileSize });
  } catch (error) {
    if (!(error instanceof CheckpointError)) throw error;
    expect(error.message.startsWith(`${FILE}: `)).toBe(true);
    return 'rejected';
  }
  expectValid(header, fileSize);
  return 'ok';
}

const dtypeArb = fc.constantFrom(...SAFETENSORS_DTYPES);
const tensorArb = fc.record({ dtype: dtypeArb, shape: fc.array(fc.integer({ min: 0, max: 4 }), { maxLength: 3 }) });

/** A valid header object and its data length: tensors back to back in the order generated, with optional gaps. */
const validArb = fc
  .record({
    tensors: fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 6 }), tensorArb, fc.nat(3)), { selector: ([name]) => name, maxLength: 6 }),
    metadata: fc.option(fc.dictionary(fc.string({ maxLength: 4 }), fc.string({ maxLength: 4 }), { maxKeys: 3 }), { nil: undefined }),
    trailing: fc.nat(4),
  })
  .filter(({ tensors }) => tensors.every(([name]) => name !== '__metadata__'))
  .map(({ tensors, metadata, trailing }) => {
    const header: Record<string, unknown> = {};
    if (metadata !== undefined) header.__metadata__ = metadata;
    let offset = 0;
    for (const [name, { dtype, shape }, gap] of tensors) {
      offset += gap;
      const size = shape.reduce((p, d) => p * d, 1) * dtypeItemSize(dtype);
      Object.defineProperty(header, name, { value: { dtype, shape, data_offsets: [offset, offset + size] }, enumerable: true });
      offset += size;
    }
    return { header, dataLength: offset + trailing };
  });

/** Numbers a bad header would hold: negative, huge, fractional, unsafe, not numbers at all. */
const weirdNumberArb = fc.oneof(
  fc.integer({ min: -5, max: 40 }),
  fc.constantFrom(-1, 0.5, 1e20, 2 ** 53, 2 ** 53 + 2, Number.MAX_SAFE_INTEGER, -0, 1e308),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);
const weirdValueArb = fc.oneof(weirdNumberArb, fc.jsonValue({ maxDepth: 2 }), fc.array(weirdNumberArb, { maxLength: 3 }));

type Mutation = (header: Record<string, unknown>) => void;

function pickTensor(header: Record<string, unknown>, pick: number): Record<string, unknown> | null {
  const names = Object.keys(header).filter((n) => n !== '__metadata__');
  if (names.length === 0) return null;
  const entry = header[names[pick % names.length] as string];
  return typeof entry === 'object' && entry !== null && !Array.isArray(entry) ? (entry as Record<string, unknown>) : null;
}

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.tuple(fc.nat(), fc.constantFrom('dtype', 'shape', 'data_offsets'), weirdValueArb).map(([pick, field, value]): Mutation => (h) => {
    const t = pickTensor(h, pick);
    if (t !== null) t[field] = value;
  }),
  fc.tuple(fc.nat(), fc.constantFrom('dtype', 'shape', 'data_offsets')).map(([pick, field]): Mutation => (h) => {
    const t = pickTensor(h, pick);
    if (t !== null) delete t[field];
  }),
  fc.tuple(fc.nat(), fc.nat(1), weirdNumberArb).map(([pick, which, value]): Mutation => (h) => {
    const t = pickTensor(h, pick);
    if (t !== null && Array.isArray(t.data_offsets)) t.data_offsets = t.data_offsets.map((v, i) => (i === which ? value : v));
  }),
  fc.tuple(fc.nat(), fc.nat(), weirdNumberArb).map(([pick, index, value]): Mutation => (h) => {
    const t = pickTensor(h, pick);
    if (t !== null && Array.isArray(t.shape) && t.shape.length > 0) t.shape[index % t.shape.length] = value;
  }),
  fc.tuple(fc.nat(), fc.nat(), fc.integer({ min: -8, max: 8 })).map(([a, b, shift]): Mutation => (h) => {
    // Move a tensor onto another one's bytes, shifted a little: overlaps, mostly.
    const ta = pickTensor(h, a);
    const tb = pickTensor(h, b);
    if (ta === null || tb === null || !Array.isArray(ta.data_offsets) || !Array.isArray(tb.data_offsets)) return;
    const [begin, end] = ta.data_offsets as number[];
    const start = (tb.data_offsets[0] as number) + shift;
    ta.data_offsets = [start, start + ((end as number) - (begin as number))];
  }),
  weirdValueArb.map((value): Mutation => (h) => {
    h.__metadata__ = value;
  }),
  fc.tuple(fc.string({ maxLength: 4 }), weirdValueArb).map(([name, value]): Mutation => (h) => {
    Object.defineProperty(h, name, { value, enumerable: true, configurable: true, writable: true });
  }),
);

describe('parseSafetensorsHeader under fuzzing', () => {
  it('returns a valid header or throws a CheckpointError on random bytes', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 96 }), (bytes) => void parsesOrRejects(bytes)), { numRuns: 500 });
  });

  it('does the same on random bytes behind a header length that fits the file', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 128 }), fc.nat(), (body, pick) => {
        // A length that fits the file, so the bytes reach the UTF-8 and JSON checks.
        const bytes = new Uint8Array(8 + body.byteLength);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(pick % (body.byteLength + 1)), true);
        bytes.set(body, 8);
        parsesOrRejects(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('does the same on any JSON value as the header, and on header lengths near the file size', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 3 }), fc.integer({ min: -3, max: 3 }), fc.nat(8), (json, skew, dataLength) => {
        const bytes = fileBytes({ header: json, data: new Uint8Array(dataLength) });
        const length = Math.max(0, bytes.byteLength - 8 - dataLength + skew);
        new DataView(bytes.buffer).setBigUint64(0, BigInt(length), true);
        parsesOrRejects(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it('accepts every valid header it is given, unchanged', () => {
    fc.assert(
      fc.property(validArb, ({ header, dataLength }) => {
        const bytes = fileBytes({ header, data: new Uint8Array(dataLength) });
        expect(parsesOrRejects(bytes)).toBe('ok');
        const parsed = parseSafetensorsHeader({ file: FILE, bytes });
        expect(parsed.tensors.size).toBe(Object.keys(header).filter((n) => n !== '__metadata__').length);
      }),
      { numRuns: 300 },
    );
  });

  it('returns a valid header or throws a CheckpointError after random mutations of a valid one', () => {
    const outcomes = { ok: 0, rejected: 0 };
    fc.assert(
      fc.property(validArb, fc.array(mutationArb, { minLength: 1, maxLength: 3 }), fc.integer({ min: -24, max: 8 }), ({ header, dataLength }, mutations, cut) => {
        const mutated = structuredClone(header);
        // structuredClone drops own "__proto__" keys as values of the prototype: rebuild them.
        for (const [name, value] of Object.entries(header)) Object.defineProperty(mutated, name, { value: structuredClone(value), enumerable: true, configurable: true, writable: true });
        for (const mutate of mutations) mutate(mutated);
        const bytes = fileBytes({ header: mutated, data: new Uint8Array(dataLength) });
        // Also cut the file short (or give it extra bytes) by `cut`.
        const size = Math.max(0, bytes.byteLength + cut);
        const file = new Uint8Array(size);
        file.set(bytes.subarray(0, size));
        outcomes[parsesOrRejects(file)]++;
      }),
      { numRuns: 500 },
    );
    // Both outcomes are exercised (a generator that only produced garbage would prove little).
    expect(outcomes.ok).toBeGreaterThan(20);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });

  it('returns a valid header or throws a CheckpointError after random edits of the JSON text', () => {
    const outcomes = { ok: 0, rejected: 0 };
    const editArb = fc.tuple(fc.nat(), fc.nat(3), fc.constantFrom(...'{}[]",:-.0123456789eE \\u'.split(''), 'null', '"F32"', '1e400'));
    fc.assert(
      fc.property(validArb, fc.array(editArb, { minLength: 1, maxLength: 4 }), ({ header, dataLength }, edits) => {
        let text = JSON.stringify(header);
        for (const [at, kind, piece] of edits) {
          const i = at % (text.length + 1);
          if (kind === 0) text = text.slice(0, i) + piece + text.slice(i);
          else if (kind === 1) text = text.slice(0, i) + text.slice(i + 1);
          else text = text.slice(0, i) + piece + text.slice(i + piece.length);
        }
        outcomes[parsesOrRejects(fileBytes({ header: text, data: new Uint8Array(dataLength) }))]++;
      }),
      { numRuns: 500 },
    );
    expect(outcomes.ok).toBeGreaterThan(5);
    expect(outcomes.rejected).toBeGreaterThan(100);
  });
});
