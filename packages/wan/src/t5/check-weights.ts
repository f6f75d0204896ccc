import { shapeSize } from '../model/_shape-size';
import { WanTensorSetError, WanTensorShapeError } from '../model/errors';
import { type Umt5Config, describeUmt5Config } from './config';
import { umt5TensorSpecs } from './keys';
import type { Umt5Weights } from './types';

/**
 * Checks in-memory encoder weights against `config`: exactly the tensors of keys.ts (else one
 * {@link WanTensorSetError} listing the missing and the unexpected names), each a Float32Array of its shape's element
 * count (else a {@link WanTensorShapeError} naming the first wrong tensor, its expected shape and the others).
 * Errors name `source` (default `umT5 weights`).
 */
export function checkUmt5Weights(options: { config: Umt5Config; weights: Umt5Weights; source?: string }): void {
  const { config, weights } = options;
  const source = options.source ?? 'umT5 weights';
  const specs = umt5TensorSpecs(config);
  const expected = new Set(specs.map((s) => s.name));
  const missing = specs.filter((s) => !weights.has(s.name)).map((s) => s.name);
  const unexpected = [...weights.keys()].filter((name) => !expected.has(name));
  if (missing.length > 0 || unexpected.length > 0) {
    throw new WanTensorSetError({ source, what: `${describeUmt5Config(config)} (Wan T5Encoder naming)`, missing, unexpected });
  }
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
      rule: `a Float32Array of ${shapeSize(first.shape)} values, ${first.symbolicShape} of ${describeUmt5Config(config)}`,
      others: wrong.slice(1).map((s) => s.name),
    });
  }
}
