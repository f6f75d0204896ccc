import { InvalidArgumentError } from '@fpsattn/fp8';
import { assertPositiveInt, describe } from './_validate';
import type { Dims3, GridDims, Size3 } from './types';

const AXIS_NAMES = ['frames', 'height', 'width'] as const;

/**
 * Reads a 3D size given as `[t, h, w]` or `{ frames, height, width }` and checks its three values are positive
 * integers; errors name the field (`tile[2]`, `grid.height`). Private: the public forms are {@link toDims3} and
 * {@link toGridDims}.
 */
export function readSize3(argument: string, value: unknown): [number, number, number] {
  if (Array.isArray(value)) {
    if (value.length !== 3) {
      throw new InvalidArgumentError({
        argument,
        value,
        message: `expected [t, h, w] or { frames, height, width } with three positive integers, got ${describe(value)}`,
      });
    }
    for (let axis = 0; axis < 3; axis++) assertPositiveInt(`${argument}[${axis}]`, value[axis]);
    return [value[0], value[1], value[2]];
  }
  if (typeof value !== 'object' || value === null) {
    throw new InvalidArgumentError({
      argument,
      value,
      message: `expected [t, h, w] or { frames, height, width } with three positive integers, got ${describe(value)}`,
    });
  }
  const o = value as Record<string, unknown>;
  for (const name of AXIS_NAMES) assertPositiveInt(`${argument}.${name}`, o[name]);
  return [o.frames as number, o.height as number, o.width as number];
}

/**
 * A 3D size as a frozen `[t, h, w]` tuple, from `[t, h, w]` or `{ frames, height, width }`. Throws an
 * InvalidArgumentError (argument `size`) unless the three values are positive integers.
 *
 * @example toDims3({ frames: 3, height: 5, width: 8 }) // [3, 5, 8]
 */
export function toDims3(size: Size3): Dims3 {
  return Object.freeze(readSize3('size', size)) as Dims3;
}

/**
 * A 3D size as a frozen `{ frames, height, width }`, from `{ frames, height, width }` or `[t, h, w]`. Throws an
 * InvalidArgumentError (argument `size`) unless the three values are positive integers.
 *
 * @example toGridDims([21, 45, 80]) // { frames: 21, height: 45, width: 80 }
 */
export function toGridDims(size: Size3): GridDims {
  const [frames, height, width] = readSize3('size', size);
  return Object.freeze({ frames, height, width });
}

/** Unchecked `[t, h, w]` of a size (for the no-bounds-check index helpers). Private. */
export function dims3Of(size: Size3): Dims3 {
  return Array.isArray(size) ? (size as Dims3) : [(size as GridDims).frames, (size as GridDims).height, (size as GridDims).width];
}
