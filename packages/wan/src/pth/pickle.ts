/**
 * A pickle interpreter for what torch.save writes for a state dict, that never executes code: it builds plain values
 * (numbers, strings, tuples, lists, dicts) and, for the few global names on its allowlist, data records of tensors
 * and storages. A global outside the allowlist (`os.system`, `builtins.eval`, `subprocess.call`,
 * `torch.storage._load_from_bytes`, ...) is refused at the GLOBAL / STACK_GLOBAL opcode that names it, before any
 * argument is built or any REDUCE reached; nothing is ever looked up by name, imported or called.
 *
 * Opcodes: the binary ones of protocols 2 to 5 a state dict can use (see {@link PICKLE_OPCODES}); the text opcodes of
 * protocols 0 and 1, INST/OBJ/NEWOBJ_EX, extensions, sets and out-of-band buffers are INVALID_PICKLE. The machine is a
 * loop over the bytes (no recursion), every opcode costs time linear in what it pops, and the stack, the MARK nesting
 * and the memo are capped ({@link PICKLE_LIMITS}), so no input can hang it or exhaust memory past those caps.
 */
import type { SafetensorsDtype } from "../safetensors/dtypes";
import {
  WAN_PTH_ERROR_CODES,
  type WanPthErrorCode,
  pthFail,
} from "./pth-error";

/** A Python tuple. */
export class PyTuple {
  constructor(readonly items: readonly PthValue[]) {}
}

/** A dict key: Python's hashable scalars (ints as numbers when they fit, else bigints). */
export type PyKey = string | number | bigint | boolean | null;

/** A Python dict or collections.OrderedDict; `attributes` holds what BUILD set on it (a state dict's `_metadata`). */
export class PyDict {
  readonly entries = new Map<PyKey, PthValue>();
  attributes: PyDict | null = null;
  constructor(readonly ordered: boolean) {}
}

/** An allowlisted global used as a value (a storage class or a dtype), e.g. `torch.FloatStorage`. */
export class PyGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A storage a tensor refers to: the zip member `<folder>/data/<key>`, `numel` elements of `storageType`. */
export class PthStorageRef {
  constructor(
    readonly key: string,
    /** e.g. `torch.BFloat16Storage`, `torch.UntypedStorage` (bytes). */
    readonly storageType: string,
    /** Its elements' dtype; null for types we know but cannot read (complex, quantized). */
    readonly dtype: SafetensorsDtype | null,
    readonly numel: number,
    readonly location: string
  ) {}
}

/** A tensor as the pickle describes it (validated against its storage by the reader, which knows its name). */
export class PthTensorRef {
  constructor(
    readonly storage: PthStorageRef,
    /** The tensor's dtype (the storage's, or `_rebuild_tensor_v3`'s dtype argument). */
    readonly dtype: SafetensorsDtype | null,
    readonly dtypeName: string,
    /** In elements of `dtype`. */
    readonly storageOffset: number,
    readonly shape: readonly number[],
    /** In elements of `dtype`. */
    readonly strides: readonly number[],
    readonly requiresGrad: boolean,
    /** True when it was an nn.Parameter. */
    readonly parameter: boolean
  ) {}
}

/** What the interpreter builds: a list is a JS array. */
export type PthValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PyTuple
  | PthValue[]
  | PyDict
  | PyGlobal
  | PthStorageRef
  | PthTensorRef;

/** Caps that keep hostile pickles from exhausting memory or time. */
export interface PickleLimits {
  /** Items on the stack, all MARK levels together. */
  readonly maxStack: number;
  /** MARKs open at once. */
  readonly maxMarkDepth: number;
  /** Memo entries. */
  readonly maxMemo: number;
  /** Bytes of one LONG1/LONG4 integer. */
  readonly maxLongBytes: number;
}

export const PICKLE_LIMITS: PickleLimits = Object.freeze({
  maxStack: 4_000_000,
  maxMarkDepth: 1_000,
  maxMemo: 4_000_000,
  maxLongBytes: 1_024,
});

/** The dtypes of torch's storage classes. Complex and quantized ones are known (so the error says "unsupported dtype"). */
const STORAGE_DTYPES: Readonly<Record<string, SafetensorsDtype | null>> = {
  DoubleStorage: "F64",
  FloatStorage: "F32",
  HalfStorage: "F16",
  BFloat16Storage: "BF16",
  LongStorage: "I64",
  IntStorage: "I32",
  ShortStorage: "I16",
  CharStorage: "I8",
  ByteStorage: "U8",
  BoolStorage: "BOOL",
  UntypedStorage: "U8",
  ComplexDoubleStorage: null,
  ComplexFloatStorage: null,
  QInt8Storage: null,
  QInt32Storage: null,
  QUInt8Storage: null,
  QUInt4x2Storage: null,
  QUInt2x4Storage: null,
};

/** `torch.<dtype>` globals (`_rebuild_tensor_v3`'s argument in PyTorch 2.x): readable ones, then known others. */
const TORCH_DTYPES: Readonly<Record<string, SafetensorsDtype | null>> = {
  float64: "F64",
  float32: "F32",
  float16: "F16",
  bfloat16: "BF16",
  int64: "I64",
  int32: "I32",
  int16: "I16",
  int8: "I8",
  uint64: "U64",
  uint32: "U32",
  uint16: "U16",
  uint8: "U8",
  bool: "BOOL",
  float8_e4m3fn: "F8_E4M3",
  float8_e5m2: "F8_E5M2",
  float8_e4m3fnuz: null,
  float8_e5m2fnuz: null,
  float8_e8m0fnu: null,
  complex32: null,
  complex64: null,
  complex128: null,
  qint8: null,
  qint32: null,
  quint8: null,
  quint4x2: null,
  quint2x4: null,
};

const REBUILD_FUNCTIONS = [
  "_rebuild_tensor_v2",
  "_rebuild_tensor_v3",
  "_rebuild_parameter",
  "_rebuild_parameter_with_state",
] as const;

/** Every global name the interpreter resolves (as `module.name`); anything else is REFUSED_GLOBAL. */
export const PTH_ALLOWED_GLOBALS: readonly string[] = Object.freeze([
  "collections.OrderedDict",
  ...REBUILD_FUNCTIONS.map((f) => `torch._utils.${f}`),
  ...Object.keys(STORAGE_DTYPES).map((s) => `torch.${s}`),
  "torch.storage.UntypedStorage",
  ...Object.keys(TORCH_DTYPES).map((d) => `torch.${d}`),
]);
const ALLOWED = new Set(PTH_ALLOWED_GLOBALS);

/** Opcode names, for messages (every opcode of protocols 0-5). */
const OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x28: "MARK",
  0x2e: "STOP",
  0x30: "POP",
  0x31: "POP_MARK",
  0x32: "DUP",
  0x46: "FLOAT",
  0x49: "INT",
  0x4a: "BININT",
  0x4b: "BININT1",
  0x4c: "LONG",
  0x4d: "BININT2",
  0x4e: "NONE",
  0x50: "PERSID",
  0x51: "BINPERSID",
  0x52: "REDUCE",
  0x53: "STRING",
  0x54: "BINSTRING",
  0x55: "SHORT_BINSTRING",
  0x56: "UNICODE",
  0x58: "BINUNICODE",
  0x61: "APPEND",
  0x62: "BUILD",
  0x63: "GLOBAL",
  0x64: "DICT",
  0x7d: "EMPTY_DICT",
  0x65: "APPENDS",
  0x67: "GET",
  0x68: "BINGET",
  0x69: "INST",
  0x6a: "LONG_BINGET",
  0x6c: "LIST",
  0x5d: "EMPTY_LIST",
  0x6f: "OBJ",
  0x70: "PUT",
  0x71: "BINPUT",
  0x72: "LONG_BINPUT",
  0x73: "SETITEM",
  0x74: "TUPLE",
  0x29: "EMPTY_TUPLE",
  0x75: "SETITEMS",
  0x47: "BINFLOAT",
  0x80: "PROTO",
  0x81: "NEWOBJ",
  0x82: "EXT1",
  0x83: "EXT2",
  0x84: "EXT4",
  0x85: "TUPLE1",
  0x86: "TUPLE2",
  0x87: "TUPLE3",
  0x88: "NEWTRUE",
  0x89: "NEWFALSE",
  0x8a: "LONG1",
  0x8b: "LONG4",
  0x42: "BINBYTES",
  0x43: "SHORT_BINBYTES",
  0x8c: "SHORT_BINUNICODE",
  0x8d: "BINUNICODE8",
  0x8e: "BINBYTES8",
  0x8f: "EMPTY_SET",
  0x90: "ADDITEMS",
  0x91: "FROZENSET",
  0x92: "NEWOBJ_EX",
  0x93: "STACK_GLOBAL",
  0x94: "MEMOIZE",
  0x95: "FRAME",
  0x96: "BYTEARRAY8",
  0x97: "NEXT_BUFFER",
  0x98: "READONLY_BUFFER",
};

/** The opcodes the interpreter runs. */
export const PICKLE_OPCODES: readonly string[] = Object.freeze(
  [
    0x80, 0x95, 0x2e, 0x28, 0x30, 0x31, 0x32, 0x4e, 0x88, 0x89, 0x4a, 0x4b,
    0x4d, 0x8a, 0x8b, 0x47, 0x58, 0x8c, 0x8d, 0x42, 0x43, 0x8e, 0x29, 0x74,
    0x85, 0x86, 0x87, 0x5d, 0x6c, 0x61, 0x65, 0x7d, 0x64, 0x73, 0x75, 0x71,
    0x72, 0x94, 0x68, 0x6a, 0x63, 0x93, 0x52, 0x81, 0x62, 0x51,
  ].map((op) => OPCODE_NAMES[op] as string)
);

function typeName(value: PthValue | undefined): string {
  if (value === undefined) return "nothing";
  if (value === null) return "None";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Uint8Array) return "bytes";
  if (value instanceof PyTuple) return `a ${value.items.length}-tuple`;
  if (value instanceof PyDict)
    return value.ordered ? "an OrderedDict" : "a dict";
  if (value instanceof PyGlobal) return value.qualifiedName;
  if (value instanceof PthStorageRef) return "a storage";
  if (value instanceof PthTensorRef) return "a tensor";
  return `a ${typeof value}`;
}

/** Options of {@link unpickle}. */
export interface UnpickleOptions {
  /** The file, for messages. */
  readonly file: string;
  readonly bytes: Uint8Array;
  readonly limits?: Partial<PickleLimits>;
  /**
   * Called for each GLOBAL / STACK_GLOBAL with the name it asks for and whether the allowlist admits it (tests use it
   * to see that a refused name went no further). It cannot admit a name.
   */
  readonly onGlobal?: (name: string, allowed: boolean) => void;
}

/**
 * Runs a torch.save pickle (`data.pkl`) and returns the object it describes: dicts, lists, tuples and scalars as
 * {@link PthValue}s, tensors as {@link PthTensorRef}s whose storages are {@link PthStorageRef}s (read nothing).
 * Every problem is a PthError naming the file and the pickle byte.
 */
export function unpickle(options: UnpickleOptions): PthValue {
  const { file, bytes } = options;
  const limits = { ...PICKLE_LIMITS, ...options.limits };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let pos = 0;
  let at = 0; // the byte of the opcode being run, for messages
  let stack: PthValue[] = [];
  const marks: PthValue[][] = [];
  let depth = 0; // items on every stack level together
  const memo = new Map<number, PthValue>();

  const fail = (
    rule: string,
    code: WanPthErrorCode = WAN_PTH_ERROR_CODES.INVALID_PICKLE
  ): never => pthFail(code, file, `${rule} at pickle byte ${at}`);
  const need = (n: number): number => {
    if (n > bytes.length - pos) {
      fail(
        `${
          OPCODE_NAMES[bytes[at] as number] ?? "opcode"
        } needs ${n} more bytes but the pickle ends (it holds ${bytes.length})`,
        WAN_PTH_ERROR_CODES.TRUNCATED
      );
    }
    const start = pos;
    pos += n;
    return start;
  };
  const u8 = (): number => bytes[need(1)] as number;
  const u16 = (): number => view.getUint16(need(2), true);
  const u32 = (): number => view.getUint32(need(4), true);
  const u64 = (): number => {
    const value = view.getBigUint64(need(8), true);
    if (value > BigInt(bytes.length))
      fail(
        `length ${value} is past the pickle's ${bytes.length} bytes`,
        WAN_PTH_ERROR_CODES.TRUNCATED
      );
    return Number(value);
  };
  const push = (value: PthValue): void => {
    if (depth >= limits.maxStack)
      fail(
        `the stack holds ${depth} items, the limit`,
        WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED
      );
    stack.push(value);
    depth++;
  };
  const pop = (): PthValue => {
    if (stack.length === 0)
      fail(marks.length > 0 ? "pops past a MARK" : "pops an empty stack");
    depth--;
    return stack.pop() as PthValue;
  };
  const top = (): PthValue => {
    if (stack.length === 0) fail("reads an empty stack");
    return stack[stack.length - 1] as PthValue;
  };
  const popMark = (): PthValue[] => {
    const items = stack;
    const previous = marks.pop();
    if (previous === undefined) fail("finds no MARK");
    stack = previous as PthValue[];
    depth -= items.length;
    return items;
  };
  const text = (start: number, length: number): string => {
    try {
      return utf8.decode(bytes.subarray(start, start + length));
    } catch {
      return fail("holds a string that is not UTF-8");
    }
  };
  const line = (): string => {
    const end = bytes.indexOf(0x0a, pos);
    if (end < 0 || end - pos > 256)
      fail(
        "GLOBAL holds no newline-ended name of at most 256 bytes",
        end < 0
          ? WAN_PTH_ERROR_CODES.TRUNCATED
          : WAN_PTH_ERROR_CODES.INVALID_PICKLE
      );
    const value = text(pos, end - pos);
    pos = end + 1;
    return value;
  };
  const toKey = (value: PthValue): PyKey => {
    if (
      value === null ||
      typeof value === "string" ||
      typeof value === "number" ||
      typeof value === "bigint" ||
      typeof value === "boolean"
    )
      return value;
    return fail(
      `uses ${typeName(
        value
      )} as a dict key (only strings, numbers, booleans and None are read)`
    );
  };
  const setItems = (dict: PthValue, items: PthValue[]): void => {
    if (!(dict instanceof PyDict))
      fail(`sets items on ${typeName(dict)}, not a dict`);
    if (items.length % 2 !== 0)
      fail(`SETITEMS gets an odd number of items (${items.length})`);
    for (let i = 0; i < items.length; i += 2)
      (dict as PyDict).entries.set(
        toKey(items[i] as PthValue),
        items[i + 1] as PthValue
      );
  };
  const int = (value: bigint): number | bigint =>
    value >= BigInt(Number.MIN_SAFE_INTEGER) &&
    value <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(value)
      : value;
  const long = (n: number): number | bigint => {
    if (n > limits.maxLongBytes)
      fail(
        `holds a ${n}-byte integer, past the limit of ${limits.maxLongBytes}`,
        WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED
      );
    const start = need(n);
    if (n === 0) return 0;
    let value = 0n;
    for (let i = n - 1; i >= 0; i--)
      value = (value << 8n) | BigInt(bytes[start + i] as number);
    if ((bytes[start + n - 1] as number) & 0x80) value -= 1n << BigInt(8 * n);
    return int(value);
  };
  const global = (module: string, name: string): PthValue => {
    const qualified = `${module}.${name}`;
    const allowed = ALLOWED.has(qualified);
    options.onGlobal?.(qualified, allowed);
    if (!allowed) {
      pthFail(
        WAN_PTH_ERROR_CODES.REFUSED_GLOBAL,
        file,
        `refused global ${qualified} at pickle byte ${at}: the reader only rebuilds tensors, storages and dicts (it never imports or calls anything)`
      );
    }
    return new PyGlobal(module, name);
  };
  const memoPut = (index: number, value: PthValue): void => {
    if (!memo.has(index) && memo.size >= limits.maxMemo)
      fail(
        `the memo holds ${memo.size} entries, the limit`,
        WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED
      );
    memo.set(index, value);
  };
  const memoGet = (index: number): void => {
    const value = memo.get(index);
    if (value === undefined)
      fail(`gets memo entry ${index}, which was never put`);
    push(value as PthValue);
  };

  if (bytes.length === 0)
    pthFail(WAN_PTH_ERROR_CODES.TRUNCATED, file, "the pickle is empty");
  for (;;) {
    at = pos;
    if (pos >= bytes.length)
      fail("the pickle ends without STOP", WAN_PTH_ERROR_CODES.TRUNCATED);
    const op = bytes[pos++] as number;
    switch (op) {
      case 0x80: {
        const protocol = u8();
        if (protocol > 5)
          fail(`asks for pickle protocol ${protocol} (known: 0 to 5)`);
        break;
      }
      case 0x95: // FRAME: a length hint
        u64();
        break;
      case 0x2e: {
        const result = pop();
        return result;
      }
      case 0x28:
        if (marks.length >= limits.maxMarkDepth)
          fail(
            `opens ${marks.length + 1} MARKs at once, past the limit of ${
              limits.maxMarkDepth
            }`,
            WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED
          );
        marks.push(stack);
        stack = [];
        break;
      case 0x30:
        if (stack.length === 0 && marks.length > 0) popMark();
        else pop();
        break;
      case 0x31:
        popMark();
        break;
      case 0x32:
        push(top());
        break;
      case 0x4e:
        push(null);
        break;
      case 0x88:
        push(true);
        break;
      case 0x89:
        push(false);
        break;
      case 0x4a:
        push(view.getInt32(need(4), true));
        break;
      case 0x4b:
        push(u8());
        break;
      case 0x4d:
        push(u16());
        break;
      case 0x8a:
        push(long(u8()));
        break;
      case 0x8b: {
        const n = view.getInt32(need(4), true);
        if (n < 0) fail(`LONG4 has a negative length ${n}`);
        push(long(n));
        break;
      }
      case 0x47:
        push(view.getFloat64(need(8), false));
        break;
      case 0x58: {
        const n = u32();
        push(text(need(n), n));
        break;
      }
      case 0x8c: {
        const n = u8();
        push(text(need(n), n));
        break;
      }
      case 0x8d: {
        const n = u64();
        push(text(need(n), n));
        break;
      }
      case 0x42:
      case 0x43:
      case 0x8e: {
        const n = op === 0x43 ? u8() : op === 0x42 ? u32() : u64();
        const start = need(n);
        push(bytes.slice(start, start + n));
        break;
      }
      case 0x29:
        push(new PyTuple([]));
        break;
      case 0x74:
        push(new PyTuple(popMark()));
        break;
      case 0x85:
      case 0x86:
      case 0x87: {
        const n = op - 0x84;
        const items: PthValue[] = [];
        for (let i = 0; i < n; i++) items.unshift(pop());
        push(new PyTuple(items));
        break;
      }
      case 0x5d:
        push([]);
        break;
      case 0x6c:
        push(popMark());
        break;
      case 0x61: {
        const item = pop();
        const list = top();
        if (!Array.isArray(list))
          fail(`APPEND to ${typeName(list)}, not a list`);
        (list as PthValue[]).push(item);
        break;
      }
      case 0x65: {
        const items = popMark();
        const list = top();
        if (!Array.isArray(list))
          fail(`APPENDS to ${typeName(list)}, not a list`);
        for (const item of items) (list as PthValue[]).push(item);
        break;
      }
      case 0x7d:
        push(new PyDict(false));
        break;
      case 0x64: {
        const items = popMark();
        const dict = new PyDict(false);
        setItems(dict, items);
        push(dict);
        break;
      }
      case 0x73: {
        const value = pop();
        const key = pop();
        setItems(top(), [key, value]);
        break;
      }
      case 0x75: {
        const items = popMark();
        setItems(top(), items);
        break;
      }
      case 0x71:
        memoPut(u8(), top());
        break;
      case 0x72:
        memoPut(u32(), top());
        break;
      case 0x94:
        memoPut(memo.size, top());
        break;
      case 0x68:
        memoGet(u8());
        break;
      case 0x6a:
        memoGet(u32());
        break;
      case 0x63: {
        const module = line();
        const name = line();
        push(global(module, name));
        break;
      }
      case 0x93: {
        const name = pop();
        const module = pop();
        if (typeof module !== "string" || typeof name !== "string")
          fail(
            `STACK_GLOBAL gets ${typeName(module)} and ${typeName(
              name
            )}, not two strings`
          );
        push(global(module as string, name as string));
        break;
      }
      case 0x52: {
        const args = pop();
        const callable = pop();
        push(reduce(callable, args, fail));
        break;
      }
      case 0x81: {
        const args = pop();
        const cls = pop();
        if (
          !(cls instanceof PyGlobal) ||
          cls.qualifiedName !== "collections.OrderedDict" ||
          !(args instanceof PyTuple) ||
          args.items.length !== 0
        ) {
          fail(
            `NEWOBJ of ${typeName(
              cls
            )} is not supported (only collections.OrderedDict())`
          );
        }
        push(new PyDict(true));
        break;
      }
      case 0x62: {
        const state = pop();
        const obj = top();
        if (!(obj instanceof PyDict) || !(state instanceof PyDict))
          fail(
            `BUILD of ${typeName(obj)} with ${typeName(
              state
            )} is not supported (only attributes of a dict)`
          );
        (obj as PyDict).attributes = state as PyDict;
        break;
      }
      case 0x51:
        push(persistentLoad(pop(), fail));
        break;
      default:
        fail(
          `opcode 0x${op.toString(16).padStart(2, "0")}${
            OPCODE_NAMES[op] === undefined
              ? " is unknown"
              : ` (${OPCODE_NAMES[op]}) is not supported: torch.save never writes it for a state dict`
          }`
        );
    }
  }
}

type Fail = (rule: string, code?: WanPthErrorCode) => never;

function isInt(value: PthValue): value is number {
  return typeof value === "number" && Number.isSafeInteger(value);
}

function intTuple(value: PthValue, what: string, fail: Fail): number[] {
  if (!(value instanceof PyTuple) || !value.items.every(isInt))
    return fail(`${what} is ${typeName(value)}, not a tuple of integers`);
  if (value.items.length > 64)
    fail(
      `${what} has ${value.items.length} dimensions, past the limit of 64`,
      WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED
    );
  return value.items as number[];
}

/** A BINPERSID argument: `('storage', torch.<T>Storage, key, location, numel)`, as torch.save writes it. */
function persistentLoad(pid: PthValue, fail: Fail): PthStorageRef {
  if (
    !(pid instanceof PyTuple) ||
    pid.items.length !== 5 ||
    pid.items[0] !== "storage"
  ) {
    return fail(
      `BINPERSID gets ${typeName(
        pid
      )}, not ('storage', type, key, location, numel)`
    );
  }
  const [, type, key, location] = pid.items;
  const numel = pid.items[4] as PthValue;
  if (
    !(type instanceof PyGlobal) ||
    type.module.split(".")[0] !== "torch" ||
    !(type.name in STORAGE_DTYPES)
  ) {
    return fail(
      `a storage has type ${typeName(type)}, not a torch storage class`
    );
  }
  if (typeof key !== "string" || !/^[A-Za-z0-9_-]{1,64}$/.test(key)) {
    return fail(
      `storage key ${JSON.stringify(
        key
      )} is not a plain name (letters, digits, _ and -): refused`
    );
  }
  if (typeof location !== "string" || location.length > 64)
    return fail(
      `storage ${JSON.stringify(key)} has location ${typeName(
        location
      )}, not a device name`
    );
  if (!isInt(numel) || numel < 0)
    return fail(
      `storage ${JSON.stringify(key)} has ${typeName(
        numel
      )} elements, not a count`
    );
  return new PthStorageRef(
    key,
    type.qualifiedName,
    STORAGE_DTYPES[type.name] ?? null,
    numel as number,
    location
  );
}

/** REDUCE: only the allowlisted functions, each given exactly the arguments torch.save writes. */
function reduce(callable: PthValue, args: PthValue, fail: Fail): PthValue {
  if (!(callable instanceof PyGlobal))
    return fail(`REDUCE calls ${typeName(callable)}, not an allowed function`);
  if (!(args instanceof PyTuple))
    return fail(
      `REDUCE of ${callable.qualifiedName} gets ${typeName(
        args
      )} as arguments, not a tuple`
    );
  const a = args.items;
  const name = callable.qualifiedName;
  const count = (min: number, max: number): void => {
    if (a.length < min || a.length > max)
      fail(
        `${name} gets ${a.length} arguments, expected ${
          min === max ? min : `${min} to ${max}`
        }`
      );
  };
  switch (name) {
    case "collections.OrderedDict":
      count(0, 0);
      return new PyDict(true);
    case "torch._utils._rebuild_tensor_v2":
    case "torch._utils._rebuild_tensor_v3": {
      const v3 = name.endsWith("v3");
      count(v3 ? 7 : 6, v3 ? 8 : 7);
      const [storage, offset, size, stride, requiresGrad, hooks] = a;
      if (!(storage instanceof PthStorageRef))
        return fail(`${name} gets ${typeName(storage)} as its storage`);
      if (!isInt(offset as PthValue) || (offset as number) < 0)
        return fail(
          `${name} gets storage offset ${typeName(offset)}, not a count`
        );
      const shape = intTuple(size as PthValue, `${name}'s size`, fail);
      const strides = intTuple(stride as PthValue, `${name}'s stride`, fail);
      if (typeof requiresGrad !== "boolean")
        return fail(
          `${name} gets requires_grad ${typeName(requiresGrad)}, not a bool`
        );
      if (!(hooks instanceof PyDict) || hooks.entries.size !== 0)
        return fail(
          `${name} gets backward hooks ${typeName(
            hooks
          )}, not an empty OrderedDict`
        );
      let dtype = storage.dtype;
      let dtypeName = storage.storageType;
      if (v3) {
        const d = a[6];
        if (
          !(d instanceof PyGlobal) ||
          d.module !== "torch" ||
          !(d.name in TORCH_DTYPES)
        )
          return fail(`${name} gets dtype ${typeName(d)}, not a torch dtype`);
        if (
          storage.storageType !== "torch.UntypedStorage" &&
          storage.storageType !== "torch.storage.UntypedStorage"
        ) {
          return fail(
            `${name} gets a ${storage.storageType}, not an UntypedStorage`
          );
        }
        dtype = TORCH_DTYPES[d.name] ?? null;
        dtypeName = d.qualifiedName;
      }
      return new PthTensorRef(
        storage,
        dtype,
        dtypeName,
        offset as number,
        shape,
        strides,
        requiresGrad,
        false
      );
    }
    case "torch._utils._rebuild_parameter":
    case "torch._utils._rebuild_parameter_with_state": {
      const withState = name.endsWith("state");
      count(withState ? 4 : 3, withState ? 4 : 3);
      const [data, requiresGrad] = a;
      if (!(data instanceof PthTensorRef))
        return fail(`${name} gets ${typeName(data)}, not a tensor`);
      if (typeof requiresGrad !== "boolean")
        return fail(
          `${name} gets requires_grad ${typeName(requiresGrad)}, not a bool`
        );
      return new PthTensorRef(
        data.storage,
        data.dtype,
        data.dtypeName,
        data.storageOffset,
        data.shape,
        data.strides,
        requiresGrad,
        true
      );
    }
    default:
      return fail(
        `REDUCE calls ${name}, which is not a function the reader rebuilds`
      );
  }
}
