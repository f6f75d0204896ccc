// The pickle interpreter on hand-made pickles: limits, malformed streams, and a fuzz (any input gives a value or a
// PthError, never another exception, never a hang).
import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { PTH_ALLOWED_GLOBALS, PyDict, PyTuple, unpickle } from "./pickle";
import { PthError, WAN_PTH_ERROR_CODES } from "./pth-error";

fc.configureGlobal({ seed: Number(process.env.FPSATTN_FUZZ_SEED ?? 20261202) });

const FILE = "x.pth";
const b = (...parts: (number[] | string)[]): Uint8Array =>
  new Uint8Array(
    parts.flatMap((p) =>
      typeof p === "string" ? [...Buffer.from(p, "latin1")] : p
    )
  );
const run = (
  bytes: Uint8Array,
  limits?: Parameters<typeof unpickle>[0]["limits"]
) =>
  unpickle({ file: FILE, bytes, ...(limits === undefined ? {} : { limits }) });
const error = (f: () => unknown): PthError => {
  try {
    f();
  } catch (e) {
    return e as PthError;
  }
  throw new Error("expected a throw");
};

/** data.pkl of a real torch.save file (stored, so its bytes sit in the zip as is). */
function realPickle(): Uint8Array {
  const zip = readFileSync(join(__dirname, "fixtures", "state-dict.pth"));
  const start = zip.indexOf(Buffer.from([0x80, 0x02]));
  const end = zip.indexOf(Buffer.from("PK\x07\x08", "latin1"), start);
  return new Uint8Array(zip.subarray(start, end));
}

describe("unpickle", () => {
  it("builds scalars, strings, containers, memo references and ints of any size", () => {
    const value = run(
      b(
        [0x80, 2, 0x7d, 0x71, 0],
        "(",
        [0x8c, 1],
        "a",
        [0x4a, 0xff, 0xff, 0xff, 0xff],
        [0x8c, 1],
        "b",
        [0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0x80],
        [0x8c, 1],
        "c",
        [0x47, 0x3f, 0xe0, 0, 0, 0, 0, 0, 0],
        [0x8c, 1],
        "d",
        "]",
        "(",
        [0x4b, 1],
        [0x4d, 0x00, 0x01],
        [0x88, 0x4e],
        "e",
        [0x8c, 1],
        "e",
        [0x68, 0],
        "u."
      )
    );
    const dict = value as PyDict;
    expect(dict.entries.get("a")).toBe(-1);
    expect(dict.entries.get("b")).toBe(-(2n ** 71n));
    expect(dict.entries.get("c")).toBe(0.5);
    expect(dict.entries.get("d")).toEqual([1, 256, true, null]);
    expect(dict.entries.get("e")).toBe(dict); // a memo reference to itself
  });

  it("runs the pickle of a real state dict", () => {
    const root = run(realPickle()) as PyDict;
    expect(root.ordered).toBe(true);
    expect(root.entries.size).toBeGreaterThan(10);
  });

  it("allows only the torch rebuild functions, storages, dtypes and OrderedDict", () => {
    for (const name of PTH_ALLOWED_GLOBALS)
      expect(
        name === "collections.OrderedDict" || name.startsWith("torch.")
      ).toBe(true);
    expect(PTH_ALLOWED_GLOBALS).not.toContain("torch.load");
    expect(PTH_ALLOWED_GLOBALS).not.toContain("torch.storage._load_from_bytes");
    for (const [module, name] of [
      ["builtins", "getattr"],
      ["torch", "load"],
      ["collections", "defaultdict"],
      ["torch._utils", "_rebuild_qtensor"],
      ["numpy", "load"],
    ]) {
      const e = error(() => run(b([0x80, 2], `c${module}\n${name}\n`, ").")));
      expect(e).toMatchObject({ code: WAN_PTH_ERROR_CODES.REFUSED_GLOBAL });
      expect(e.message).toContain(
        `refused global ${module}.${name} at pickle byte 2`
      );
    }
  });

  it("refuses REDUCE of an allowed value that is not a function, and wrong arguments", () => {
    expect(
      error(() =>
        run(b([0x80, 2], "ctorch\nFloatStorage\n).".replace(").", ")R.")))
      ).message
    ).toBe(
      `${FILE}: REDUCE calls torch.FloatStorage, which is not a function the reader rebuilds at pickle byte 23`
    );
    expect(
      error(() =>
        run(b([0x80, 2], "ccollections\nOrderedDict\n", [0x4b, 1, 0x85], "R."))
      ).message
    ).toBe(
      `${FILE}: collections.OrderedDict gets 1 arguments, expected 0 at pickle byte 30`
    );
    expect(
      error(() =>
        run(b([0x80, 2], "ctorch._utils\n_rebuild_tensor_v2\n", ")R."))
      ).code
    ).toBe(WAN_PTH_ERROR_CODES.INVALID_PICKLE);
  });

  it("refuses unsupported and unknown opcodes, truncation, underflow and bad memo references", () => {
    expect(error(() => run(b("i", "os\nsystem\n")))).toMatchObject({
      code: WAN_PTH_ERROR_CODES.INVALID_PICKLE,
      message: `${FILE}: opcode 0x69 (INST) is not supported: torch.save never writes it for a state dict at pickle byte 0`,
    });
    expect(error(() => run(b([0xff])))).toMatchObject({
      message: `${FILE}: opcode 0xff is unknown at pickle byte 0`,
    });
    expect(
      error(() => run(b([0x80, 2, 0x58, 10, 0, 0, 0], "abc")))
    ).toMatchObject({ code: WAN_PTH_ERROR_CODES.TRUNCATED });
    expect(error(() => run(b([0x80, 2, 0x4e])))).toMatchObject({
      code: WAN_PTH_ERROR_CODES.TRUNCATED,
      message: `${FILE}: the pickle ends without STOP at pickle byte 3`,
    });
    expect(error(() => run(b(".")))).toMatchObject({
      message: `${FILE}: pops an empty stack at pickle byte 0`,
    });
    expect(error(() => run(b("(.")))).toMatchObject({
      message: `${FILE}: pops past a MARK at pickle byte 1`,
    });
    expect(error(() => run(b([0x68, 7], ".")))).toMatchObject({
      message: `${FILE}: gets memo entry 7, which was never put at pickle byte 0`,
    });
    expect(error(() => run(b([0x80, 9])))).toMatchObject({
      message: `${FILE}: asks for pickle protocol 9 (known: 0 to 5) at pickle byte 0`,
    });
    expect(error(() => run(b([0x8c, 2, 0xc3, 0x28], ".")))).toMatchObject({
      message: `${FILE}: holds a string that is not UTF-8 at pickle byte 0`,
    });
    expect(error(() => run(b("]", [0x4b, 1, 0x4b, 2], "s.")))).toMatchObject({
      message: `${FILE}: sets items on a list, not a dict at pickle byte 5`,
    });
    expect(error(() => run(b("}", ")", [0x4b, 1], "s.")))).toMatchObject({
      message: `${FILE}: uses a 0-tuple as a dict key (only strings, numbers, booleans and None are read) at pickle byte 4`,
    });
    expect(
      error(() => run(b([0x95, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0], "N.")))
    ).toMatchObject({ code: WAN_PTH_ERROR_CODES.TRUNCATED });
  });

  it("caps the stack, the MARK nesting, the memo and integer sizes", () => {
    expect(error(() => run(b("(".repeat(5000))))).toMatchObject({
      code: WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED,
      message: `${FILE}: opens 1001 MARKs at once, past the limit of 1000 at pickle byte 1000`,
    });
    expect(error(() => run(b("N".repeat(20)), { maxStack: 10 }))).toMatchObject(
      {
        code: WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED,
        message: `${FILE}: the stack holds 10 items, the limit at pickle byte 10`,
      }
    );
    expect(
      error(() =>
        run(b("N", ...Array.from({ length: 20 }, () => [0x94])), { maxMemo: 5 })
      )
    ).toMatchObject({ code: WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED });
    expect(error(() => run(b([0x8b, 0, 0, 1, 0])))).toMatchObject({
      code: WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED,
      message: `${FILE}: holds a 65536-byte integer, past the limit of 1024 at pickle byte 0`,
    });
  });

  it("DUP of a tuple nested a million times is linear, not a blow-up", () => {
    // ( N t q0 then repeat: h0 h0 TUPLE2 q0 : each level holds the previous twice (a DAG of 2^k paths).
    const levels = 40;
    const parts: (number[] | string)[] = [[0x4e, 0x71, 0]];
    for (let i = 0; i < levels; i++)
      parts.push([0x68, 0, 0x68, 0, 0x86, 0x71, 0]);
    parts.push(".");
    const start = performance.now();
    const value = run(b(...parts)) as PyTuple;
    expect(value).toBeInstanceOf(PyTuple);
    expect(performance.now() - start).toBeLessThan(1000);
  });
});

describe("unpickle fuzz", () => {
  const expectPthErrorOrValue = (bytes: Uint8Array): void => {
    try {
      run(bytes, { maxStack: 10_000, maxMemo: 10_000 });
    } catch (e) {
      if (!(e instanceof PthError)) throw e;
      expect(Object.values(WAN_PTH_ERROR_CODES)).toContain(e.code);
    }
  };

  it("random bytes: a value or a PthError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (bytes) =>
        expectPthErrorOrValue(bytes)
      ),
      { numRuns: 3000, interruptAfterTimeLimit: 20_000 }
    );
  });

  it("random opcode sequences with valid arguments: a value or a PthError", () => {
    const ops = fc.oneof(
      fc.constantFrom(
        ...[
          "(",
          ")",
          "]",
          "}",
          "t",
          "l",
          "d",
          "a",
          "e",
          "s",
          "u",
          "N",
          "0",
          "1",
          "2",
          "R",
          "b",
          "Q",
          ".",
          "\x85",
          "\x86",
          "\x87",
          "\x88",
          "\x89",
          "\x94",
          "\x81",
          "\x93",
        ].map((c) => [c.charCodeAt(0)])
      ),
      fc.integer({ min: 0, max: 255 }).map((n) => [0x4b, n]),
      fc.integer({ min: 0, max: 3 }).map((n) => [0x68, n]),
      fc.integer({ min: 0, max: 3 }).map((n) => [0x71, n]),
      fc
        .constantFrom(
          "collections\nOrderedDict\n",
          "torch._utils\n_rebuild_tensor_v2\n",
          "torch\nFloatStorage\n",
          "torch\nbfloat16\n",
          "os\nsystem\n"
        )
        .map((g) => [0x63, ...Buffer.from(g)]),
      fc
        .constantFrom("storage", "0", "cpu", "a")
        .map((s) => [0x8c, s.length, ...Buffer.from(s)])
    );
    fc.assert(
      fc.property(fc.array(ops, { maxLength: 60 }), (seq) =>
        expectPthErrorOrValue(new Uint8Array([0x80, 2, ...seq.flat(), 0x2e]))
      ),
      { numRuns: 3000, interruptAfterTimeLimit: 20_000 }
    );
  });

  it("mutations of a real torch.save pickle: a value or a PthError", () => {
    const real = realPickle();
    fc.assert(
      fc.property(
        fc.array(
          fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 0, max: 255 })),
          { minLength: 1, maxLength: 4 }
        ),
        fc.nat(real.length),
        (edits, cut) => {
          const bytes = real.slice(0, Math.max(cut, real.length - 40));
          for (const [at, value] of edits)
            if (at < bytes.length) bytes[at] = value;
          expectPthErrorOrValue(bytes);
        }
      ),
      { numRuns: 3000, interruptAfterTimeLimit: 20_000 }
    );
  });
});
