import { FpsAttnError } from '@fpsattn/fp8';
import { show, showFirst, showShape } from './_show';

/** The codes of the errors the Wan2.1 DiT of @fpsattn/wan (configs, checkpoint keys, weights, CPU forward) throws. */
export const WAN_MODEL_ERROR_CODES = Object.freeze({
  /** {@link WanConfigError}: a config field (of a `WanConfig` or a config.json) breaks a rule, or config.json is absent or not JSON. */
  INVALID_CONFIG: 'FPSATTN_WAN_MODEL_INVALID_CONFIG',
  /** {@link WanConfigMismatchError}: a config.json describes another model than the one asked for. */
  CONFIG_MISMATCH: 'FPSATTN_WAN_MODEL_CONFIG_MISMATCH',
  /** {@link WanNamingError}: the tensor names follow none of the known schemes (original, diffusers, ComfyUI), or mix them. */
  UNKNOWN_NAMING: 'FPSATTN_WAN_MODEL_UNKNOWN_NAMING',
  /** {@link WanTensorSetError}: tensors of the config are missing, or tensors the config does not have are present. */
  TENSOR_SET_MISMATCH: 'FPSATTN_WAN_MODEL_TENSOR_SET_MISMATCH',
  /** {@link WanTensorShapeError}: a tensor has another shape (or element count) than the config gives it. */
  SHAPE_MISMATCH: 'FPSATTN_WAN_MODEL_SHAPE_MISMATCH',
  /** {@link WanTensorDtypeError}: a weight is stored as integers or booleans. */
  INVALID_DTYPE: 'FPSATTN_WAN_MODEL_INVALID_DTYPE',
  /** {@link WanInputError}: an input of the forward (latents, shapes, timestep, context) breaks a rule. */
  INVALID_INPUT: 'FPSATTN_WAN_MODEL_INVALID_INPUT',
  /** {@link WanLoadAbortedError}: loading weights was aborted through an `AbortSignal`. */
  LOAD_ABORTED: 'FPSATTN_WAN_MODEL_LOAD_ABORTED',
} as const);

export type WanModelErrorCode = (typeof WAN_MODEL_ERROR_CODES)[keyof typeof WAN_MODEL_ERROR_CODES];

/**
 * A config field breaks a rule, e.g. `ckpt/config.json: num_heads is 3: dim 256 must be a multiple of num_heads`, or
 * the file as a whole is unusable (`field` null), e.g. `ckpt/config.json: is not valid JSON (...)`.
 */
export class WanConfigError extends FpsAttnError {
  /** The config.json path, or a description of an in-memory config (`wan-tiny`, `config`). */
  readonly source: string;
  /** The field as the source spells it (`num_heads` in a file, `numHeads` in a `WanConfig`), or null. */
  readonly field: string | null;
  readonly value: unknown;
  readonly rule: string;

  constructor(options: { source: string; field?: string | null; value?: unknown; rule: string; cause?: unknown }) {
    const field = options.field ?? null;
    // A field whose value is undefined is absent from the file.
    const value = options.value === undefined ? 'missing' : show(options.value);
    const where = field === null ? `${options.source}:` : `${options.source}: ${field} is ${value}:`;
    super({ code: WAN_MODEL_ERROR_CODES.INVALID_CONFIG, message: `${where} ${options.rule}`, cause: options.cause });
    this.name = 'WanConfigError';
    this.source = options.source;
    this.field = field;
    this.value = options.value;
    this.rule = options.rule;
  }
}

/** One field on which two configs differ. */
export interface WanConfigFieldMismatch {
  readonly field: string;
  readonly expected: unknown;
  readonly actual: unknown;
}

/**
 * A config.json describes another model, e.g. `ckpt/config.json: does not match wan-1.3b: dim is 5120, expected 1536;
 * numHeads is 40, expected 12`. Every differing field is listed.
 */
export class WanConfigMismatchError extends FpsAttnError {
  readonly source: string;
  /** What the config was compared with (`wan-1.3b`, `the config passed in`). */
  readonly expectedName: string;
  readonly mismatches: readonly WanConfigFieldMismatch[];

  constructor(options: { source: string; expectedName: string; mismatches: readonly WanConfigFieldMismatch[] }) {
    const list = options.mismatches.map((m) => `${m.field} is ${show(m.actual)}, expected ${show(m.expected)}`).join('; ');
    super({ code: WAN_MODEL_ERROR_CODES.CONFIG_MISMATCH, message: `${options.source}: does not match ${options.expectedName}: ${list}` });
    this.name = 'WanConfigMismatchError';
    this.source = options.source;
    this.expectedName = options.expectedName;
    this.mismatches = options.mismatches;
  }
}

/** The tensor names of a checkpoint follow no known scheme, or mix two, e.g. `ckpt.safetensors: the names mix ...`. */
export class WanNamingError extends FpsAttnError {
  readonly source: string;
  readonly rule: string;

  constructor(options: { source: string; rule: string }) {
    super({ code: WAN_MODEL_ERROR_CODES.UNKNOWN_NAMING, message: `${options.source}: ${options.rule}` });
    this.name = 'WanNamingError';
    this.source = options.source;
    this.rule = options.rule;
  }
}

/**
 * The checkpoint's tensors are not the config's, e.g. `ckpt.safetensors: the tensors do not match wan-tiny (original
 * naming): 2 missing (blocks.1.ffn.0.weight, blocks.1.ffn.0.bias); 1 unexpected (blocks.2.modulation)`. Names are
 * given as the checkpoint spells them (or would spell them); a message lists the first five of each list.
 */
export class WanTensorSetError extends FpsAttnError {
  readonly source: string;
  /** Every missing tensor. */
  readonly missing: readonly string[];
  /** Every tensor the config does not have. */
  readonly unexpected: readonly string[];

  constructor(options: { source: string; what: string; missing: readonly string[]; unexpected: readonly string[] }) {
    const parts: string[] = [];
    if (options.missing.length > 0) parts.push(`${options.missing.length} missing (${showFirst(options.missing)})`);
    if (options.unexpected.length > 0) parts.push(`${options.unexpected.length} unexpected (${showFirst(options.unexpected)})`);
    super({ code: WAN_MODEL_ERROR_CODES.TENSOR_SET_MISMATCH, message: `${options.source}: the tensors do not match ${options.what}: ${parts.join('; ')}` });
    this.name = 'WanTensorSetError';
    this.source = options.source;
    this.missing = options.missing;
    this.unexpected = options.unexpected;
  }
}

/**
 * A tensor has the wrong shape, e.g. `ckpt.safetensors: tensor "blocks.0.ffn.0.weight" has shape [512, 128], expected
 * [512, 256] ([ffnDim, dim] of wan-tiny)`; when more tensors are wrong, the message ends with their count and names.
 */
export class WanTensorShapeError extends FpsAttnError {
  readonly source: string;
  /** The tensor as the source names it. */
  readonly tensor: string;
  readonly expected: readonly number[];
  readonly actual: readonly number[];
  /** The other tensors of the wrong shape (not counting `tensor`). */
  readonly others: readonly string[];

  constructor(options: { source: string; tensor: string; expected: readonly number[]; actual: readonly number[]; rule: string; others?: readonly string[] }) {
    const others = options.others ?? [];
    const more = others.length === 0 ? '' : `; ${others.length} more tensor${others.length === 1 ? '' : 's'} of the wrong shape (${showFirst(others)})`;
    super({
      code: WAN_MODEL_ERROR_CODES.SHAPE_MISMATCH,
      message: `${options.source}: tensor ${JSON.stringify(options.tensor)} has shape ${showShape(options.actual)}, expected ${showShape(options.expected)} (${options.rule})${more}`,
    });
    this.name = 'WanTensorShapeError';
    this.source = options.source;
    this.tensor = options.tensor;
    this.expected = options.expected;
    this.actual = options.actual;
    this.others = others;
  }
}

/** A weight stored as integers or booleans, e.g. `ckpt.safetensors: tensor "head.head.bias" has dtype I64: ...`. */
export class WanTensorDtypeError extends FpsAttnError {
  readonly source: string;
  readonly tensor: string;
  readonly dtype: string;

  constructor(options: { source: string; tensor: string; dtype: string }) {
    super({
      code: WAN_MODEL_ERROR_CODES.INVALID_DTYPE,
      message: `${options.source}: tensor ${JSON.stringify(options.tensor)} has dtype ${options.dtype}: a weight must be a float (F64, F32, F16, BF16, F8_E4M3 or F8_E5M2)`,
    });
    this.name = 'WanTensorDtypeError';
    this.source = options.source;
    this.tensor = options.tensor;
    this.dtype = options.dtype;
  }
}

/**
 * An input of the forward (or of the synthetic generator) breaks a rule, e.g. `wanForwardCpu: latentShape[2] is 7:
 * expected a multiple of the patch size 2 (H)`. `input` names it (`latents`, `latentShape[1]`, `timestep`, `context`,
 * `contextLength`, `seed`, ...); `caller` the function (default `wanForwardCpu`).
 */
export class WanInputError extends FpsAttnError {
  readonly input: string;
  readonly value: unknown;
  readonly rule: string;

  constructor(options: { input: string; value: unknown; rule: string; caller?: string }) {
    const caller = options.caller ?? 'wanForwardCpu';
    super({ code: WAN_MODEL_ERROR_CODES.INVALID_INPUT, message: `${caller}: ${options.input} is ${show(options.value)}: ${options.rule}` });
    this.name = 'WanInputError';
    this.input = options.input;
    this.value = options.value;
    this.rule = options.rule;
  }
}

/**
 * Loading a checkpoint's weights was aborted through an `AbortSignal`, e.g. `ckpt/: loading aborted before tensor
 * "blocks.0.ffn.0.weight" (12 of 69 tensors loaded, all freed)`. `cause` is the signal's reason.
 */
export class WanLoadAbortedError extends FpsAttnError {
  readonly source: string;
  /** The tensor (as the checkpoint names it) that was to be read next. */
  readonly tensor: string;
  readonly done: number;
  readonly total: number;

  constructor(options: { source: string; tensor: string; done: number; total: number; reason: unknown }) {
    super({
      code: WAN_MODEL_ERROR_CODES.LOAD_ABORTED,
      message: `${options.source}: loading aborted before tensor ${JSON.stringify(options.tensor)} (${options.done} of ${options.total} tensors loaded, all freed)`,
      cause: options.reason,
    });
    this.name = 'WanLoadAbortedError';
    this.source = options.source;
    this.tensor = options.tensor;
    this.done = options.done;
    this.total = options.total;
  }
}
