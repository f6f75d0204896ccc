import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { findDuplicateKey } from './_duplicate-keys';
import { fsError } from './_fs';
import { show } from './_show';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES } from './checkpoint-error';
import type { SafetensorsArray } from './dtypes';
import { SAFETENSORS_MAX_HEADER_BYTES, type SafetensorsTensorInfo } from './header';
import { type SafetensorsFile, type TensorSource, openSafetensors } from './reader';

/** One tensor of a checkpoint, and the file that holds it. */
export interface CheckpointTensorInfo extends SafetensorsTensorInfo {
  /** The path of the shard (or the single file) holding the tensor. */
  readonly file: string;
}

/** An open checkpoint: one safetensors file, or the shards of a `*.safetensors.index.json`, read lazily by name. */
export interface Checkpoint extends TensorSource {
  /** The path as given to {@link openCheckpoint}. */
  readonly path: string;
  /** The index file, or null for a single-file checkpoint. */
  readonly index: string | null;
  /** The index's `metadata` object (e.g. `{ total_size }`), empty for a single file or an index without it. */
  readonly indexMetadata: Readonly<Record<string, unknown>>;
  /** The open files: the shards in the order the index first names them, or the single file. */
  readonly files: readonly SafetensorsFile[];
  /** Every tensor of the checkpoint, shard by shard in the order of their data. */
  readonly tensors: ReadonlyMap<string, CheckpointTensorInfo>;
}

const INDEX_SUFFIX = '.safetensors.index.json';
const FILE_SUFFIX = '.safetensors';

type Resolved = { kind: 'file'; file: string } | { kind: 'index'; index: string };

/** What a path names: a file (an index when its name ends with .json), or a directory holding one of them. */
async function resolve(path: string): Promise<Resolved> {
  let isDirectory: boolean;
  try {
    isDirectory = (await stat(path)).isDirectory();
  } catch (cause) {
    throw fsError(path, 'open the checkpoint', cause);
  }
  if (!isDirectory) return path.endsWith('.json') ? { kind: 'index', index: path } : { kind: 'file', file: path };
  let names: string[];
  try {
    names = (await readdir(path)).sort();
  } catch (cause) {
    throw fsError(path, 'list the directory', cause);
  }
  const notFound = (rule: string): never => {
    throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.NOT_FOUND, file: path, rule });
  };
  const indexes = names.filter((n) => n.endsWith(INDEX_SUFFIX));
  const files = names.filter((n) => n.endsWith(FILE_SUFFIX));
  if (indexes.length > 1) return notFound(`the directory holds ${indexes.length} indexes (${indexes.join(', ')}): pass the path of one`);
  if (indexes.length === 1) return { kind: 'index', index: join(path, indexes[0] as string) };
  if (files.length === 1) return { kind: 'file', file: join(path, files[0] as string) };
  if (files.length === 0) return notFound(`the directory holds no ${FILE_SUFFIX} file and no *${INDEX_SUFFIX}`);
  return notFound(
    `the directory holds ${files.length} ${FILE_SUFFIX} files and no *${INDEX_SUFFIX} mapping tensors to them: pass one file, or add the index`,
  );
}

interface ParsedIndex {
  readonly weightMap: ReadonlyMap<string, string>;
  readonly metadata: Readonly<Record<string, unknown>>;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Reads and checks `{ "metadata"?: {...}, "weight_map": { tensor: "shard file" } }`. */
async function readIndex(index: string): Promise<ParsedIndex> {
  const invalid = (rule: string, tensor?: string, cause?: unknown): never => {
    throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.INVALID_INDEX, file: index, tensor: tensor ?? null, rule, cause });
  };
  let text: string;
  try {
    const size = (await stat(index)).size;
    if (size > SAFETENSORS_MAX_HEADER_BYTES) invalid(`the index holds ${size} bytes, over the ${SAFETENSORS_MAX_HEADER_BYTES}-byte limit`);
    text = await readFile(index, 'utf8');
  } catch (cause) {
    throw fsError(index, 'read the index', cause);
  }
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (cause) {
    return invalid(`the index is not valid JSON (${(cause as Error).message})`, undefined, cause);
  }
  if (!isRecord(root)) return invalid(`the index is ${show(root)}, expected an object with a weight_map`);
  const { weight_map: weightMap, metadata = {} } = root;
  if (!isRecord(weightMap)) return invalid(`weight_map is ${show(weightMap)}, expected an object mapping tensor names to shard files`);
  if (!isRecord(metadata)) return invalid(`metadata is ${show(metadata)}, expected an object`);
  const duplicate = findDuplicateKey(text);
  if (duplicate !== null) invalid(`the index repeats the key ${JSON.stringify(duplicate.key)}${duplicate.path.length > 0 ? ` in ${duplicate.path.join('.')}` : ''}`);
  for (const [name, file] of Object.entries(weightMap)) {
    if (typeof file !== 'string' || file === '') invalid(`maps to ${show(file)} in weight_map, expected a shard file name`, name);
    const normalized = normalize(file as string);
    if (isAbsolute(normalized) || normalized === '..' || normalized.startsWith(`..${sep}`)) {
      invalid(`maps to ${JSON.stringify(file)} in weight_map, outside the index's directory`, name);
    }
  }
  // Normalized, so that "./a.safetensors" and "a.safetensors" name one shard.
  const entries = Object.entries(weightMap as Record<string, string>).map(([name, file]): [string, string] => [name, normalize(file)]);
  return { weightMap: new Map(entries), metadata: Object.freeze({ ...metadata }) };
}

class CheckpointReader implements Checkpoint {
  private readonly owners = new Map<string, SafetensorsFile>();
  readonly tensors: ReadonlyMap<string, CheckpointTensorInfo>;
  private closing: Promise<void> | null = null;

  constructor(
    readonly path: string,
    readonly index: string | null,
    readonly indexMetadata: Readonly<Record<string, unknown>>,
    readonly files: readonly SafetensorsFile[],
  ) {
    const tensors = new Map<string, CheckpointTensorInfo>();
    for (const file of files) {
      for (const [name, info] of file.tensors) {
        tensors.set(name, { ...info, file: file.path });
        this.owners.set(name, file);
      }
    }
    this.tensors = tensors;
  }

  private owner(name: string): SafetensorsFile {
    if (this.closing !== null) {
      throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.CLOSED, file: this.path, tensor: name, rule: 'cannot be read: the checkpoint was closed' });
    }
    const file = this.owners.get(name);
    if (file === undefined) {
      throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.UNKNOWN_TENSOR, file: this.path, tensor: name, rule: `is not in the checkpoint (it holds ${this.tensors.size} tensors)` });
    }
    return file;
  }

  async read(name: string): Promise<SafetensorsArray> {
    return this.owner(name).read(name);
  }

  async readBytes(name: string): Promise<Uint8Array> {
    return this.owner(name).readBytes(name);
  }

  async readAsFloat32(name: string): Promise<Float32Array> {
    return this.owner(name).readAsFloat32(name);
  }

  close(): Promise<void> {
    this.closing ??= closeAll(this.files);
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Closes every file, then throws the first failure (if any). */
async function closeAll(files: readonly SafetensorsFile[]): Promise<void> {
  const results = await Promise.allSettled(files.map((f) => f.close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed !== undefined) throw failed.reason;
}

/** Checks the shards against the index: each tensor in exactly one shard, the one the index names. */
function checkShards(index: string, weightMap: ReadonlyMap<string, string>, shards: readonly SafetensorsFile[], shardNames: readonly string[]): void {
  const holder = new Map<string, number>();
  shards.forEach((shard, s) => {
    for (const name of shard.tensors.keys()) {
      const other = holder.get(name);
      if (other !== undefined) {
        throw new CheckpointError({
          code: WAN_CHECKPOINT_ERROR_CODES.DUPLICATE_TENSOR,
          file: shard.path,
          tensor: name,
          rule: `is also in ${(shards[other] as SafetensorsFile).path}: a tensor must be in one shard only`,
        });
      }
      holder.set(name, s);
    }
  });
  for (const [name, shardName] of weightMap) {
    const s = shardNames.indexOf(shardName);
    if (holder.get(name) !== s) {
      const shard = shards[s] as SafetensorsFile;
      const found = holder.get(name);
      const elsewhere = found === undefined ? '' : ` (it is in ${(shards[found] as SafetensorsFile).path})`;
      throw new CheckpointError({
        code: WAN_CHECKPOINT_ERROR_CODES.TENSOR_MISSING,
        file: shard.path,
        tensor: name,
        rule: `is missing: ${basename(index)} lists it in this shard${elsewhere}`,
      });
    }
  }
  for (const [name, s] of holder) {
    if (!weightMap.has(name)) {
      throw new CheckpointError({
        code: WAN_CHECKPOINT_ERROR_CODES.INVALID_INDEX,
        file: index,
        tensor: name,
        rule: `of shard ${(shards[s] as SafetensorsFile).path} is not in weight_map`,
      });
    }
  }
}

/** Opens the shards an index names (all or none: on a failure the ones opened are closed) and checks them. */
async function openShards(index: string, parsed: ParsedIndex): Promise<SafetensorsFile[]> {
  const shardNames = [...new Set(parsed.weightMap.values())];
  const directory = dirname(index);
  const results = await Promise.allSettled(shardNames.map((name) => openSafetensors(join(directory, name))));
  const shards = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  try {
    results.forEach((result, s) => {
      if (result.status === 'fulfilled') return;
      const error = result.reason as unknown;
      if (error instanceof CheckpointError && error.code === WAN_CHECKPOINT_ERROR_CODES.NOT_FOUND) {
        const shardName = shardNames[s] as string;
        const count = [...parsed.weightMap.values()].filter((f) => f === shardName).length;
        throw new CheckpointError({
          code: WAN_CHECKPOINT_ERROR_CODES.SHARD_MISSING,
          file: index,
          rule: `the shard ${JSON.stringify(shardName)} is absent (weight_map puts ${count} tensor${count === 1 ? '' : 's'} in it)`,
          cause: error,
        });
      }
      throw error;
    });
    checkShards(index, parsed.weightMap, shards, shardNames);
    return shards;
  } catch (error) {
    await closeAll(shards).catch(() => undefined); // the first error is the one to report
    throw error;
  }
}

/**
 * Opens a checkpoint for lazy reads by tensor name. `path` is a `.safetensors` file, a `*.safetensors.index.json`
 * (`weight_map`: tensor name -> shard file, relative to the index), or a directory holding exactly one index (then its
 * shards are used) or else exactly one `.safetensors` file. Every shard's header is read and checked, and so is the
 * index against them: a shard the index names must exist, hold every tensor the index puts in it and no other, and
 * no tensor may be in two shards. Each failure is a {@link CheckpointError}; no file stays open after one.
 *
 * @example
 * await using ckpt = await openCheckpoint('Wan2.1-T2V-14B'); // diffusion_pytorch_model.safetensors.index.json
 * const w = await ckpt.readAsFloat32('blocks.0.ffn.0.weight');
 */
export async function openCheckpoint(path: string): Promise<Checkpoint> {
  const resolved = await resolve(path);
  if (resolved.kind === 'file') {
    return new CheckpointReader(path, null, Object.freeze({}), [await openSafetensors(resolved.file)]);
  }
  const parsed = await readIndex(resolved.index);
  const shards = await openShards(resolved.index, parsed);
  return new CheckpointReader(path, resolved.index, parsed.metadata, shards);
}
