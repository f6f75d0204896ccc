import { stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type Checkpoint, openCheckpoint } from '../safetensors/sharded';
import { type CheckedWanTensors, checkWanTensors } from './check-keys';
import { type WanConfig, validateWanConfig } from './config';
import { type WanConfigNaming, checkWanConfig, readWanConfig } from './config-json';
import { WanConfigError, WanTensorDtypeError } from './errors';
import type { WanNaming } from './key-naming';
import type { WanWeights } from './types';

/** Dtypes a weight may be stored in; each is widened or rounded to float32 as torch's `.float()` does. */
const FLOAT_DTYPES = new Set(['F64', 'F32', 'F16', 'BF16', 'F8_E4M3', 'F8_E5M2']);

export interface LoadedWanWeights {
  readonly config: WanConfig;
  /** Float32 data by original name (3.2), in state-dict order. */
  readonly weights: WanWeights;
  /** The naming scheme of the checkpoint's tensor names. */
  readonly naming: WanNaming;
  /** The config.json read, or null when the config was passed in and none lies next to the checkpoint. */
  readonly configFile: string | null;
  readonly configNaming: WanConfigNaming | null;
}

/** The directory a config.json would be in: the path itself when it is a directory, else the file's directory. */
async function configDirectory(path: string): Promise<string> {
  const isDirectory = await stat(path).then((s) => s.isDirectory(), () => false);
  return isDirectory ? path : dirname(path);
}

async function resolveConfig(options: { path: string; config?: WanConfig }): Promise<{ config: WanConfig; file: string | null; naming: WanConfigNaming | null }> {
  const directory = await configDirectory(options.path);
  if (options.config === undefined) {
    const read = await readWanConfig({ path: directory });
    return { config: read.config, file: read.file, naming: read.naming };
  }
  const config = validateWanConfig({ config: options.config });
  let read: Awaited<ReturnType<typeof readWanConfig>>;
  try {
    read = await readWanConfig({ path: directory });
  } catch (error) {
    // No config.json next to the checkpoint (a ComfyUI single file): the config passed in is all there is.
    if (error instanceof WanConfigError && error.source === directory) return { config, file: null, naming: null };
    throw error;
  }
  checkWanConfig({ expected: config, actual: read.config, source: read.file, expectedName: 'the config passed in' });
  return { config, file: read.file, naming: read.naming };
}

/** A checkpoint checked against its config, before any tensor data is read (see {@link prepareWanCheckpoint}). */
export interface PreparedWanCheckpoint {
  readonly config: WanConfig;
  /** The naming, and the checkpoint's name of each tensor by original name, in state-dict order. */
  readonly checked: CheckedWanTensors;
  readonly configFile: string | null;
  readonly configNaming: WanConfigNaming | null;
}

/**
 * What {@link loadWanWeights} and `WanDeviceWeights.fromCheckpoint` do before reading any data: the config (`config`
 * when given, checked against a config.json next to `path` if there is one; else that config.json), every tensor name
 * and shape against it (check-keys.ts), and every dtype a float. Each failure is an error naming the file and tensor.
 */
export async function prepareWanCheckpoint(options: { checkpoint: Checkpoint; path: string; config?: WanConfig }): Promise<PreparedWanCheckpoint> {
  const { checkpoint, path } = options;
  const resolved = await resolveConfig({ path, config: options.config });
  const checked: CheckedWanTensors = checkWanTensors({ config: resolved.config, tensors: checkpoint.tensors, source: path });
  for (const stored of checked.names.values()) {
    const info = checkpoint.tensors.get(stored);
    if (info !== undefined && !FLOAT_DTYPES.has(info.dtype)) throw new WanTensorDtypeError({ source: info.file, tensor: stored, dtype: info.dtype });
  }
  return { config: resolved.config, checked, configFile: resolved.file, configNaming: resolved.naming };
}

/**
 * Loads a DiT checkpoint into float32 host weights keyed by the original names. `path` is a `.safetensors` file, a
 * `*.safetensors.index.json`, or a directory holding one of them (safetensors/sharded.ts); the names may follow any
 * scheme (key-naming.ts). The config is `config` when given (then a config.json next to the checkpoint, if any, must
 * agree with it), else the config.json next to the checkpoint.
 *
 * Before any tensor data is read, every name and shape is checked against the config (check-keys.ts) and every dtype
 * must be a float ({@link prepareWanCheckpoint}); each failure is an error naming the file and the tensor. Then each
 * tensor is read once and converted to float32 (F32 data is used as read).
 */
export async function loadWanWeights(options: { path: string; config?: WanConfig }): Promise<LoadedWanWeights> {
  const { path } = options;
  await using checkpoint = await openCheckpoint(path);
  const { config, checked, configFile, configNaming } = await prepareWanCheckpoint({ checkpoint, path, config: options.config });
  const weights = new Map<string, Float32Array>();
  for (const [original, stored] of checked.names) weights.set(original, await checkpoint.readAsFloat32(stored));
  return { config, weights, naming: checked.naming, configFile, configNaming };
}
