/**
 * What the VAE and umT5 loaders (vae/load-weights.ts, t5/load-weights.ts) share, {@link loadWeightFile}: finding the
 * weights a user points at (a torch.save `.pth` of the original Wan2.1 folder, or a diffusers folder of safetensors + config.json), telling
 * the naming scheme (and a wrapper prefix) from the tensor names, checking the tensor set, every shape and every dtype
 * before any data is read, and reading each tensor once as float32.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { WanConfigError, WanNamingError, WanTensorDtypeError, WanTensorSetError, WanTensorShapeError } from '../model/errors';
import { openPth } from '../pth/reader';
import { CheckpointError, WAN_CHECKPOINT_ERROR_CODES } from '../safetensors/checkpoint-error';
import type { SafetensorsDtype } from '../safetensors/dtypes';
import type { TensorSource } from '../safetensors/reader';
import { openCheckpoint } from '../safetensors/sharded';

/** The file format the weights were read from. */
export type WeightFileFormat = 'pth' | 'safetensors';

/** An open weight source: the tensors by stored name, and where each lives. */
export interface OpenedWeightSource {
  readonly format: WeightFileFormat;
  /** The file or folder opened (the `.pth`, or the path given to `openCheckpoint`). */
  readonly path: string;
  /** The folder whose config.json describes the weights (diffusers layout), or null (a `.pth`). */
  readonly configDirectory: string | null;
  readonly source: TensorSource;
  /** The file holding a tensor (a shard, the single safetensors file or the `.pth`). */
  fileOf(name: string): string;
}

const isDirectory = (path: string): Promise<boolean> => stat(path).then((s) => s.isDirectory(), () => false);
const isFile = (path: string): Promise<boolean> => stat(path).then((s) => s.isFile(), () => false);

/**
 * Opens what `path` names: a `.pth` (or any file not ending `.safetensors`/`.json`: read as torch.save), a
 * `.safetensors` file or `*.safetensors.index.json`, or a folder: one with `subfolder/` in it (a diffusers pipeline
 * folder, e.g. `vae/`), else one holding one of `pthNames` (the original Wan2.1 folder), else a folder of safetensors.
 */
export async function openWeightSource(options: { path: string; subfolder: string; pthNames: readonly string[] }): Promise<OpenedWeightSource> {
  const { path, subfolder, pthNames } = options;
  if (await isDirectory(path)) {
    if (await isDirectory(join(path, subfolder))) return openWeightSource({ ...options, path: join(path, subfolder) });
    for (const name of pthNames) {
      if (await isFile(join(path, name))) return openWeightSource({ ...options, path: join(path, name) });
    }
    let names: string[];
    try {
      names = await readdir(path);
    } catch (cause) {
      throw new CheckpointError({ code: WAN_CHECKPOINT_ERROR_CODES.IO_ERROR, file: path, rule: 'could not be listed', cause });
    }
    if (!names.some((n) => n.endsWith('.safetensors') || n.endsWith('.safetensors.index.json'))) {
      throw new CheckpointError({
        code: WAN_CHECKPOINT_ERROR_CODES.NOT_FOUND,
        file: path,
        rule: `holds no ${subfolder}/ folder, no ${pthNames.join(' or ')} and no .safetensors file`,
      });
    }
    const checkpoint = await openCheckpoint(path);
    return { format: 'safetensors', path, configDirectory: path, source: checkpoint, fileOf: (n) => checkpoint.tensors.get(n)?.file ?? path };
  }
  if (path.endsWith('.safetensors') || path.endsWith('.json')) {
    const checkpoint = await openCheckpoint(path);
    return { format: 'safetensors', path, configDirectory: dirname(path), source: checkpoint, fileOf: (n) => checkpoint.tensors.get(n)?.file ?? path };
  }
  const pth = await openPth(path);
  return { format: 'pth', path, configDirectory: null, source: pth, fileOf: () => path };
}

/** Reads `<directory>/config.json` as a JSON object; null when there is none. */
export async function readConfigJson(directory: string | null): Promise<{ file: string; json: Record<string, unknown> } | null> {
  if (directory === null) return null;
  const file = join(directory, 'config.json');
  if (!(await isFile(file))) return null;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (cause) {
    throw new WanConfigError({ source: file, rule: 'could not be read', cause });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new WanConfigError({ source: file, rule: `is not valid JSON (${(cause as Error).message})`, cause });
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new WanConfigError({ source: file, rule: 'is not a JSON object' });
  return { file, json: json as Record<string, unknown> };
}

/** One naming scheme of a model's tensors for a config. */
export interface WeightNamingScheme<N extends string> {
  readonly naming: N;
  /** The stored name of each tensor by reference name, in state-dict order. */
  readonly names: ReadonlyMap<string, string>;
  /** Other stored names of a tensor (stored name -> the canonical stored name), used when the canonical one is absent. */
  readonly aliases?: ReadonlyMap<string, string>;
}

/** A tensor to check: the reference name, its shape, and the config terms of the shape for messages. */
export interface WeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly symbolicShape?: string;
}

/** The outcome of {@link planWeights}: how to read each reference tensor. */
export interface WeightPlan<N extends string> {
  readonly naming: N;
  /** The wrapper prefix stripped from every name (`''`, or e.g. `state_dict.`). */
  readonly prefix: string;
  /** The stored name of each reference tensor, in state-dict order. */
  readonly stored: ReadonlyMap<string, string>;
  /** Stored tensors that are not read (the encoder half of the VAE, a tied alias), in file order. */
  readonly ignored: readonly string[];
}

const FLOAT_DTYPES: ReadonlySet<SafetensorsDtype> = new Set<SafetensorsDtype>(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);

/**
 * Detects the naming (and a wrapper prefix: the names may all sit under `<prefix>.`, e.g. `state_dict.`), then checks
 * the tensor set (one {@link WanTensorSetError} naming every missing and unexpected tensor as the file spells it),
 * every shape ({@link WanTensorShapeError}, the first wrong tensor with its file, the others counted) and every dtype
 * ({@link WanTensorDtypeError}). Reads no data.
 */
export function planWeights<N extends string>(options: {
  opened: OpenedWeightSource;
  schemes: readonly WeightNamingScheme<N>[];
  specs: readonly WeightSpec[];
  /** Stored names (prefix stripped) that belong to the file but are not loaded. */
  ignore: (name: string) => boolean;
  /** The model and config for messages, e.g. `the Wan-VAE decoder (wan-vae)`. */
  what: string;
}): WeightPlan<N> {
  const { opened, schemes, specs, ignore, what } = options;
  const tensors = opened.source.tensors;
  const stored = [...tensors.keys()];
  // Score every (scheme, prefix) by the tensors it explains.
  let best: { scheme: WeightNamingScheme<N>; prefix: string; hits: number } | null = null;
  const scores: { scheme: WeightNamingScheme<N>; prefix: string; hits: number }[] = [];
  for (const scheme of schemes) {
    const known = new Set([...scheme.names.values(), ...(scheme.aliases?.keys() ?? [])]);
    const prefixes = new Map<string, number>();
    for (const name of stored) {
      for (const k of known) {
        if (!name.endsWith(k)) continue;
        const prefix = name.slice(0, name.length - k.length);
        if (prefix === '' || prefix.endsWith('.')) prefixes.set(prefix, (prefixes.get(prefix) ?? 0) + 1);
      }
    }
    for (const [prefix, hits] of prefixes) {
      const score = { scheme, prefix, hits };
      scores.push(score);
      if (best === null || hits > best.hits || (hits === best.hits && prefix.length < best.prefix.length)) best = score;
    }
  }
  const list = schemes.map((s) => s.naming).join(' or ');
  if (best === null) {
    throw new WanNamingError({
      source: opened.path,
      rule: `none of its ${tensors.size} tensor names follow the ${list} naming of ${what} (first: ${JSON.stringify(stored.slice(0, 3))})`,
    });
  }
  const chosen = best;
  const rival = scores.find((s) => s.scheme !== chosen.scheme && s.prefix === chosen.prefix && s.hits > 0);
  if (rival !== undefined) {
    throw new WanNamingError({
      source: opened.path,
      rule: `the names mix the ${chosen.scheme.naming} naming (${chosen.hits} tensors) and the ${rival.scheme.naming} naming (${rival.hits} tensors) of ${what}`,
    });
  }
  const { scheme, prefix } = chosen;
  const present = new Set(stored);
  const found = new Map<string, string>();
  const ignored: string[] = [];
  const expected = new Set(scheme.names.values());
  const unexpected: string[] = [];
  for (const name of stored) {
    const inner = name.startsWith(prefix) ? name.slice(prefix.length) : null;
    if (inner !== null && expected.has(inner)) continue;
    const alias = inner === null ? undefined : scheme.aliases?.get(inner);
    if (alias !== undefined) {
      if (present.has(prefix + alias)) ignored.push(name);
      continue;
    }
    if (ignore(inner ?? name)) ignored.push(name);
    else unexpected.push(name);
  }
  const missing: string[] = [];
  for (const [reference, name] of scheme.names) {
    if (present.has(prefix + name)) {
      found.set(reference, prefix + name);
      continue;
    }
    const alias = [...(scheme.aliases ?? new Map<string, string>())].find(([a, canonical]) => canonical === name && present.has(prefix + a));
    if (alias !== undefined) found.set(reference, prefix + alias[0]);
    else missing.push(prefix + name);
  }
  const naming = prefix === '' ? `${scheme.naming} naming` : `${scheme.naming} naming under ${JSON.stringify(prefix)}`;
  if (missing.length > 0 || unexpected.length > 0) throw new WanTensorSetError({ source: opened.path, what: `${what} (${naming})`, missing, unexpected });
  const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
  const wrong = specs.filter((s) => !same(tensors.get(found.get(s.name) as string)?.shape ?? [], s.shape));
  const first = wrong[0];
  if (first !== undefined) {
    const name = found.get(first.name) as string;
    throw new WanTensorShapeError({
      source: opened.fileOf(name),
      tensor: name,
      expected: first.shape,
      actual: tensors.get(name)?.shape ?? [],
      rule: first.symbolicShape === undefined ? what : `${first.symbolicShape} of ${what}`,
      others: wrong.slice(1).map((s) => found.get(s.name) as string),
    });
  }
  for (const name of found.values()) {
    const info = tensors.get(name);
    if (info !== undefined && !FLOAT_DTYPES.has(info.dtype)) throw new WanTensorDtypeError({ source: opened.fileOf(name), tensor: name, dtype: info.dtype });
  }
  const ordered = new Map<string, string>();
  for (const spec of specs) ordered.set(spec.name, found.get(spec.name) as string);
  return { naming: scheme.naming, prefix, stored: ordered, ignored };
}

/** Runs `body` with the source open, then closes it (a close error is reported only when `body` succeeded). */
export async function withWeightSource<T>(opened: OpenedWeightSource, body: () => Promise<T>): Promise<T> {
  let result: T;
  try {
    result = await body();
  } catch (error) {
    await opened.source.close().catch(() => undefined); // the first error is the one to report
    throw error;
  }
  await opened.source.close();
  return result;
}

/** Reads each planned tensor once, in state-dict order, as float32 (F32 as stored; BF16, F16, ... widened exactly). */
export async function readPlannedWeights(source: TensorSource, stored: ReadonlyMap<string, string>): Promise<Map<string, Float32Array>> {
  const weights = new Map<string, Float32Array>();
  for (const [reference, name] of stored) weights.set(reference, await source.readAsFloat32(name));
  return weights;
}

/** What a loader built on {@link loadWeightFile} returns. */
export interface LoadedWeightFile<C, N extends string> {
  readonly config: C;
  /** Float32 data by reference name, in state-dict order (stored BF16, F16, ... widened exactly). */
  readonly weights: Map<string, Float32Array>;
  readonly naming: N;
  readonly format: WeightFileFormat;
  /** The file or folder read. */
  readonly path: string;
  /** A wrapper prefix stripped from every name (`''` when none; e.g. `state_dict.`). */
  readonly prefix: string;
  /** The stored name of each tensor by reference name. */
  readonly storedNames: ReadonlyMap<string, string>;
  /** Tensors of the file that were not read, as stored. */
  readonly ignored: readonly string[];
  /** The config.json read, or null. */
  readonly configFile: string | null;
}

/**
 * The loaders' common flow: open what `path` points at, take the config (`config`, checked against a config.json
 * when there is one; else the config.json's; else `fallback`), plan the tensors (naming, set, shapes, dtypes; no data
 * read), then read each planned tensor once as float32, closing the source whatever happens.
 */
export async function loadWeightFile<C, N extends string>(options: {
  path: string;
  config?: C;
  /** The diffusers subfolder (`vae`, `text_encoder`) and the original `.pth` file names to look for. */
  subfolder: string;
  pthNames: readonly string[];
  /** A config.json as a config (throws WanConfigError on what the model does not implement). */
  configFromJson: (json: Record<string, unknown>, file: string) => C;
  /** Throws WanConfigMismatchError when the config passed in and the config.json's disagree. */
  checkConfig: (given: C, read: C, file: string) => void;
  fallback: C;
  specs: (config: C) => readonly WeightSpec[];
  schemes: (config: C, specs: readonly WeightSpec[]) => readonly WeightNamingScheme<N>[];
  ignore: (name: string) => boolean;
  /** The model for messages, e.g. `the Wan-VAE decoder (wan-vae)`. */
  describe: (config: C) => string;
}): Promise<LoadedWeightFile<C, N>> {
  const opened = await openWeightSource({ path: options.path, subfolder: options.subfolder, pthNames: options.pthNames });
  return withWeightSource(opened, async () => {
    const json = await readConfigJson(opened.configDirectory);
    let config: C;
    if (json !== null) {
      const read = options.configFromJson(json.json, json.file);
      if (options.config !== undefined) options.checkConfig(options.config, read, json.file);
      config = options.config ?? read;
    } else {
      config = options.config ?? options.fallback;
    }
    const specs = options.specs(config);
    const plan = planWeights<N>({ opened, schemes: options.schemes(config, specs), specs, ignore: options.ignore, what: options.describe(config) });
    const weights = await readPlannedWeights(opened.source, plan.stored);
    return {
      config,
      weights,
      naming: plan.naming,
      format: opened.format,
      path: opened.path,
      prefix: plan.prefix,
      storedNames: plan.stored,
      ignored: plan.ignored,
      configFile: json?.file ?? null,
    };
  });
}
