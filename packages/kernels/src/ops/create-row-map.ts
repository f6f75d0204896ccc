import type { Backend } from '../core/backend';
import { getBackend } from '../core/loader';
import { type RowMap, analyzeRowMap, sealMap } from '../core/maps';

export interface CreateRowMapOptions {
  /** `indices[i]`: a row of the tensor the map points into (gather: source, scatter: destination), or -1 for padding. */
  indices: Int32Array;
  /** Rows of that tensor; every index is checked against it once, here. */
  targetRows: number;
  /** Where the map's index tensor lives (default: `getBackend()`). */
  backend?: Backend;
  name?: string;
}

/** A validated row map for gatherRows/scatterRows, uploaded to the backend (a copy: later changes to `indices` do not
 * reach it). Dispose it (or `using`) to free its tensor. */
export function createRowMap(options: CreateRowMapOptions): RowMap {
  const name = options.name ?? 'rowMap';
  const analysis = analyzeRowMap(options.indices, options.targetRows, name);
  const backend = options.backend ?? getBackend();
  const host = options.indices.slice();
  const tensor = backend.fromArray(host, [host.length], 'i32', { name });
  const dispose = () => tensor.dispose();
  return sealMap(
    {
      kind: 'row-map',
      length: host.length,
      targetRows: options.targetRows,
      injective: analysis.injective,
      paddingRows: analysis.paddingRows,
      tensor,
      dispose,
      [Symbol.dispose]: dispose,
    },
    host,
  );
}
