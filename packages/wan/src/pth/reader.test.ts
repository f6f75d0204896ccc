import { existsSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { FpsAttnError } from "@fpsattn/fp8";
import { describe, expect, it } from "vitest";
import { PthTensorRef, PyDict, PyTuple } from "./pickle";
import { PthError, WAN_PTH_ERROR_CODES } from "./pth-error";
import { type PthFile, openPth } from "./reader";

const FIXTURES = join(__dirname, "fixtures");
const fixture = (name: string): string => join(FIXTURES, name);
const MARKER = "/tmp/fpsattn-pth-fixture-pwned";

interface Expected {
  dtype: string;
  shape: number[];
  strides: number[];
  storageOffset: number;
  hex: string;
  float32Hex: string;
}
const EXPECTED = JSON.parse(
  readFileSync(fixture("expected.json"), "utf8")
) as Record<string, Record<string, Expected>>;

const hex = (bytes: Uint8Array): string =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("hex");

async function rejection(promise: Promise<unknown>): Promise<PthError> {
  try {
    await promise;
  } catch (error) {
    return error as PthError;
  }
  throw new Error("expected the promise to reject");
}

async function expectFixture(
  file: PthFile,
  expected: Record<string, Expected>
): Promise<void> {
  expect([...file.tensors.keys()].sort()).toEqual(Object.keys(expected).sort());
  for (const [name, want] of Object.entries(expected)) {
    const info = file.tensors.get(name);
    expect(info, name).toMatchObject({
      dtype: want.dtype,
      shape: want.shape,
      strides: want.strides,
      storageOffset: want.storageOffset,
    });
    const values = await file.read(name);
    expect(
      hex(new Uint8Array(values.buffer, values.byteOffset, values.byteLength)),
      name
    ).toBe(want.hex);
    expect(hex(await file.readBytes(name)), name).toBe(want.hex);
    expect(
      hex(new Uint8Array((await file.readAsFloat32(name)).buffer)),
      name
    ).toBe(want.float32Hex);
  }
}

describe("openPth on files torch.save wrote (torch 1.13)", () => {
  for (const name of [
    "state-dict.pth",
    "nested.pth",
    "protocol4.pth",
    "small.pth",
    "zip64.pth",
  ]) {
    it(`reads every tensor of ${name} back as torch stored it`, async () => {
      const file = await openPth(fixture(name));
      try {
        await expectFixture(file, EXPECTED[name] as Record<string, Expected>);
      } finally {
        await file.close();
      }
    });
  }

  it("describes strides, shared storages, offsets, parameters and the archive", async () => {
    const file = await openPth(fixture("state-dict.pth"));
    await file.close(); // what open found stays readable
    expect(file.archiveName).toBe("state-dict");
    expect(file.tensors.get("f32")).toMatchObject({
      contiguous: true,
      storageKey: "0",
      dataOffsets: [0, 96],
      byteLength: 96,
      parameter: false,
    });
    expect(file.tensors.get("transposed")).toMatchObject({
      contiguous: false,
      storageKey: "0",
      strides: [1, 6],
      byteLength: 96,
    });
    expect(file.tensors.get("slice")).toMatchObject({
      contiguous: false,
      storageKey: "0",
      storageOffset: 8,
      dataOffsets: [32, 4 * 17],
      byteLength: 24,
    });
    expect(file.tensors.get("shared.tail")).toMatchObject({
      contiguous: true,
      storageKey: file.tensors.get("shared.head")?.storageKey,
      storageOffset: 12,
    });
    expect(file.tensors.get("expanded")).toMatchObject({
      contiguous: false,
      strides: [0, 1],
    });
    expect(file.tensors.get("scalar")).toMatchObject({
      shape: [],
      strides: [],
      contiguous: true,
      byteLength: 4,
    });
    expect(file.tensors.get("empty")).toMatchObject({
      shape: [0, 3],
      byteLength: 0,
    });
    expect(file.tensors.get("param")).toMatchObject({
      parameter: true,
      requiresGrad: true,
    });
    // The OrderedDict's _metadata attribute is kept on the root, and not taken for tensors.
    expect(file.root).toBeInstanceOf(PyDict);
    const metadata = (file.root as PyDict).attributes?.entries.get(
      "_metadata"
    ) as PyDict;
    expect(
      (metadata.entries.get("conv") as PyDict).entries.get("version")
    ).toBe(2);
  });

  it("keeps the values that are not tensors of a wrapper dict in root", async () => {
    const file = await openPth(fixture("nested.pth"));
    await file.close();
    const root = file.root as PyDict;
    expect(root.ordered).toBe(false);
    expect(root.entries.get("epoch")).toBe(7);
    expect(root.entries.get("step")).toBe(2 ** 40);
    expect(root.entries.get("neg")).toBe(-(2n ** 70n));
    expect(root.entries.get("lr")).toBe(0.5);
    expect(root.entries.get("name")).toBe("vae");
    expect(root.entries.get("flags")).toEqual([true, false, null]);
    expect((root.entries.get("shape") as PyTuple).items).toEqual([1, 2, 3]);
    expect(root.entries.get(5)).toBeInstanceOf(PthTensorRef);
  });

  it("reads concurrently and refuses reads after close, and unknown names", async () => {
    const file = await openPth(fixture("state-dict.pth"));
    const all = await Promise.all(
      [...file.tensors.keys()].map((n) => file.readBytes(n))
    );
    expect(all).toHaveLength(file.tensors.size);
    expect(await rejection(file.read("nope"))).toMatchObject({
      code: WAN_PTH_ERROR_CODES.UNKNOWN_TENSOR,
      tensor: "nope",
    });
    await file.close();
    await file.close();
    const closed = await rejection(file.read("f32"));
    expect(closed).toBeInstanceOf(PthError);
    expect(closed).toMatchObject({
      code: WAN_PTH_ERROR_CODES.CLOSED,
      message: `${fixture(
        "state-dict.pth"
      )}: tensor "f32" cannot be read: the file was closed`,
    });
  });
});

describe("openPth refuses hostile files without running anything", () => {
  const cases: [string, string, string][] = [
    ["hostile-os-system.pth", "os.system", "at pickle byte 2"],
    ["hostile-posix-system.pth", "posix.system", ""],
    ["hostile-builtins-eval.pth", "__builtin__.eval", ""],
    ["hostile-stack-global.pth", "subprocess.call", ""],
    ["hostile-torch-load.pth", "torch.storage._load_from_bytes", ""],
  ];
  for (const [name, global, where] of cases) {
    it(`${name}: refuses ${global}`, async () => {
      await rm(MARKER, { force: true });
      const seen: [string, boolean][] = [];
      const error = await rejection(
        openPth(fixture(name), {
          onGlobal: (g, allowed) => seen.push([g, allowed]),
        })
      );
      expect(error).toBeInstanceOf(PthError);
      expect(FpsAttnError.isInstance(error)).toBe(true);
      expect(error.code).toBe(WAN_PTH_ERROR_CODES.REFUSED_GLOBAL);
      expect(error.message).toContain(
        `refused global ${global} ${where}`.trim()
      );
      expect(error.message).toContain("it never imports or calls anything");
      // The refused name is the last one the interpreter saw: nothing after it ran, and only allowlisted ones before.
      expect(seen.at(-1)).toEqual([global, false]);
      expect(seen.slice(0, -1).every(([, allowed]) => allowed)).toBe(true);
      expect(existsSync(MARKER)).toBe(false);
    });
  }
});

describe("openPth refuses malformed files with the exact error", () => {
  const f = (name: string): string => fixture(name);
  const cases: [string, string, string][] = [
    [
      "legacy.pth",
      WAN_PTH_ERROR_CODES.LEGACY_FORMAT,
      "is a torch.save file of PyTorch < 1.6 (a bare pickle stream, not a zip), which is not read: re-save it with PyTorch >= 1.6 or convert it to safetensors",
    ],
    [
      "compressed.pth",
      WAN_PTH_ERROR_CODES.UNSUPPORTED_ZIP,
      'zip member "small/data.pkl" is compressed (method 8); torch.save stores members uncompressed and only stored members are read',
    ],
    [
      "traversal-member.pth",
      WAN_PTH_ERROR_CODES.INVALID_ZIP,
      'zip member name "../../evil.sh" holds a "." or ".." segment: refused',
    ],
    [
      "truncated.pth",
      WAN_PTH_ERROR_CODES.INVALID_ZIP,
      "is not a zip (no end-of-central-directory record in its last 64 KiB): truncated, or not a torch.save file",
    ],
    [
      "traversal-key.pth",
      WAN_PTH_ERROR_CODES.INVALID_PICKLE,
      'storage key "../../../etc/passwd" is not a plain name (letters, digits, _ and -): refused at pickle byte 127',
    ],
    [
      "storage-missing.pth",
      WAN_PTH_ERROR_CODES.STORAGE_MISSING,
      'tensor "w" refers to storage "7", which the archive does not hold (no data/7 member)',
    ],
    [
      "storage-too-small.pth",
      WAN_PTH_ERROR_CODES.INVALID_TENSOR,
      'tensor "w" reaches element 4 (offset 1, shape [2, 2], strides [2, 1]) of storage "0", which holds 4 F32 elements',
    ],
    [
      "member-too-small.pth",
      WAN_PTH_ERROR_CODES.INVALID_TENSOR,
      'tensor "w" has storage "0" of 8 torch.FloatStorage elements (32 bytes) but its zip member holds 16 bytes',
    ],
    [
      "complex.pth",
      WAN_PTH_ERROR_CODES.UNSUPPORTED_DTYPE,
      'tensor "w" has dtype torch.ComplexFloatStorage, which has no safetensors name (complex and quantized tensors are not read)',
    ],
  ];
  for (const [name, code, rule] of cases) {
    it(`${name}: ${code}`, async () => {
      const error = await rejection(openPth(f(name)));
      expect(error).toBeInstanceOf(PthError);
      expect({ code: error.code, message: error.message }).toEqual({
        code,
        message: `${f(name)}: ${rule}`,
      });
    });
  }

  it("names a missing file and a directory", async () => {
    expect(await rejection(openPth(f("absent.pth")))).toMatchObject({
      code: WAN_PTH_ERROR_CODES.NOT_FOUND,
    });
    expect(await rejection(openPth(FIXTURES))).toMatchObject({
      code: WAN_PTH_ERROR_CODES.NOT_FOUND,
    });
  });
});
