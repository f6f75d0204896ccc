import { shapeSize } from './_shape-size';
import { type WanConfig, describeWanConfig } from './config';
import { WanTensorSetError, WanTensorShapeError } from './errors';
import { type WanNaming, detectWanNaming, wanNameFromOriginal, wanNameToOriginal } from './key-naming';
import { type WanTensorSpec, wanTensorSpecs } from './keys';
import type { WanWeights } from './types';

/** What a checkpoint header says of one tensor. */
export interface WanTensorShapeInfo {
  readonly shape: readonly number[];
  /** The file holding it (a shard of a sharded checkpoint); messages name it. */
  readonly file?: string;
}

export interface CheckedWanTensors {
  readonly naming: WanNaming;
  /** The checkpoint's name of each tensor, by original name, in state-dict order (keys.ts). */
  readonly names: ReadonlyMap<string, string>;
  readonly specs: readonly WanTensorSpec[];
}

/**
 * Checks a checkpoint's tensors (names and shapes, as its headers give them) against `config` before any data is
 * read: the naming scheme is detected (or taken from `naming`), every name mapped to its original name (key-naming.ts),
 * and then
 *   - tensors missing or unexpected: one {@link WanTensorSetError} with both lists, named as the checkpoint spells
 *     (or would spell) them;
 *   - shapes: a {@link WanTensorShapeError} naming the first wrong tensor (and its file), the expected and actual shape
 *     and the rule (`[dim, dim] of wan-tiny`), then the count and names of the other wrong ones.
 */
export function checkWanTensors(options: {
  config: WanConfig;
  tensors: ReadonlyMap<string, WanTensorShapeInfo>;
  source: string;
  naming?: WanNaming;
}): CheckedWanTensors {
  const { config, tensors, source } = options;
  const naming = options.naming ?? detectWanNaming({ names: tensors.keys(), source }).naming;
  const what = `${describeWanConfig(config)} (${naming} naming)`;
  const specs = wanTensorSpecs(config);
  const expected = new Map(specs.map((s) => [s.name, s]));
  const names = new Map<string, string>();
  const unexpected: string[] = [];
  for (const name of tensors.keys()) {
    const original = wanNameToOriginal({ name, naming });
    if (original === null || !expected.has(original)) unexpected.push(name);
    else names.set(original, name);
  }
  const missing = specs.filter((s) => !names.has(s.name)).map((s) => wanNameFromOriginal({ name: s.name, naming }) ?? s.name);
  if (missing.length > 0 || unexpected.length > 0) throw new WanTensorSetError({ source, what, missing, unexpected });

  const wrong = specs.filter((s) => {
    const actual = (tensors.get(names.get(s.name) as string) as WanTensorShapeInfo).shape;
    return actual.length !== s.shape.length || actual.some((d, i) => d !== s.shape[i]);
  });
  const first = wrong[0];
  if (first !== undefined) {
    const name = names.get(first.name) as string;
    const info = tensors.get(name) as WanTensorShapeInfo;
    throw new WanTensorShapeError({
      source: info.file ?? source,
      tensor: name,
      expected: first.shape,
      actual: info.shape,
      rule: `${first.symbolicShape} of ${describeWanConfig(config)}`,
      others: wrong.slice(1).map((s) => names.get(s.name) as string),
    });
  }
  const ordered = new Map(specs.map((s) => [s.name, names.get(s.name) as string]));
  return { naming, names: ordered, specs };
}

/**
 * Checks in-memory weights (original names, flat float32 data) against `config`: the same tensor set as a checkpoint,
 * and each array's length equal to its shape's element count. Errors name `source` (default `weights`).
 */
export function checkWanWeights(options: { config: WanConfig; weights: WanWeights; source?: string }): void {
  const { config, weights } = options;
  const source = options.source ?? 'weights';
  const specs = wanTensorSpecs(config);
  const expected = new Set(specs.map((s) => s.name));
  const missing = specs.filter((s) => !weights.has(s.name)).map((s) => s.name);
  const unexpected = [...weights.keys()].filter((name) => !expected.has(name));
  if (missing.length > 0 || unexpected.length > 0) {
    throw new WanTensorSetError({ source, what: `${describeWanConfig(config)} (original naming)`, missing, unexpected });
  }
  const wrong = specs.filter((s) => {
    const data = weights.get(s.name);
    return !(data instanceof Float32Array) || data.length !== shapeSize(s.shape);
  });
  const first = wrong[0];
  if (first !== undefined) {
    const data = weights.get(first.name);
    const length = data instanceof Float32Array ? data.length : Number.NaN;
    throw new WanTensorShapeError({
      source,
      tensor: first.name,
      expected: first.shape,
      actual: [length],
      rule: `a Float32Array of ${shapeSize(first.shape)} values, ${first.symbolicShape} of ${describeWanConfig(config)}`,
      others: wrong.slice(1).map((s) => s.name),
    });
  }
}
