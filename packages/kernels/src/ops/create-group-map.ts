import type { Backend } from '../core/backend';
import { getBackend } from '../core/loader';
import { type GroupMap, analyzeGroupMap, sealMap } from '../core/maps';
import type { Tensor } from '../core/tensor';

export interface CreateGroupMapOptions {
  /** The quantization group of each row (one scale per (group, head)): e.g. the tile of each tile-major row. */
  groupOfRow: Int32Array;
  /** Number of groups (default: the largest group + 1); groups without rows get the scale of an all-zero group. */
  groupCount?: number;
  /** Where the map's tensors live (default: `getBackend()`). */
  backend?: Backend;
  name?: string;
}

/** A validated group map for quantizeRows/dequantizeRows, uploaded to the backend (a copy). Contiguous maps (each group
 * one run of rows, in order) also carry the runs' starts, for the fused CUDA kernel. */
export function createGroupMap(options: CreateGroupMapOptions): GroupMap {
  const name = options.name ?? 'groupOfRow';
  const analysis = analyzeGroupMap(options.groupOfRow, options.groupCount, name);
  const backend = options.backend ?? getBackend();
  const host = options.groupOfRow.slice();
  const groupOfRow = backend.fromArray(host, [host.length], 'i32', { name });
  let groupStart: Tensor<'i32'> | null = null;
  try {
    if (analysis.groupStart) groupStart = backend.fromArray(analysis.groupStart, [analysis.groupStart.length], 'i32', { name: `${name}.groupStart` });
  } catch (e) {
    groupOfRow.dispose();
    throw e;
  }
  const dispose = () => {
    groupOfRow.dispose();
    groupStart?.dispose();
  };
  return sealMap(
    {
      kind: 'group-map',
      rows: host.length,
      groupCount: analysis.groupCount,
      contiguous: analysis.contiguous,
      maxGroupRows: analysis.maxGroupRows,
      groupOfRow,
      groupStart,
      dispose,
      [Symbol.dispose]: dispose,
    },
    host,
  );
}
