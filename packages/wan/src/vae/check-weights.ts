import { shapeSize } from '../model/_shape-size';
import { WanTensorSetError, WanTensorShapeError } from '../model/errors';
import { type WanVaeConfig, WAN_VAE_CONFIG_PRESETS } from './config';
import { type WanVaeTensorSpec, wanVaeTensorSpecs } from './keys';

/**
 * The Wan-VAE decoder's weights on the host: flat float32 data, row-major, keyed by the reference's state-dict names
 * (`conv2.*`, `decoder.*`; keys.ts).
 */
export type WanVaeWeights = ReadonlyMap<string, Float32Array>;

/** The encoder half of a whole `WanVAE_` state dict (`encoder.*`, `conv1.*`): present in `Wan2.1_VAE.pth`, not used. */
export function isWanVaeEncoderTensor(name: string): boolean {
  return name.startsWith('encoder.') || name.startsWith('conv1.');
}

function describe(config: WanVaeConfig): string {
  for (const [name, preset] of Object.entries(WAN_VAE_CONFIG_PRESETS)) {
    if (JSON.stringify(preset) === JSON.stringify(config)) return `the Wan-VAE decoder (${name})`;
  }
  return `the Wan-VAE decoder (dim ${config.dim})`;
}

function checkSet(specs: readonly WanVaeTensorSpec[], names: Iterable<string>, has: (name: string) => boolean, source: string, config: WanVaeConfig): void {
  const expected = new Set(specs.map((s) => s.name));
  const missing = specs.filter((s) => !has(s.name)).map((s) => s.name);
  const unexpected = [...names].filter((name) => !expected.has(name) && !isWanVaeEncoderTensor(name));
  if (missing.length > 0 || unexpected.length > 0) throw new WanTensorSetError({ source, what: describe(config), missing, unexpected });
}

/**
 * Checks that `weights` holds every decoder tensor of `config` as a Float32Array of the right element count, and
 * nothing else apart from the encoder's tensors ({@link isWanVaeEncoderTensor}, ignored). Throws
 * {@link WanTensorSetError} (all missing and unexpected names) or {@link WanTensorShapeError} (the first wrong tensor,
 * the others counted).
 */
export function checkWanVaeWeights(options: { config: WanVaeConfig; weights: WanVaeWeights; source?: string }): void {
  const { config, weights } = options;
  const source = options.source ?? 'weights';
  const specs = wanVaeTensorSpecs(config);
  checkSet(specs, weights.keys(), (name) => weights.has(name), source, config);
  const wrong = specs.filter((s) => {
    const data = weights.get(s.name);
    return !(data instanceof Float32Array) || data.length !== shapeSize(s.shape);
  });
  const first = wrong[0];
  if (first !== undefined) {
    const data = weights.get(first.name);
    throw new WanTensorShapeError({
      source,
      tensor: first.name,
      expected: first.shape,
      actual: [data instanceof Float32Array ? data.length : Number.NaN],
      rule: `a Float32Array of ${shapeSize(first.shape)} values for ${describe(config)}`,
      others: wrong.slice(1).map((s) => s.name),
    });
  }
}

/**
 * The same check on a checkpoint's declared shapes (name -> shape), before any data is read: the set as
 * {@link checkWanVaeWeights}, then every shape exactly.
 */
export function checkWanVaeTensorShapes(options: { config: WanVaeConfig; shapes: ReadonlyMap<string, readonly number[]>; source?: string }): void {
  const { config, shapes } = options;
  const source = options.source ?? 'checkpoint';
  const specs = wanVaeTensorSpecs(config);
  checkSet(specs, shapes.keys(), (name) => shapes.has(name), source, config);
  const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((v, i) => v === b[i]);
  const wrong = specs.filter((s) => !same(shapes.get(s.name) ?? [], s.shape));
  const first = wrong[0];
  if (first !== undefined) {
    throw new WanTensorShapeError({
      source,
      tensor: first.name,
      expected: first.shape,
      actual: shapes.get(first.name) ?? [],
      rule: describe(config),
      others: wrong.slice(1).map((s) => s.name),
    });
  }
}
