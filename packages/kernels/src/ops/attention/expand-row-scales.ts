// expandRowScales: the Q/K scales of quantizeRows (one per (group, head), per batch item) spread to one per (batch,
// head, row), the layout the attention kernel reads (qScale / kScale [B, H, Npad]). Native op expandRowScales, kernel
// native/src/kernels/expand_row_scales.cu. A pure copy: bit-exact.
import { ShapeMismatchError } from '@fpsattn/fp8';
import { defineOp } from '../../core/define-op';
import { type GroupMap, mapIndices } from '../../core/maps';
import { defineNativeOp } from '../../core/native-op';
import type { Tensor } from '../../core/tensor';
import { hostView } from '../../cpu/host-storage';
import { backendOf, expectDType, expectMap, expectOut, withOutputs } from '../_checks';

export const EXPAND_ROW_SCALES = defineNativeOp({
  name: 'expandRowScales',
  fields: {
    /** f32 [batch * groupCount, heads]. */
    scales: 'tensor',
    /** i32 [rows]. */
    groupOfRow: 'tensor',
    /** f32 [batch, heads, rows]. */
    out: 'tensor',
    batch: 'int',
    heads: 'int',
    rows: 'int',
    groupCount: 'int',
  },
  result: null,
});

export interface ExpandRowScalesOptions {
  /**
   * float32 [batch * groupCount, heads]: the scales of batch item b are rows `b * groupCount ..` (quantizeRows called
   * per batch item with `out.scales` slices of one table).
   */
  scales: Tensor<'f32'>;
  /** The group of each row of one batch item (the map quantizeRows used). */
  groups: GroupMap;
  out?: Tensor<'f32'> | undefined;
  name?: string;
}

// ------------------------------------------------------------------------------------------------- CPU twin
/** out[(b * heads + h) * rows + r] = scales[(b * groupCount + groupOfRow[r]) * heads + h]. */
export function expandRowScalesCpu(o: {
  scales: Float32Array;
  groupOfRow: Int32Array;
  batch: number;
  heads: number;
  groupCount: number;
  out?: Float32Array;
}): Float32Array {
  const { scales, groupOfRow, batch, heads, groupCount } = o;
  const rows = groupOfRow.length;
  const out = o.out ?? new Float32Array(batch * heads * rows);
  for (let b = 0; b < batch; b++) {
    for (let h = 0; h < heads; h++) {
      const base = (b * heads + h) * rows;
      for (let r = 0; r < rows; r++) out[base + r] = scales[(b * groupCount + (groupOfRow[r] as number)) * heads + h] as number;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------- the op
/** float32 [batch * groupCount, heads] scales -> float32 [batch, heads, rows] with out[b, h, r] = scale of r's group. */
export const expandRowScales = defineOp(
  { name: 'expandRowScales', exactness: 'bit-exact', native: EXPAND_ROW_SCALES },
  function expandRowScales(o: ExpandRowScalesOptions): Tensor<'f32'> {
    const op = 'expandRowScales';
    const be = backendOf(o.scales, 'scales', op);
    const { scales, groups } = o;
    expectDType(scales, 'scales', ['f32']);
    expectMap(groups, 'group-map', 'groups', be, op);
    const [tableRows, heads] = scales.shape;
    if (scales.shape.length !== 2 || tableRows === undefined || heads === undefined || heads < 1 || tableRows === 0 || tableRows % groups.groupCount !== 0) {
      throw new ShapeMismatchError({
        tensor: 'scales',
        expected: `[batch * ${groups.groupCount} (the map's groupCount), heads], batch and heads >= 1`,
        actual: `[${scales.shape.join(', ')}]`,
        hint: `'${scales.name}'`,
      });
    }
    const batch = tableRows / groups.groupCount;
    const rows = groups.rows;
    const shape = [batch, heads, rows];
    if (o.out !== undefined) expectOut(o.out, 'out', 'f32', shape, be, op, [scales]);
    return withOutputs(be, (outputs) => {
      const out = o.out ?? outputs.empty(shape, 'f32', o.name ?? `${scales.name}.perRow`);
      be.dispatch(op, {
        cpu: () => {
          expandRowScalesCpu({ scales: hostView(scales), groupOfRow: mapIndices(groups) as Int32Array, batch, heads, groupCount: groups.groupCount, out: hostView(out) });
        },
        cuda: (device) =>
          device.call(EXPAND_ROW_SCALES, {
            scales: device.ref(scales),
            groupOfRow: device.ref(groups.groupOfRow),
            out: device.ref(out),
            batch,
            heads,
            rows,
            groupCount: groups.groupCount,
          }),
      });
      return out;
    });
  },
);
