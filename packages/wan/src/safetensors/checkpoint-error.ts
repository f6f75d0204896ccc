import { FpsAttnError } from '@fpsattn/fp8';

/** The codes of the errors the safetensors reader, writer and checkpoint loader of @fpsattn/wan throw. */
export const WAN_CHECKPOINT_ERROR_CODES = Object.freeze({
  /** The path names nothing, or a directory holding no checkpoint, or more than one without an index. */
  NOT_FOUND: 'FPSATTN_WAN_CHECKPOINT_NOT_FOUND',
  /** The file ends before what its own header says it holds (the 8-byte length, the header, a tensor). */
  TRUNCATED: 'FPSATTN_WAN_CHECKPOINT_TRUNCATED',
  /** The header length is past the safety limit ({@link SAFETENSORS_MAX_HEADER_BYTES}). */
  HEADER_TOO_LARGE: 'FPSATTN_WAN_CHECKPOINT_HEADER_TOO_LARGE',
  /** The header is not UTF-8 JSON of an object, repeats a key, or holds a bad `__metadata__`. */
  INVALID_HEADER: 'FPSATTN_WAN_CHECKPOINT_INVALID_HEADER',
  /** A tensor entry breaks a rule: dtype, shape, data_offsets (size, range, overlap); also a tensor given to the writer. */
  INVALID_TENSOR: 'FPSATTN_WAN_CHECKPOINT_INVALID_TENSOR',
  /** A `*.safetensors.index.json` is not JSON of `{ weight_map: { name: file } }`, or disagrees with its shards. */
  INVALID_INDEX: 'FPSATTN_WAN_CHECKPOINT_INVALID_INDEX',
  /** A shard the index names is absent. */
  SHARD_MISSING: 'FPSATTN_WAN_CHECKPOINT_SHARD_MISSING',
  /** A tensor the index lists is not in the shard the index names. */
  TENSOR_MISSING: 'FPSATTN_WAN_CHECKPOINT_TENSOR_MISSING',
  /** A tensor is present in two shards. */
  DUPLICATE_TENSOR: 'FPSATTN_WAN_CHECKPOINT_DUPLICATE_TENSOR',
  /** A read asked for a tensor the checkpoint does not hold. */
  UNKNOWN_TENSOR: 'FPSATTN_WAN_CHECKPOINT_UNKNOWN_TENSOR',
  /** A read after `close()`. */
  CLOSED: 'FPSATTN_WAN_CHECKPOINT_CLOSED',
  /** The file system failed (permissions, a full disk, ...): `cause` holds Node's error. */
  IO_ERROR: 'FPSATTN_WAN_CHECKPOINT_IO_ERROR',
} as const);

export type WanCheckpointErrorCode = (typeof WAN_CHECKPOINT_ERROR_CODES)[keyof typeof WAN_CHECKPOINT_ERROR_CODES];

/**
 * A checkpoint file (safetensors, or the index of a sharded checkpoint) breaks a rule, or cannot be read or written.
 * The message names the file, the tensor when there is one, and the rule, e.g.
 * `model.safetensors: tensor "blocks.0.self_attn.q.weight" data_offsets [0, 100] hold 100 bytes, expected 4096 (F32 [32, 32])`.
 */
export class CheckpointError extends FpsAttnError {
  /** The file, as the caller named it (or as the index names a shard, joined to the index's directory). */
  readonly file: string;
  /** The tensor the rule is about, or null when it is about the file as a whole. */
  readonly tensor: string | null;
  /** The rule broken, in words (the message after the file and tensor). */
  readonly rule: string;
  declare readonly code: WanCheckpointErrorCode;

  constructor(options: { code: WanCheckpointErrorCode; file: string; tensor?: string | null; rule: string; cause?: unknown }) {
    const tensor = options.tensor ?? null;
    const where = tensor === null ? `${options.file}: ` : `${options.file}: tensor ${JSON.stringify(tensor)} `;
    super({ code: options.code, message: `${where}${options.rule}`, cause: options.cause });
    this.name = 'CheckpointError';
    this.file = options.file;
    this.tensor = tensor;
    this.rule = options.rule;
  }
}
