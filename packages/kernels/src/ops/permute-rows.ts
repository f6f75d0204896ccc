// permuteRows: the tile-major gather and its inverse scatter of whole rows (native op permuteRows, kernel
// native/src/kernels/permute_rows.cu). Dtype-agnostic: rows move as bytes (16-byte vectors on the GPU).
import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import { defineNativeOp } from '../core/native-op';
import { defineOp } from '../core/define-op';
import type { DType } from '../core/dtype';
import { type RowMap, mapIndices } from '../core/maps';
import type { Tensor } from '../core/tensor';
import { channelAmaxCpu } from '../cpu/channel-amax';
import { hostBytes, hostView } from '../cpu/host-storage';
import { MAX_TOKEN_ROWS, backendOf, expectDType, expectMap, expectOut, expectShape, expectTensor, matrixOf, rowGeometry, withOutputs } from './_checks';

export const PERMUTE_ROWS = defineNativeOp({
  name: 'permuteRows',
  fields: {
    src: 'tensor',
    dst: 'tensor',
    rowMap: 'tensor',
    srcRows: 'int',
    dstRows: 'int',
    mapLen: 'int',
    rowBytes: 'int',
    scatter: 'bool',
    /** gather only: f32 [rowBytes / 2] receiving the per-channel amax of the gathered BF16 rows. */
    amax: 'tensor?',
  },
  result: null,
});

export interface GatherRowsOptions<D extends DType> {
  src: Tensor<D>;
  /** map[i] = the src row of dst row i, or -1 for a zero (padding) row; its targetRows is src's row count. */
  map: RowMap;
  out?: Tensor<D> | undefined;
  /** Receives the per-channel amax of the gathered rows (BF16 [rows, cols] src only): f32 [cols], for quantizeV. */
  amax?: Tensor<'f32'> | undefined;
  name?: string;
}

export interface ScatterRowsOptions<D extends DType> {
  src: Tensor<D>;
  /** map[i] = the dst row of src row i (-1: dropped); injective; its targetRows is dst's row count. */
  map: RowMap;
  /** dst rows (default: the map's targetRows); with `out`, its row count. */
  rows?: number;
  /** Written in place: rows no map entry names keep their contents (a new dst has zeros there). */
  out?: Tensor<D> | undefined;
  name?: string;
}

// ------------------------------------------------------------------------------------------------- CPU twins
/** gather: dst[i] = src[map[i]] (a zero row where map[i] is -1 or out of range). `rowElems` elements per row. */
export function gatherRowsCpu<T extends Uint8Array | Uint16Array | Int32Array | Float32Array>(src: T, rowElems: number, map: Int32Array, dst: T): T {
  const srcRows = src.length / rowElems;
  // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
  for (let i = 0; i < map.length; i++) {
    const s = map[i] as number;
    const to = i * rowElems;
    if (s >= 0 && s < srcRows) dst.set(src.subarray(s * rowElems, (s + 1) * rowElems), to);
    else dst.fill(0, to, to + rowElems);
  }
  return dst;
}

/** scatter: dst[map[i]] = src[i] for map[i] in range; other dst rows keep their contents. */
export function scatterRowsCpu<T extends Uint8Array | Uint16Array | Int32Array | Float32Array>(src: T, rowElems: number, map: Int32Array, dst: T): T {
  const dstRows = dst.length / rowElems;
  // Stryker disable next-line EqualityOperator: one more iteration only touches indices past a typed array's end (reads undefined, writes ignored)
  for (let i = 0; i < map.length; i++) {
    const d = map[i] as number;
    if (d >= 0 && d < dstRows) dst.set(src.subarray(i * rowElems, (i + 1) * rowElems), d * rowElems);
  }
  return dst;
}

// ------------------------------------------------------------------------------------------------- the ops
function permute(op: 'gatherRows' | 'scatterRows', src: Tensor, dst: Tensor, map: RowMap, rowBytes: number, amax?: Tensor<'f32'>): void {
  const scatter = op === 'scatterRows';
  src.backend.dispatch(op, {
    cpu: () => {
      const indices = mapIndices(map) as Int32Array;
      if (scatter) scatterRowsCpu(hostBytes(src), rowBytes, indices, hostBytes(dst));
      else gatherRowsCpu(hostBytes(src), rowBytes, indices, hostBytes(dst));
      if (amax) channelAmaxCpu(hostView(dst as Tensor<'bf16'>), dst.shape[0] as number, rowBytes / 2, hostView(amax));
    },
    cuda: (device) =>
      device.call(PERMUTE_ROWS, {
        src: device.ref(src),
        dst: device.ref(dst),
        rowMap: device.ref(map.tensor),
        srcRows: src.shape[0] as number,
        dstRows: dst.shape[0] as number,
        mapLen: map.length,
        rowBytes,
        scatter,
        amax: device.optionalRef(amax),
      }),
  });
}

/**
 * dst[i, ...] = src[map[i], ...]; padding (-1) rows are zero. With `amax` (a f32 [cols] tensor, BF16 [rows, cols]
 * src), also writes amax[c] = max |dst[:, c]| over finite values, for `quantizeV({ v: dst, amax })`.
 */
export const gatherRows = defineOp(
  { name: 'gatherRows', exactness: 'bit-exact', native: PERMUTE_ROWS },
  function gatherRows<D extends DType>(o: GatherRowsOptions<D>): Tensor<D> {
    const op = 'gatherRows';
    const be = backendOf(o.src, 'src', op);
    const { src, map, amax } = o;
    expectMap(map, 'row-map', 'map', be, op);
    const g = rowGeometry(src, 'src');
    if (map.targetRows !== g.rows) {
      throw new ShapeMismatchError({ tensor: 'src', expected: `${map.targetRows} rows (the map's targetRows)`, actual: `${g.rows} rows`, hint: `'${src.name}'` });
    }
    if (amax !== undefined) {
      expectDType(src, 'src', ['bf16']);
      const { cols } = matrixOf(src, 'src');
      expectTensor(amax, 'amax', be, op);
      expectDType(amax, 'amax', ['f32']);
      expectShape(amax, 'amax', [cols]);
      if (map.length > MAX_TOKEN_ROWS) throw new ShapeMismatchError({ tensor: 'map', expected: `at most ${MAX_TOKEN_ROWS} rows with amax`, actual: `${map.length} rows` });
    }
    const shape = [map.length, ...src.shape.slice(1)];
    if (o.out !== undefined) expectOut(o.out, 'out', src.dtype, shape, be, op, [src]);
    return withOutputs(be, (outputs) => {
      const dst = o.out ?? outputs.empty(shape, src.dtype, o.name ?? `${src.name}.gathered`);
      if (amax !== undefined && (amax.storage === src.storage || amax.storage === dst.storage)) {
        throw new InvalidArgumentError({ argument: 'amax', value: amax.name, message: `${op} cannot write amax into the storage of src or out` });
      }
      permute(op, src, dst, map, g.rowBytes, amax);
      return dst;
    });
  },
);

/** dst[map[i], ...] = src[i, ...]; other dst rows are zero (new dst) or unchanged (`out`). */
export const scatterRows = defineOp(
  { name: 'scatterRows', exactness: 'bit-exact', native: PERMUTE_ROWS },
  function scatterRows<D extends DType>(o: ScatterRowsOptions<D>): Tensor<D> {
    const op = 'scatterRows';
    const be = backendOf(o.src, 'src', op);
    const { src, map } = o;
    expectMap(map, 'row-map', 'map', be, op);
    const g = rowGeometry(src, 'src');
    if (map.length !== g.rows) {
      throw new ShapeMismatchError({ tensor: 'src', expected: `${map.length} rows (one per map entry)`, actual: `${g.rows} rows`, hint: `'${src.name}'` });
    }
    if (!map.injective) {
      throw new InvalidArgumentError({ argument: 'map', value: 'not injective', message: 'scatterRows needs a map whose non-padding entries are distinct' });
    }
    const rows = o.out?.shape[0] ?? o.rows ?? map.targetRows;
    if (rows !== map.targetRows) {
      throw new ShapeMismatchError({ tensor: 'out', expected: `${map.targetRows} rows (the map's targetRows)`, actual: `${rows} rows` });
    }
    const shape = [rows, ...src.shape.slice(1)];
    if (o.out !== undefined) expectOut(o.out, 'out', src.dtype, shape, be, op, [src]);
    return withOutputs(be, (outputs) => {
      const dst = o.out ?? outputs.empty(shape, src.dtype, o.name ?? `${src.name}.scattered`).fillBytes(0);
      permute(op, src, dst, map, g.rowBytes);
      return dst;
    });
  },
);
