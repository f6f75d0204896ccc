import { type Fp8Format, InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import type { MemoryStats } from './addon-types';
import { DTYPE_BYTES, type DType, type HostArrayOf, assertDType, assertHostArrayFor } from './dtype';
import { type GroupMap, type RowMap, analyzeGroupMap, analyzeRowMap, mapIndices, sealMap } from './maps';
import { type Device, type Storage, Tensor, checkShape, formatShape, numelOf } from './tensor';

export type QuantPath = 'auto' | 'two-pass' | 'fused';

export interface QuantizeQKOptions {
  groups: GroupMap;
  headDim: number;
  format: Fp8Format;
  /** K smoothing: float32 [cols] channel means (from channelMean) subtracted before quantization. */
  mean?: Tensor<'f32'> | undefined;
  /** CUDA kernel choice; 'fused' needs a contiguous group map. The CPU backend ignores it. */
  path?: QuantPath;
  out?: { codes: Tensor<Fp8Format>; scales: Tensor<'f32'> };
  name?: string;
}

export interface QuantizedQK {
  /** [rows, cols] codes, same layout as the input. */
  codes: Tensor<Fp8Format>;
  /** [groupCount, heads] float32 scales. */
  scales: Tensor<'f32'>;
  /** The kernel that ran ('cpu' on the CPU backend). */
  path: 'fused' | 'two-pass' | 'cpu';
  headDim: number;
  format: Fp8Format;
}

export interface GatherRowsOptions<D extends DType> {
  out?: Tensor<D>;
  name?: string;
  /** Receives the per-channel amax of the gathered rows (BF16 input only): f32 [cols]. */
  amax?: Tensor<'f32'>;
}

export interface QuantizeVOptions {
  format: Fp8Format;
  /**
   * Per-channel amax of `v` computed by `gatherRows(src, map, { amax })` while it gathered `v`: the quantization is
   * then one pass over V instead of two. Must describe this very tensor (it is not checked against it); values that
   * are not positive finite numbers give a scale of 1.
   */
  amax?: Tensor<'f32'> | undefined;
  /** Columns of the transposed codes (>= rows, multiple of 16); default rows rounded up to 16. */
  tokenStride?: number;
  out?: { codesT: Tensor<Fp8Format>; scales: Tensor<'f32'> };
  name?: string;
}

export interface QuantizedV {
  /** [cols, tokenStride] codes, transposed (K-major); columns >= rows are 0. */
  codesT: Tensor<Fp8Format>;
  /** [cols] float32 scales, one per channel. */
  scales: Tensor<'f32'>;
  rows: number;
  format: Fp8Format;
}

/** What every backend offers. Shapes, dtypes and maps are validated identically on both backends. */
export interface Backend {
  readonly name: Device;
  empty<D extends DType>(shape: readonly number[], dtype: D, options?: { name?: string }): Tensor<D>;
  fromArray<D extends DType>(data: HostArrayOf[D], shape: readonly number[], dtype: D, options?: { name?: string }): Tensor<D>;
  createRowMap(map: Int32Array, options: { targetRows: number; name?: string }): RowMap;
  createGroupMap(groupOfRow: Int32Array, options?: { groupCount?: number; name?: string }): GroupMap;
  /**
   * dst[i, ...] = src[map[i], ...]; padding (-1) rows are zero. With `amax` (a f32 [cols] tensor, BF16 [rows, cols]
   * input), also writes amax[c] = max |dst[:, c]| over finite values, for `quantizeV(dst, { amax })`.
   */
  gatherRows<D extends DType>(src: Tensor<D>, map: RowMap, options?: GatherRowsOptions<D>): Tensor<D>;
  /** dst[map[i], ...] = src[i, ...]; other dst rows are zero (new dst) or unchanged (`out`). */
  scatterRows<D extends DType>(src: Tensor<D>, map: RowMap, options: { rows?: number; out?: Tensor<D>; name?: string }): Tensor<D>;
  /** Per-channel mean over rows of a BF16 [rows, cols] tensor (K smoothing); float32 [cols], deterministic. */
  channelMean(x: Tensor<'bf16'>, options?: { name?: string }): Tensor<'f32'>;
  quantizeQK(x: Tensor<'bf16'>, options: QuantizeQKOptions): QuantizedQK;
  quantizeV(v: Tensor<'bf16'>, options: QuantizeVOptions): QuantizedV;
  dequantizeQK(q: { codes: Tensor<Fp8Format>; scales: Tensor<'f32'> }, options: { groups: GroupMap; headDim: number; name?: string }): Tensor<'f32'>;
  dequantizeV(q: { codesT: Tensor<Fp8Format>; scales: Tensor<'f32'> }, options: { rows: number; name?: string }): Tensor<'f32'>;
  /** Resolves when all queued work is done (never blocks the event loop). */
  synchronize(): Promise<void>;
  memoryStats(): MemoryStats | null;
  emptyCache(): void;
}

// ------------------------------------------------------------------------------------------------- validation
function expectFormat(format: unknown): asserts format is Fp8Format {
  if (format !== 'e4m3' && format !== 'e5m2') {
    throw new InvalidArgumentError({ argument: 'format', value: format, message: "expected 'e4m3' or 'e5m2'" });
  }
}

/** Kernels move 16-byte vectors, so every operand starts on a 16-byte boundary; both backends enforce it alike. */
export const TENSOR_ALIGNMENT_BYTES = 16;

/** Shared-memory staging limit of the fused Q/K kernel per (group, head) (kFusedMaxSmem in quantize_fp8.cu). */
export const FUSED_MAX_STAGING_BYTES = 160 * 1024;

/** Largest token count of the kernels that walk tokens along the grid's y dimension (65,535 blocks of 256 rows). */
export const MAX_TOKEN_ROWS = 65_535 * 256;

export function expectTensor(t: unknown, name: string, device: Device, operation: string): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new InvalidArgumentError({ argument: name, value: t, message: `${operation} expects a Tensor` });
  t.assertLive(operation);
  if (t.device !== device) {
    throw new InvalidArgumentError({ argument: name, value: t.device, message: `${operation} runs on ${device}; '${t.name}' lives on ${t.device}` });
  }
  if (t.byteOffset % TENSOR_ALIGNMENT_BYTES !== 0) {
    throw new InvalidArgumentError({
      argument: name,
      value: t.byteOffset,
      message: `'${t.name}' starts at byte ${t.byteOffset} of its storage; ${operation} needs ${TENSOR_ALIGNMENT_BYTES}-byte aligned tensors (slice at a row boundary that is, or copy the view)`,
    });
  }
}

function expectDType(t: Tensor, name: string, dtypes: readonly DType[]): void {
  if (!dtypes.includes(t.dtype)) {
    throw new ShapeMismatchError({ tensor: name, expected: `dtype ${dtypes.join(' or ')}`, actual: `dtype ${t.dtype}`, hint: `'${t.name}'` });
  }
}

function expectShape(t: Tensor, name: string, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeMismatchError({ tensor: name, expected: formatShape(shape), actual: formatShape(t.shape), hint: `'${t.name}'` });
  }
}

function matrixOf(t: Tensor, name: string): { rows: number; cols: number } {
  if (t.shape.length !== 2) {
    throw new ShapeMismatchError({ tensor: name, expected: 'a 2-D [tokens, heads * headDim] tensor', actual: formatShape(t.shape), hint: `'${t.name}'` });
  }
  return { rows: t.shape[0] as number, cols: t.shape[1] as number };
}

function expectHeadDim(headDim: unknown, cols: number, tensor: string): number {
  if (typeof headDim !== 'number' || !Number.isInteger(headDim) || headDim < 16 || headDim > 256 || (headDim & (headDim - 1)) !== 0) {
    throw new InvalidArgumentError({ argument: 'headDim', value: headDim, message: 'expected a power of two in [16, 256]' });
  }
  if (cols === 0 || cols % headDim !== 0) {
    throw new ShapeMismatchError({ tensor, expected: `a positive multiple of headDim ${headDim} columns (at least one head)`, actual: `${cols} columns` });
  }
  return cols / headDim;
}

function expectMap(map: unknown, kind: 'row-map' | 'group-map', name: string, device: Device, operation: string): void {
  const m = map as RowMap | GroupMap | null;
  if (m === null || typeof m !== 'object' || m.kind !== kind || mapIndices(m) === undefined) {
    throw new InvalidArgumentError({
      argument: name,
      value: map,
      message: `${operation} expects a ${kind === 'row-map' ? 'RowMap from backend.createRowMap' : 'GroupMap from backend.createGroupMap'}`,
    });
  }
  expectTensor(m.kind === 'row-map' ? m.tensor : m.groupOfRow, name, device, operation);
}

/**
 * Shared front half of both backends: validation, output allocation, then `exec*` hooks that do the work. Keeping the
 * checks here guarantees that CPU and CUDA accept and reject exactly the same calls.
 */
export abstract class BaseBackend implements Backend {
  abstract readonly name: Device;
  protected abstract createStorage(byteLength: number, name: string | undefined): Storage;
  protected abstract execPermute(src: Tensor, dst: Tensor, map: RowMap, scatter: boolean, amax?: Tensor<'f32'>): void;
  protected abstract execChannelMean(x: Tensor<'bf16'>, mean: Tensor<'f32'>): void;
  protected abstract execQuantizeQK(x: Tensor<'bf16'>, o: QuantizeQKOptions, codes: Tensor<Fp8Format>, scales: Tensor<'f32'>, path: QuantPath): QuantizedQK['path'];
  protected abstract execQuantizeV(v: Tensor<'bf16'>, codesT: Tensor<Fp8Format>, scales: Tensor<'f32'>, rows: number, tokenStride: number, format: Fp8Format, amax?: Tensor<'f32'>): void;
  protected abstract execDequantizeQK(codes: Tensor<Fp8Format>, scales: Tensor<'f32'>, groups: GroupMap, headDim: number, out: Tensor<'f32'>): void;
  protected abstract execDequantizeV(codesT: Tensor<Fp8Format>, scales: Tensor<'f32'>, rows: number, out: Tensor<'f32'>): void;
  abstract synchronize(): Promise<void>;
  abstract memoryStats(): MemoryStats | null;
  abstract emptyCache(): void;

  empty<D extends DType>(shape: readonly number[], dtype: D, options?: { name?: string }): Tensor<D> {
    checkShape(shape);
    assertDType(dtype);
    const name = options?.name;
    const storage = this.createStorage(numelOf(shape) * DTYPE_BYTES[dtype], name);
    try {
      return new Tensor({ storage, dtype, shape, name }); // the tensor holds the only reference
    } catch (e) {
      storage.retain();
      storage.release(); // frees it
      throw e;
    }
  }

  fromArray<D extends DType>(data: HostArrayOf[D], shape: readonly number[], dtype: D, options: { name?: string } = {}): Tensor<D> {
    checkShape(shape);
    assertDType(dtype);
    const name = options.name ?? `${dtype}${formatShape(shape)}`;
    assertHostArrayFor(dtype, data, name);
    if (data.length !== numelOf(shape)) {
      throw new ShapeMismatchError({ tensor: name, expected: `${numelOf(shape)} elements for ${formatShape(shape)}`, actual: `${data.length} elements` });
    }
    const t = this.empty(shape, dtype, { name });
    try {
      return t.upload(data);
    } catch (e) {
      t.dispose();
      throw e;
    }
  }

  createRowMap(map: Int32Array, options: { targetRows: number; name?: string }): RowMap {
    const name = options.name ?? 'rowMap';
    const a = analyzeRowMap(map, options?.targetRows, name);
    const host = map.slice();
    const tensor = this.fromArray(host, [host.length], 'i32', { name });
    const dispose = () => tensor.dispose();
    return sealMap(
      {
        kind: 'row-map',
        length: host.length,
        targetRows: options.targetRows,
        injective: a.injective,
        paddingRows: a.paddingRows,
        tensor,
        dispose,
        [Symbol.dispose]: dispose,
      },
      host,
    );
  }

  createGroupMap(groupOfRow: Int32Array, options: { groupCount?: number; name?: string } = {}): GroupMap {
    const name = options.name ?? 'groupOfRow';
    const a = analyzeGroupMap(groupOfRow, options.groupCount, name);
    const host = groupOfRow.slice();
    const groupOfRowT = this.fromArray(host, [host.length], 'i32', { name });
    let groupStart: Tensor<'i32'> | null = null;
    try {
      if (a.groupStart) groupStart = this.fromArray(a.groupStart, [a.groupStart.length], 'i32', { name: `${name}.groupStart` });
    } catch (e) {
      groupOfRowT.dispose();
      throw e;
    }
    const dispose = () => {
      groupOfRowT.dispose();
      groupStart?.dispose();
    };
    return sealMap(
      {
        kind: 'group-map',
        rows: host.length,
        groupCount: a.groupCount,
        contiguous: a.contiguous,
        maxGroupRows: a.maxGroupRows,
        groupOfRow: groupOfRowT,
        groupStart,
        dispose,
        [Symbol.dispose]: dispose,
      },
      host,
    );
  }

  private rowGeometry(src: Tensor, name: string): { rows: number; rowElems: number; rowBytes: number } {
    if (src.shape.length < 1) throw new ShapeMismatchError({ tensor: name, expected: 'at least 1 dimension (rows)', actual: formatShape(src.shape) });
    const rows = src.shape[0] as number;
    const rowElems = numelOf(src.shape.slice(1));
    const rowBytes = rowElems * DTYPE_BYTES[src.dtype];
    if (rowBytes % 16 !== 0) {
      throw new ShapeMismatchError({ tensor: name, expected: 'rows of a multiple of 16 bytes (the kernels move 16-byte vectors)', actual: `${rowBytes} bytes per row`, hint: `'${src.name}'` });
    }
    return { rows, rowElems, rowBytes };
  }

  private checkOut(out: Tensor, name: string, dtype: DType, shape: readonly number[], operation: string, inputs: Tensor[]): void {
    expectTensor(out, name, this.name, operation);
    expectDType(out, name, [dtype]);
    expectShape(out, name, shape);
    for (const t of inputs) {
      if (t.storage === out.storage) {
        throw new InvalidArgumentError({ argument: name, value: out.name, message: `${operation} cannot write into storage it reads ('${t.name}')` });
      }
    }
  }

  gatherRows<D extends DType>(src: Tensor<D>, map: RowMap, options: GatherRowsOptions<D> = {}): Tensor<D> {
    const op = 'gatherRows';
    expectTensor(src, 'src', this.name, op);
    expectMap(map, 'row-map', 'map', this.name, op);
    const g = this.rowGeometry(src, 'src');
    if (map.targetRows !== g.rows) {
      throw new ShapeMismatchError({ tensor: 'src', expected: `${map.targetRows} rows (the map's targetRows)`, actual: `${g.rows} rows`, hint: `'${src.name}'` });
    }
    if (options.amax !== undefined) {
      expectDType(src, 'src', ['bf16']);
      const { cols } = matrixOf(src, 'src');
      expectTensor(options.amax, 'amax', this.name, op);
      expectDType(options.amax, 'amax', ['f32']);
      expectShape(options.amax, 'amax', [cols]);
      if (map.length > MAX_TOKEN_ROWS) throw new ShapeMismatchError({ tensor: 'map', expected: `at most ${MAX_TOKEN_ROWS} rows with amax`, actual: `${map.length} rows` });
    }
    const shape = [map.length, ...src.shape.slice(1)];
    const dst = options.out ?? this.empty(shape, src.dtype, { name: options.name ?? `${src.name}.gathered` });
    try {
      if (options.out) this.checkOut(options.out, 'out', src.dtype, shape, op, [src]);
      if (options.amax !== undefined && (options.amax.storage === src.storage || options.amax.storage === dst.storage)) {
        throw new InvalidArgumentError({ argument: 'amax', value: options.amax.name, message: `${op} cannot write amax into the storage of src or out` });
      }
      this.execPermute(src, dst, map, false, options.amax);
    } catch (e) {
      if (!options.out) dst.dispose();
      throw e;
    }
    return dst;
  }

  scatterRows<D extends DType>(src: Tensor<D>, map: RowMap, options: { rows?: number; out?: Tensor<D>; name?: string }): Tensor<D> {
    const op = 'scatterRows';
    expectTensor(src, 'src', this.name, op);
    expectMap(map, 'row-map', 'map', this.name, op);
    const g = this.rowGeometry(src, 'src');
    if (map.length !== g.rows) {
      throw new ShapeMismatchError({ tensor: 'src', expected: `${map.length} rows (one per map entry)`, actual: `${g.rows} rows`, hint: `'${src.name}'` });
    }
    if (!map.injective) {
      throw new InvalidArgumentError({ argument: 'map', value: 'not injective', message: 'scatterRows needs a map whose non-padding entries are distinct' });
    }
    const rows = options.out?.shape[0] ?? options.rows ?? map.targetRows;
    if (rows !== map.targetRows) {
      throw new ShapeMismatchError({ tensor: 'out', expected: `${map.targetRows} rows (the map's targetRows)`, actual: `${rows} rows` });
    }
    const shape = [rows, ...src.shape.slice(1)];
    const dst = options.out ?? this.empty(shape, src.dtype, { name: options.name ?? `${src.name}.scattered` });
    try {
      if (options.out) this.checkOut(options.out, 'out', src.dtype, shape, op, [src]);
      else dst.fillBytes(0);
      this.execPermute(src, dst, map, true);
    } catch (e) {
      if (!options.out) dst.dispose();
      throw e;
    }
    return dst;
  }

  channelMean(x: Tensor<'bf16'>, options: { name?: string } = {}): Tensor<'f32'> {
    const op = 'channelMean';
    expectTensor(x, 'x', this.name, op);
    expectDType(x, 'x', ['bf16']);
    const { cols } = matrixOf(x, 'x');
    if (cols % 8 !== 0) throw new ShapeMismatchError({ tensor: 'x', expected: 'a multiple of 8 columns', actual: `${cols} columns` });
    if (x.shape[0]! > MAX_TOKEN_ROWS) throw new ShapeMismatchError({ tensor: 'x', expected: `at most ${MAX_TOKEN_ROWS} rows`, actual: `${x.shape[0]} rows` });
    const mean = this.empty([cols], 'f32', { name: options.name ?? `${x.name}.mean` });
    try {
      this.execChannelMean(x, mean);
    } catch (e) {
      mean.dispose();
      throw e;
    }
    return mean;
  }

  quantizeQK(x: Tensor<'bf16'>, o: QuantizeQKOptions): QuantizedQK {
    const op = 'quantizeQK';
    expectTensor(x, 'x', this.name, op);
    expectDType(x, 'x', ['bf16']);
    expectFormat(o?.format);
    const { rows, cols } = matrixOf(x, 'x');
    const heads = expectHeadDim(o.headDim, cols, 'x');
    expectMap(o.groups, 'group-map', 'groups', this.name, op);
    if (o.groups.rows !== rows) {
      throw new ShapeMismatchError({ tensor: 'groups', expected: `${rows} rows (one group per row of x)`, actual: `${o.groups.rows} rows` });
    }
    if (o.mean !== undefined) {
      expectTensor(o.mean, 'mean', this.name, op);
      expectDType(o.mean, 'mean', ['f32']);
      expectShape(o.mean, 'mean', [cols]);
    }
    const path = o.path ?? 'auto';
    if (path !== 'auto' && path !== 'two-pass' && path !== 'fused') {
      throw new InvalidArgumentError({ argument: 'path', value: path, message: "expected 'auto', 'two-pass' or 'fused'" });
    }
    if (path === 'fused' && (!o.groups.contiguous || o.groups.maxGroupRows * o.headDim * 2 > FUSED_MAX_STAGING_BYTES)) {
      throw new InvalidArgumentError({
        argument: 'path',
        value: path,
        message: `the fused kernel needs contiguous groups of at most ${FUSED_MAX_STAGING_BYTES / (2 * o.headDim)} rows (contiguous: ${o.groups.contiguous}, largest group ${o.groups.maxGroupRows} rows)`,
      });
    }
    const base = o.name ?? x.name;
    const scaleShape = [o.groups.groupCount, heads];
    const codes = o.out?.codes ?? this.empty([rows, cols], o.format, { name: `${base}.codes` });
    let scales: Tensor<'f32'> | undefined;
    try {
      scales = o.out?.scales ?? this.empty(scaleShape, 'f32', { name: `${base}.scales` });
      if (o.out) {
        this.checkOut(o.out.codes, 'out.codes', o.format, [rows, cols], op, [x]);
        this.checkOut(o.out.scales, 'out.scales', 'f32', scaleShape, op, [x]);
      }
      const ran = this.execQuantizeQK(x, o, codes, scales, path);
      return { codes, scales, path: ran, headDim: o.headDim, format: o.format };
    } catch (e) {
      if (!o.out) {
        codes.dispose();
        scales?.dispose();
      }
      throw e;
    }
  }

  quantizeV(v: Tensor<'bf16'>, o: QuantizeVOptions): QuantizedV {
    const op = 'quantizeV';
    expectTensor(v, 'v', this.name, op);
    expectDType(v, 'v', ['bf16']);
    expectFormat(o?.format);
    const { rows, cols } = matrixOf(v, 'v');
    if (cols % 64 !== 0) throw new ShapeMismatchError({ tensor: 'v', expected: 'a multiple of 64 columns', actual: `${cols} columns` });
    const tokenStride = o.tokenStride ?? Math.ceil(rows / 16) * 16;
    if (!Number.isSafeInteger(tokenStride) || tokenStride < rows || tokenStride % 16 !== 0 || tokenStride > MAX_TOKEN_ROWS) {
      throw new InvalidArgumentError({ argument: 'tokenStride', value: tokenStride, message: `expected a multiple of 16 in ${rows}..${MAX_TOKEN_ROWS} (rows .. the kernel's token limit)` });
    }
    if (o.amax !== undefined) {
      expectTensor(o.amax, 'amax', this.name, op);
      expectDType(o.amax, 'amax', ['f32']);
      expectShape(o.amax, 'amax', [cols]);
    }
    const base = o.name ?? v.name;
    const codesT = o.out?.codesT ?? this.empty([cols, tokenStride], o.format, { name: `${base}.codesT` });
    let scales: Tensor<'f32'> | undefined;
    try {
      scales = o.out?.scales ?? this.empty([cols], 'f32', { name: `${base}.scales` });
      if (o.out) {
        this.checkOut(o.out.codesT, 'out.codesT', o.format, [cols, tokenStride], op, [v]);
        this.checkOut(o.out.scales, 'out.scales', 'f32', [cols], op, [v]);
      }
      this.execQuantizeV(v, codesT, scales, rows, tokenStride, o.format, o.amax);
      return { codesT, scales, rows, format: o.format };
    } catch (e) {
      if (!o.out) {
        codesT.dispose();
        scales?.dispose();
      }
      throw e;
    }
  }

  dequantizeQK(q: { codes: Tensor<Fp8Format>; scales: Tensor<'f32'> }, o: { groups: GroupMap; headDim: number; name?: string }): Tensor<'f32'> {
    const op = 'dequantizeQK';
    expectTensor(q?.codes, 'codes', this.name, op);
    expectTensor(q.scales, 'scales', this.name, op);
    expectDType(q.codes, 'codes', ['e4m3', 'e5m2']);
    expectDType(q.scales, 'scales', ['f32']);
    const { rows, cols } = matrixOf(q.codes, 'codes');
    const heads = expectHeadDim(o?.headDim, cols, 'codes');
    expectMap(o.groups, 'group-map', 'groups', this.name, op);
    if (o.groups.rows !== rows) throw new ShapeMismatchError({ tensor: 'groups', expected: `${rows} rows`, actual: `${o.groups.rows} rows` });
    expectShape(q.scales, 'scales', [o.groups.groupCount, heads]);
    const out = this.empty([rows, cols], 'f32', { name: o.name ?? `${q.codes.name}.dequantized` });
    try {
      this.execDequantizeQK(q.codes, q.scales, o.groups, o.headDim, out);
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  }

  dequantizeV(q: { codesT: Tensor<Fp8Format>; scales: Tensor<'f32'> }, o: { rows: number; name?: string }): Tensor<'f32'> {
    const op = 'dequantizeV';
    expectTensor(q?.codesT, 'codesT', this.name, op);
    expectTensor(q.scales, 'scales', this.name, op);
    expectDType(q.codesT, 'codesT', ['e4m3', 'e5m2']);
    expectDType(q.scales, 'scales', ['f32']);
    const { rows: cols, cols: tokenStride } = matrixOf(q.codesT, 'codesT');
    expectShape(q.scales, 'scales', [cols]);
    const rows = o?.rows;
    if (!Number.isSafeInteger(rows) || rows < 0 || rows > tokenStride) {
      throw new InvalidArgumentError({ argument: 'rows', value: rows, message: `expected 0..${tokenStride} (the codes' token stride)` });
    }
    const out = this.empty([rows, cols], 'f32', { name: o.name ?? `${q.codesT.name}.dequantized` });
    try {
      this.execDequantizeV(q.codesT, q.scales, rows, out);
    } catch (e) {
      out.dispose();
      throw e;
    }
    return out;
  }
}
