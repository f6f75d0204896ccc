// ----- Geometry -----

/** Three sizes or coordinates in the order (t, h, w): frames, height, width. */
export type Dims3 = readonly [t: number, h: number, w: number];

/** Size of a video token grid. Tokens are stored in Wan's raster order: w fastest, then h, then t. */
export interface GridDims {
  readonly frames: number;
  readonly height: number;
  readonly width: number;
}

/**
 * A 3D size in either shape: `[t, h, w]` or `{ frames, height, width }`. Every public function that takes a grid, a
 * tile or a window size accepts both; `toDims3` and `toGridDims` turn one into the other.
 */
export type Size3 = Dims3 | GridDims;

// ----- Typed arrays -----

/** The typed arrays the row helpers accept (bf16 travels as Uint16Array, fp8 as Uint8Array). */
export type NumericTypedArray =
  | Int8Array
  | Uint8Array
  | Uint8ClampedArray
  | Int16Array
  | Uint16Array
  | Int32Array
  | Uint32Array
  | Float32Array
  | Float64Array;
