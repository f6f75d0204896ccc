import { InvalidArgumentError } from '@fpsattn/fp8';
import { dims3Of, readSize3 } from './size3';
import type { GridDims, Size3 } from './types';

/** A validated token grid; `numTokens = frames * height * width`. */
export interface TokenGrid extends GridDims {
  readonly numTokens: number;
}

/** Wan2.1 DiT token grid for 832x480, 81 frames (32,760 tokens). */
export const WAN_480P_GRID: TokenGrid = Object.freeze({ frames: 21, height: 30, width: 52, numTokens: 32_760 });
/** Wan2.1 DiT token grid for 1280x720, 81 frames (75,600 tokens). */
export const WAN_720P_GRID: TokenGrid = Object.freeze({ frames: 21, height: 45, width: 80, numTokens: 75_600 });

/**
 * Validates grid sizes (positive integers, `{ frames, height, width }` or `[T, H, W]`) and returns a frozen
 * {@link TokenGrid}.
 *
 * @example createTokenGrid({ frames: 21, height: 45, width: 80 }).numTokens // 75600
 * @example createTokenGrid([21, 45, 80]).numTokens // 75600
 */
export function createTokenGrid(grid: Size3): TokenGrid {
  const [frames, height, width] = readSize3('grid', grid);
  const numTokens = frames * height * width;
  if (numTokens > 0x7fffffff) {
    throw new InvalidArgumentError({
      argument: 'grid',
      value: grid,
      message: `${numTokens} tokens do not fit the Int32 index arrays (max 2^31-1)`,
    });
  }
  return Object.freeze({ frames, height, width, numTokens });
}

/**
 * Raster index of the token at `coords = [t, h, w]`: `(t * height + h) * width + w`. No bounds check.
 *
 * @example tokenIndex({ grid: [2, 4, 5], coords: [1, 0, 0] }) // 20
 */
export function tokenIndex(options: { grid: Size3; coords: readonly [t: number, h: number, w: number] }): number {
  const [, height, width] = dims3Of(options.grid);
  const [t, h, w] = options.coords;
  return (t * height + h) * width + w;
}

/** Inverse of {@link tokenIndex}: the [t, h, w] coordinates of raster index `token`. No bounds check. */
export function tokenCoords(options: { grid: Size3; token: number }): [number, number, number] {
  const [, height, width] = dims3Of(options.grid);
  const index = options.token;
  const w = index % width;
  const rest = (index - w) / width;
  const h = rest % height;
  return [(rest - h) / height, h, w];
}
