import { FpsAttnError } from "@fpsattn/fp8";

/** The codes of the errors the PyTorch checkpoint (`.pth`, torch.save) reader of @fpsattn/wan throws. */
export const WAN_PTH_ERROR_CODES = Object.freeze({
  /** The path names nothing, or not a file. */
  NOT_FOUND: "FPSATTN_WAN_PTH_NOT_FOUND",
  /** The file ends before what its own structures say it holds (the zip directory, a member, the pickle). */
  TRUNCATED: "FPSATTN_WAN_PTH_TRUNCATED",
  /** The file is a torch.save file of PyTorch < 1.6 (a bare pickle stream, not a zip): re-save it with a newer torch. */
  LEGACY_FORMAT: "FPSATTN_WAN_PTH_LEGACY_FORMAT",
  /** The zip breaks a rule: no end record, bad signatures, unsafe or repeated member names, overlapping members, ... */
  INVALID_ZIP: "FPSATTN_WAN_PTH_INVALID_ZIP",
  /** A zip feature torch.save never writes: compression, encryption, several disks. */
  UNSUPPORTED_ZIP: "FPSATTN_WAN_PTH_UNSUPPORTED_ZIP",
  /** The archive does not hold one `<folder>/data.pkl`, or its byte order is not little-endian. */
  INVALID_ARCHIVE: "FPSATTN_WAN_PTH_INVALID_ARCHIVE",
  /** The pickle breaks a rule: an unknown or unsupported opcode, a stack underflow, a bad argument, a bad memo index. */
  INVALID_PICKLE: "FPSATTN_WAN_PTH_INVALID_PICKLE",
  /** The pickle names a global outside the allowlist (`os.system`, `builtins.eval`, ...): it is refused, never resolved. */
  REFUSED_GLOBAL: "FPSATTN_WAN_PTH_REFUSED_GLOBAL",
  /** The pickle is past a safety limit (size, stack, MARK nesting, memo entries, object nesting, walk budget). */
  LIMIT_EXCEEDED: "FPSATTN_WAN_PTH_LIMIT_EXCEEDED",
  /** A tensor breaks a rule: shape, strides, offset, a storage key, elements past the end of its storage. */
  INVALID_TENSOR: "FPSATTN_WAN_PTH_INVALID_TENSOR",
  /** A tensor's dtype has no safetensors name (complex, quantized, ...). */
  UNSUPPORTED_DTYPE: "FPSATTN_WAN_PTH_UNSUPPORTED_DTYPE",
  /** The pickle refers to a storage the zip does not hold (`<folder>/data/<key>`). */
  STORAGE_MISSING: "FPSATTN_WAN_PTH_STORAGE_MISSING",
  /** Two tensors get the same name once nested dictionaries are flattened (`a.b` and `{a: {b}}`). */
  DUPLICATE_TENSOR: "FPSATTN_WAN_PTH_DUPLICATE_TENSOR",
  /** A read asked for a tensor the file does not hold. */
  UNKNOWN_TENSOR: "FPSATTN_WAN_PTH_UNKNOWN_TENSOR",
  /** A read after `close()`. */
  CLOSED: "FPSATTN_WAN_PTH_CLOSED",
  /** The file system failed (permissions, ...): `cause` holds Node's error. */
  IO_ERROR: "FPSATTN_WAN_PTH_IO_ERROR",
} as const);

export type WanPthErrorCode =
  (typeof WAN_PTH_ERROR_CODES)[keyof typeof WAN_PTH_ERROR_CODES];

/**
 * A PyTorch checkpoint (`.pth`, torch.save) breaks a rule, asks for something the reader refuses, or cannot be read.
 * The message names the file, the tensor when there is one, and the rule, e.g.
 * `Wan2.1_VAE.pth: refused global os.system at pickle byte 2: the reader only rebuilds tensors`.
 */
export class PthError extends FpsAttnError {
  /** The file, as the caller named it. */
  readonly file: string;
  /** The tensor the rule is about, or null when it is about the file as a whole. */
  readonly tensor: string | null;
  /** The rule broken, in words (the message after the file and tensor). */
  readonly rule: string;
  declare readonly code: WanPthErrorCode;

  constructor(options: {
    code: WanPthErrorCode;
    file: string;
    tensor?: string | null;
    rule: string;
    cause?: unknown;
  }) {
    const tensor = options.tensor ?? null;
    const where =
      tensor === null
        ? `${options.file}: `
        : `${options.file}: tensor ${JSON.stringify(tensor)} `;
    super({
      code: options.code,
      message: `${where}${options.rule}`,
      cause: options.cause,
    });
    this.name = "PthError";
    this.file = options.file;
    this.tensor = tensor;
    this.rule = options.rule;
  }
}

/** Throws a PthError about the file as a whole (or a tensor). */
export function pthFail(
  code: WanPthErrorCode,
  file: string,
  rule: string,
  tensor?: string | null,
  cause?: unknown
): never {
  throw new PthError({ code, file, tensor: tensor ?? null, rule, cause });
}
