import { InvalidArgumentError } from '@fpsattn/fp8';
import type { Tensor } from './tensor';

/**
 * A validated row index map for gatherRows/scatterRows: `map[i]` is a source row (gather) or a destination row
 * (scatter), or -1 for a padding row. Created by `createRowMap`, which checks every entry once so that the
 * kernels never see an out-of-range index.
 */
export interface RowMap extends Disposable {
  readonly kind: 'row-map';
  readonly length: number;
  /** Rows of the tensor the indices point into (gather: source rows; scatter: destination rows). */
  readonly targetRows: number;
  /** No index appears twice (required for scatter). */
  readonly injective: boolean;
  readonly paddingRows: number;
  readonly tensor: Tensor<'i32'>;
  dispose(): void;
}

/**
 * A validated row -> group map for Q/K quantization. `contiguous` is true when each group is one run of consecutive
 * rows in ascending group order (tiles after the tile-major gather, per-token, per-tensor): the CUDA backend then uses
 * the fused one-pass kernel, and `groupStart` holds the runs.
 */
export interface GroupMap extends Disposable {
  readonly kind: 'group-map';
  readonly rows: number;
  readonly groupCount: number;
  readonly contiguous: boolean;
  readonly maxGroupRows: number;
  readonly groupOfRow: Tensor<'i32'>;
  readonly groupStart: Tensor<'i32'> | null;
  dispose(): void;
}

// The validated host copy of each map's indices, private to the backends: maps are frozen and their indices are not
// exposed, so what a kernel (or CPU twin) reads is always what createRowMap/createGroupMap checked. Presence in this
// WeakMap is also how a backend recognises a map it (or its twin) made, as opposed to a look-alike object.
const validatedIndices = new WeakMap<RowMap | GroupMap, Int32Array>();

/** @internal Records a map's validated indices and freezes the map. */
export function sealMap<M extends RowMap | GroupMap>(map: M, indices: Int32Array): M {
  validatedIndices.set(map, indices);
  return Object.freeze(map);
}

/** @internal The validated indices of a map made by a backend, or undefined for anything else. */
export function mapIndices(map: RowMap | GroupMap): Int32Array | undefined {
  return validatedIndices.get(map);
}

export interface RowMapAnalysis {
  injective: boolean;
  paddingRows: number;
}

export function analyzeRowMap(map: Int32Array, targetRows: number, name: string): RowMapAnalysis {
  if (!(map instanceof Int32Array)) {
    throw new InvalidArgumentError({ argument: name, value: map, message: 'expected an Int32Array of row indices' });
  }
  if (!Number.isSafeInteger(targetRows) || targetRows < 0) {
    throw new InvalidArgumentError({ argument: 'targetRows', value: targetRows, message: 'expected a row count >= 0' });
  }
  const seen = new Uint8Array(targetRows);
  let injective = true;
  let paddingRows = 0;
  for (let i = 0; i < map.length; i++) {
    const v = map[i] as number;
    if (v === -1) {
      paddingRows++;
      continue;
    }
    if (v < 0 || v >= targetRows) {
      throw new InvalidArgumentError({
        argument: name,
        value: v,
        message: `entry ${i} is ${v}: expected -1 (padding) or a row in 0..${targetRows - 1}`,
      });
    }
    if (seen[v]) injective = false;
    seen[v] = 1;
  }
  return { injective, paddingRows };
}

export interface GroupMapAnalysis {
  groupCount: number;
  contiguous: boolean;
  maxGroupRows: number;
  groupStart: Int32Array | null;
}

export function analyzeGroupMap(groupOfRow: Int32Array, groupCount: number | undefined, name: string): GroupMapAnalysis {
  if (!(groupOfRow instanceof Int32Array)) {
    throw new InvalidArgumentError({ argument: name, value: groupOfRow, message: 'expected an Int32Array (group of each row)' });
  }
  let maxG = -1;
  for (let r = 0; r < groupOfRow.length; r++) {
    const g = groupOfRow[r] as number;
    if (g < 0) throw new InvalidArgumentError({ argument: name, value: g, message: `row ${r} maps to group ${g}; groups are >= 0` });
    if (g > maxG) maxG = g;
  }
  const count = groupCount ?? maxG + 1;
  if (!Number.isSafeInteger(count) || count < 1 || count > 2 ** 31 - 1) {
    throw new InvalidArgumentError({ argument: 'groupCount', value: count, message: 'expected an integer in 1..2^31-1' });
  }
  if (maxG >= count) {
    const r = groupOfRow.findIndex((g) => g >= count);
    throw new InvalidArgumentError({ argument: name, value: maxG, message: `row ${r} maps to group ${groupOfRow[r]}, outside 0..${count - 1}` });
  }
  const counts = new Int32Array(count);
  let contiguous = true;
  for (let r = 0; r < groupOfRow.length; r++) {
    const g = groupOfRow[r] as number;
    counts[g] = (counts[g] as number) + 1;
    if (r > 0 && g < (groupOfRow[r - 1] as number)) contiguous = false;
  }
  let maxGroupRows = 0;
  for (let g = 0; g < count; g++) maxGroupRows = Math.max(maxGroupRows, counts[g] as number);
  let groupStart: Int32Array | null = null;
  if (contiguous) {
    groupStart = new Int32Array(count + 1);
    for (let g = 0; g < count; g++) groupStart[g + 1] = (groupStart[g] as number) + (counts[g] as number);
  }
  return { groupCount: count, contiguous, maxGroupRows, groupStart };
}
