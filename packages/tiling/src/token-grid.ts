import { InvalidArgumentError } from '@fpsattn/fp8';
import { assertPositiveInt, describe } from './_validate';
import type { GridDims } from './types';

/** A validated token grid; `numTokens = frames * height * width`. */
export interface TokenGrid extends GridDims {
  readonly numTokens: number;
}

/** Wan2.1 DiT token grid for 832x480, 81 frames (32,760 tokens). */
export const WAN_480P_GRID: TokenGrid = Object.freeze({ frames: 21, height: 30, width: 52, numTokens: 32_760 });
/** Wan2.1 DiT token grid for 1280x720, 81 frames (75,600 tokens). */
export const WAN_720P_GRID: TokenGrid = Object.freeze({ frames: 21, height: 45, width: 80, numTokens: 75_600 });

/**
 * Validates grid sizes (positive integers) and returns a frozen {@link TokenGrid}.
 *
 * @example createTokenGrid({ frames: 21, height: 45, width: 80 }).numTokens // 75600
 */
export function createTokenGrid(dims: GridDims): TokenGrid {
  if (typeof dims !== 'object' || dims === null) {
    throw new InvalidArgumentError({ argument: 'grid', value: dims, message: `expected { frames, height, width }, got ${describe(dims)}` });
  }
  assertPositiveInt('grid.frames', dims.frames);
  assertPositiveInt('grid.height', dims.height);
  assertPositiveInt('grid.width', dims.width);
  const numTokens = dims.frames * dims.height * dims.width;
  if (!Number.isSafeInteger(numTokens) || numTokens > 0x7fffffff) {
    throw new InvalidArgumentError({
      argument: 'grid',
      value: dims,
      message: `${numTokens} tokens do not fit the Int32 index arrays (max 2^31-1)`,
    });
  }
  return Object.freeze({ frames: dims.frames, height: dims.height, width: dims.width, numTokens });
}

/** Raster index of token (t, h, w): `(t * height + h) * width + w`. No bounds check. */
export function tokenIndex(grid: GridDims, t: number, h: number, w: number): number {
  return (t * grid.height + h) * grid.width + w;
}

/** Inverse of {@link tokenIndex}: the [t, h, w] coordinates of a raster index. No bounds check. */
export function tokenCoords(grid: GridDims, index: number): [number, number, number] {
  const w = index % grid.width;
  const rest = (index - w) / grid.width;
  const h = rest % grid.height;
  return [(rest - h) / grid.height, h, w];
}
