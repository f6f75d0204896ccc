import { type FileHandle, open } from "node:fs/promises";
import { crc32 } from "node:zlib";
import {
  type SafetensorsArray,
  type SafetensorsDtype,
  dtypeItemSize,
  shapeElementCount,
} from "../safetensors/dtypes";
import type { SafetensorsTensorInfo } from "../safetensors/header";
import type { TensorSource } from "../safetensors/reader";
import { viewTensorBuffer } from "../safetensors/tensor-data";
import { tensorToFloat32 } from "../safetensors/to-float32";
import { pthFsError, readAt, readInto } from "./_io";
import {
  type PickleLimits,
  PthTensorRef,
  type PthValue,
  PyDict,
  PyTuple,
  type PyKey,
  unpickle,
} from "./pickle";
import { PthError, WAN_PTH_ERROR_CODES, pthFail } from "./pth-error";
import { type ZipMember, readZipDirectory } from "./zip";

/** The largest `data.pkl` read: Wan's umT5 file's is ~30 KB; a corrupt size must not become an allocation of gigabytes. */
export const PTH_MAX_PICKLE_BYTES = 100_000_000;
/** How deep dicts, lists and tuples may nest in the object a file holds. */
export const PTH_MAX_NESTING = 64;

/**
 * One tensor of a .pth file. `dataOffsets` and `byteLength` keep their safetensors meaning where they can: the offsets
 * are relative to the start of the tensor's storage (a zip member), and cover exactly its bytes when it is contiguous,
 * or the smallest range holding all its elements when not; `byteLength` is what `read` returns (elements x item size).
 */
export interface PthTensorInfo extends SafetensorsTensorInfo {
  /** In elements, as torch's `stride()`. */
  readonly strides: readonly number[];
  /** The storage's key: its bytes are the zip member `<archive>/data/<key>`; tensors may share a storage. */
  readonly storageKey: string;
  /** In elements, as torch's `storage_offset()`. */
  readonly storageOffset: number;
  /** True when the elements are in row-major order with no gaps (a read is then one positioned read). */
  readonly contiguous: boolean;
  readonly requiresGrad: boolean;
  /** True when it was saved as an nn.Parameter. */
  readonly parameter: boolean;
}

/** An open torch.save file. */
export interface PthFile extends TensorSource {
  /** The path as given to {@link openPth}. */
  readonly path: string;
  /** The folder every member of the zip sits in (torch names it after the file it first saved to). */
  readonly archiveName: string;
  /**
   * The tensors by name, in the pickle's order: nested dicts (and lists, tuples) are flattened with `.` (a wrapper
   * `{'state_dict': {...}}` gives `state_dict.<key>`), a tensor at the root is named `""`.
   */
  readonly tensors: ReadonlyMap<string, PthTensorInfo>;
  /** The whole object the pickle describes (non-tensor values included), tensors as PthTensorRef. */
  readonly root: PthValue;
}

/** Options of {@link openPth}. */
export interface OpenPthOptions {
  /** Caps of the pickle interpreter (defaults: PICKLE_LIMITS). */
  readonly limits?: Partial<PickleLimits>;
  /** See UnpickleOptions.onGlobal. */
  readonly onGlobal?: (name: string, allowed: boolean) => void;
}

function keyName(key: PyKey): string {
  if (key === null) return "None";
  if (typeof key === "boolean") return key ? "True" : "False";
  return String(key);
}

/** The tensors of `root` by flattened name (iteratively bounded: depth and a visit budget against shared subtrees). */
function flatten(
  file: string,
  root: PthValue,
  budget: number
): Map<string, PthTensorRef> {
  const out = new Map<string, PthTensorRef>();
  let visits = 0;
  const walk = (value: PthValue, name: string | null, depth: number): void => {
    if (++visits > budget)
      pthFail(
        WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED,
        file,
        `the object visits more than ${budget} values once shared parts are expanded (a hostile pickle?)`
      );
    const child = (key: string): string =>
      name === null ? key : `${name}.${key}`;
    if (value instanceof PthTensorRef) {
      const key = name ?? "";
      if (out.has(key))
        pthFail(
          WAN_PTH_ERROR_CODES.DUPLICATE_TENSOR,
          file,
          'is named twice once nested dicts are flattened with "."',
          key
        );
      out.set(key, value);
      return;
    }
    const isContainer =
      value instanceof PyDict ||
      value instanceof PyTuple ||
      Array.isArray(value);
    if (!isContainer) return;
    if (depth >= PTH_MAX_NESTING)
      pthFail(
        WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED,
        file,
        `dicts, lists and tuples nest deeper than ${PTH_MAX_NESTING} levels${
          name === null ? "" : ` (at ${JSON.stringify(name)})`
        }`
      );
    if (value instanceof PyDict) {
      for (const [key, item] of value.entries)
        walk(item, child(keyName(key)), depth + 1);
    } else {
      const items = value instanceof PyTuple ? value.items : value;
      items.forEach((item, i) => walk(item, child(String(i)), depth + 1));
    }
  };
  walk(root, null, 0);
  return out;
}

/** Validates a tensor against its storage; its info. */
function tensorInfo(
  file: string,
  name: string,
  ref: PthTensorRef,
  member: ZipMember | undefined
): PthTensorInfo {
  const fail = (
    rule: string,
    code: (typeof WAN_PTH_ERROR_CODES)[keyof typeof WAN_PTH_ERROR_CODES] = WAN_PTH_ERROR_CODES.INVALID_TENSOR
  ): never => pthFail(code, file, rule, name);
  const { storage, shape, strides, storageOffset } = ref;
  if (ref.dtype === null)
    fail(
      `has dtype ${ref.dtypeName}, which has no safetensors name (complex and quantized tensors are not read)`,
      WAN_PTH_ERROR_CODES.UNSUPPORTED_DTYPE
    );
  const dtype = ref.dtype as SafetensorsDtype;
  if (storage.dtype === null)
    fail(
      `has storage type ${storage.storageType}, which is not read`,
      WAN_PTH_ERROR_CODES.UNSUPPORTED_DTYPE
    );
  if (member === undefined)
    fail(
      `refers to storage ${JSON.stringify(
        storage.key
      )}, which the archive does not hold (no data/${storage.key} member)`,
      WAN_PTH_ERROR_CODES.STORAGE_MISSING
    );
  const m = member as ZipMember;
  const storageBytes =
    storage.numel * dtypeItemSize(storage.dtype as SafetensorsDtype);
  if (!Number.isSafeInteger(storageBytes) || m.size < storageBytes) {
    fail(
      `has storage ${JSON.stringify(storage.key)} of ${storage.numel} ${
        storage.storageType
      } elements (${storageBytes} bytes) but its zip member holds ${
        m.size
      } bytes`
    );
  }
  if (shape.length !== strides.length)
    fail(`has ${shape.length} sizes but ${strides.length} strides`);
  const count = shapeElementCount(shape);
  if (count === null || shape.some((d) => d < 0))
    fail(
      `has shape [${shape.join(
        ", "
      )}], not one of non-negative sizes whose element count is a safe integer`
    );
  if (strides.some((s) => s < 0))
    fail(`has strides [${strides.join(", ")}]: negative strides are not read`);
  const item = dtypeItemSize(dtype);
  const capacity = Math.floor(storageBytes / item);
  let last = storageOffset;
  for (let d = 0; d < shape.length; d++)
    last += ((shape[d] as number) - 1) * (strides[d] as number);
  if (
    (count as number) > 0 &&
    (!Number.isSafeInteger(last) || last >= capacity)
  ) {
    fail(
      `reaches element ${last} (offset ${storageOffset}, shape [${shape.join(
        ", "
      )}], strides [${strides.join(", ")}]) of storage ${JSON.stringify(
        storage.key
      )}, which holds ${capacity} ${dtype} elements`
    );
  }
  if (storageOffset > capacity)
    fail(
      `has storage offset ${storageOffset}, past its storage's ${capacity} elements`
    );
  let contiguous = true;
  let expected = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    if (shape[d] === 1) continue;
    if (strides[d] !== expected) contiguous = false;
    expected *= shape[d] as number;
  }
  if (count === 0) contiguous = true;
  const begin = storageOffset * item;
  const end = count === 0 ? begin : (last + 1) * item;
  return {
    dtype,
    shape: [...shape],
    strides: [...strides],
    dataOffsets: [begin, end],
    byteLength: (count as number) * item,
    storageKey: storage.key,
    storageOffset,
    contiguous,
    requiresGrad: ref.requiresGrad,
    parameter: ref.parameter,
  };
}

/** Copies the elements of a strided tensor (from a buffer starting at its first element) into row-major order. */
function gather(info: PthTensorInfo, span: ArrayBuffer): ArrayBuffer {
  const item = dtypeItemSize(info.dtype);
  const count = info.byteLength / item;
  const out = new ArrayBuffer(info.byteLength);
  const Class =
    item === 8
      ? BigUint64Array
      : item === 4
      ? Uint32Array
      : item === 2
      ? Uint16Array
      : Uint8Array;
  const src = new Class(span) as Uint8Array; // element-wise copies of raw bits, whatever the width
  const dst = new Class(out) as Uint8Array;
  const { shape, strides } = info;
  const rank = shape.length;
  const index = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let i = 0; i < count; i++) {
    dst[i] = src[offset] as number;
    for (let d = rank - 1; d >= 0; d--) {
      const next = (index[d] as number) + 1;
      if (next < (shape[d] as number)) {
        index[d] = next;
        offset += strides[d] as number;
        break;
      }
      offset -= ((shape[d] as number) - 1) * (strides[d] as number);
      index[d] = 0;
    }
  }
  return out;
}

class PthFileReader implements PthFile {
  private closing: Promise<void> | null = null;

  constructor(
    readonly path: string,
    readonly archiveName: string,
    readonly tensors: ReadonlyMap<string, PthTensorInfo>,
    readonly root: PthValue,
    private readonly members: ReadonlyMap<string, ZipMember>,
    private readonly handle: FileHandle
  ) {}

  private info(name: string): PthTensorInfo {
    if (this.closing !== null)
      throw new PthError({
        code: WAN_PTH_ERROR_CODES.CLOSED,
        file: this.path,
        tensor: name,
        rule: "cannot be read: the file was closed",
      });
    const info = this.tensors.get(name);
    if (info === undefined) {
      throw new PthError({
        code: WAN_PTH_ERROR_CODES.UNKNOWN_TENSOR,
        file: this.path,
        tensor: name,
        rule: `is not in the file (it holds ${this.tensors.size} tensors)`,
      });
    }
    return info;
  }

  /** The tensor's elements in row-major order, little-endian, in a fresh ArrayBuffer of its own. */
  private async readBuffer(
    name: string,
    info: PthTensorInfo
  ): Promise<ArrayBuffer> {
    const member = this.members.get(
      `${this.archiveName}/data/${info.storageKey}`
    ) as ZipMember;
    const [begin, end] = info.dataOffsets;
    const span = new ArrayBuffer(end - begin);
    if (span.byteLength > 0) {
      await readInto({
        handle: this.handle,
        file: this.path,
        tensor: name,
        into: new Uint8Array(span),
        position: member.dataStart + begin,
        what: `storage ${JSON.stringify(info.storageKey)}`,
      });
    }
    return info.contiguous ? span : gather(info, span);
  }

  async readBytes(name: string): Promise<Uint8Array> {
    return new Uint8Array(await this.readBuffer(name, this.info(name)));
  }

  async read(name: string): Promise<SafetensorsArray> {
    const info = this.info(name);
    return viewTensorBuffer(info.dtype, await this.readBuffer(name, info));
  }

  async readAsFloat32(name: string): Promise<Float32Array> {
    const info = this.info(name);
    return tensorToFloat32({
      dtype: info.dtype,
      data: viewTensorBuffer(info.dtype, await this.readBuffer(name, info)),
    });
  }

  close(): Promise<void> {
    this.closing ??= this.handle.close().catch((cause: unknown) => {
      throw pthFsError(this.path, "close the file", cause);
    });
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Opens a PyTorch checkpoint written by `torch.save` (PyTorch >= 1.6: a zip of `<archive>/data.pkl` and one member
 * `<archive>/data/<key>` per storage), e.g. Wan2.1's `models_t5_umt5-xxl-enc-bf16.pth` and `Wan2.1_VAE.pth`.
 * Reads the zip directory and the pickle, which it interprets without executing anything (see `unpickle`: only an
 * allowlist of torch rebuild functions, storage classes, dtypes and OrderedDict; anything else is REFUSED_GLOBAL), and
 * keeps the file open for reads of single tensors, each one positioned read of its bytes (strided tensors are read
 * as the range covering them and gathered into row-major order). The file is never read whole. Every problem is a
 * {@link PthError} naming the file; the file is closed before it is thrown.
 *
 * @example
 * await using vae = await openPth('Wan2.1_VAE.pth');
 * const w = await vae.readAsFloat32('decoder.conv1.weight');
 */
export async function openPth(
  path: string,
  options: OpenPthOptions = {}
): Promise<PthFile> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (cause) {
    throw pthFsError(path, "open the file", cause);
  }
  try {
    let size: number;
    try {
      const stats = await handle.stat();
      if (!stats.isFile())
        throw new PthError({
          code: WAN_PTH_ERROR_CODES.NOT_FOUND,
          file: path,
          rule: "is not a file",
        });
      size = stats.size;
    } catch (cause) {
      throw pthFsError(path, "stat the file", cause);
    }
    const magic = await readAt({
      handle,
      file: path,
      position: 0,
      length: Math.min(2, size),
      what: "the first bytes",
    });
    if (magic[0] === 0x80 && magic[1] !== undefined && magic[1] <= 5) {
      pthFail(
        WAN_PTH_ERROR_CODES.LEGACY_FORMAT,
        path,
        "is a torch.save file of PyTorch < 1.6 (a bare pickle stream, not a zip), which is not read: re-save it with PyTorch >= 1.6 or convert it to safetensors"
      );
    }
    const members = await readZipDirectory({ handle, file: path, size });
    const pickles = [...members.keys()].filter((name) =>
      /^[^/]+\/data\.pkl$/.test(name)
    );
    if (pickles.length !== 1) {
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ARCHIVE,
        path,
        pickles.length === 0
          ? "holds no <archive>/data.pkl: not a torch.save file"
          : `holds ${pickles.length} <archive>/data.pkl members (${pickles.join(
              ", "
            )})`
      );
    }
    const pickleMember = members.get(pickles[0] as string) as ZipMember;
    const archiveName = pickleMember.name.slice(0, -"/data.pkl".length);
    const byteorder = members.get(`${archiveName}/byteorder`);
    if (byteorder !== undefined) {
      const text = new TextDecoder().decode(
        await readAt({
          handle,
          file: path,
          position: byteorder.dataStart,
          length: Math.min(byteorder.size, 16),
          what: "the byteorder member",
        })
      );
      if (text !== "little")
        pthFail(
          WAN_PTH_ERROR_CODES.INVALID_ARCHIVE,
          path,
          `was saved with byte order ${JSON.stringify(
            text
          )}; only little-endian files are read`
        );
    }
    if (pickleMember.size > PTH_MAX_PICKLE_BYTES) {
      pthFail(
        WAN_PTH_ERROR_CODES.LIMIT_EXCEEDED,
        path,
        `its data.pkl holds ${pickleMember.size} bytes, past the limit of ${PTH_MAX_PICKLE_BYTES}`
      );
    }
    const bytes = await readAt({
      handle,
      file: path,
      position: pickleMember.dataStart,
      length: pickleMember.size,
      what: "data.pkl",
    });
    const crc = crc32(bytes);
    if (crc !== pickleMember.crc32) {
      pthFail(
        WAN_PTH_ERROR_CODES.INVALID_ZIP,
        path,
        `data.pkl's CRC-32 is ${crc.toString(
          16
        )}, the zip directory says ${pickleMember.crc32.toString(
          16
        )}: the file is corrupt`
      );
    }
    const root = unpickle({
      file: path,
      bytes,
      ...(options.limits === undefined ? {} : { limits: options.limits }),
      ...(options.onGlobal === undefined ? {} : { onGlobal: options.onGlobal }),
    });
    const refs = flatten(path, root, 2 * bytes.length + 16);
    const tensors = new Map<string, PthTensorInfo>();
    for (const [name, ref] of refs)
      tensors.set(
        name,
        tensorInfo(
          path,
          name,
          ref,
          members.get(`${archiveName}/data/${ref.storage.key}`)
        )
      );
    return new PthFileReader(path, archiveName, tensors, root, members, handle);
  } catch (error) {
    await handle.close().catch(() => undefined); // the first error is the one to report
    throw error;
  }
}
