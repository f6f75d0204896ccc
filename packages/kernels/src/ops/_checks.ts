// Argument checks shared by the ops (private: not exported from the package). Every op validates its whole call here,
// before dispatching, so the CPU and CUDA backends accept and reject exactly the same calls.
import { type Fp8Format, InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import type { Backend } from '../core/backend';
import { DTYPE_BYTES, type DType } from '../core/dtype';
import { type GroupMap, type RowMap, mapIndices } from '../core/maps';
import { Tensor, formatShape, numelOf } from '../core/tensor';

/** Kernels move 16-byte vectors, so every operand starts on a 16-byte boundary; both backends enforce it alike. */
export const TENSOR_ALIGNMENT_BYTES = 16;

/** Largest token count of the kernels that walk tokens along the grid's y dimension (65,535 blocks of 256 rows). */
export const MAX_TOKEN_ROWS = 65_535 * 256;

export function expectFormat(format: unknown): asserts format is Fp8Format {
  if (format !== 'e4m3' && format !== 'e5m2') {
    throw new InvalidArgumentError({ argument: 'format', value: format, message: "expected 'e4m3' or 'e5m2'" });
  }
}

function expectLiveTensor(t: unknown, name: string, op: string): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new InvalidArgumentError({ argument: name, value: t, message: `${op} expects a Tensor` });
  t.assertLive(op);
}

/** The backend an op runs on: the one of its first tensor argument (checked like every other tensor). */
export function backendOf(t: unknown, name: string, op: string): Backend {
  expectLiveTensor(t, name, op);
  expectTensor(t, name, t.backend, op);
  return t.backend;
}

/** A live tensor of backend `be`, starting on a 16-byte boundary of its storage. */
export function expectTensor(t: unknown, name: string, be: Backend, op: string): asserts t is Tensor {
  expectLiveTensor(t, name, op);
  if (t.backend !== be) {
    throw new InvalidArgumentError({
      argument: name,
      value: t.device,
      message:
        t.device === be.name
          ? `${op} runs on the ${be.name} backend of its first tensor; '${t.name}' was made by another ${t.device} backend instance`
          : `${op} runs on ${be.name}; '${t.name}' lives on ${t.device}`,
    });
  }
  if (t.byteOffset % TENSOR_ALIGNMENT_BYTES !== 0) {
    throw new InvalidArgumentError({
      argument: name,
      value: t.byteOffset,
      message: `'${t.name}' starts at byte ${t.byteOffset} of its storage; ${op} needs ${TENSOR_ALIGNMENT_BYTES}-byte aligned tensors (slice at a row boundary that is, or copy the view)`,
    });
  }
}

export function expectDType(t: Tensor, name: string, dtypes: readonly DType[]): void {
  if (!dtypes.includes(t.dtype)) {
    throw new ShapeMismatchError({ tensor: name, expected: `dtype ${dtypes.join(' or ')}`, actual: `dtype ${t.dtype}`, hint: `'${t.name}'` });
  }
}

export function expectShape(t: Tensor, name: string, shape: readonly number[]): void {
  if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
    throw new ShapeMismatchError({ tensor: name, expected: formatShape(shape), actual: formatShape(t.shape), hint: `'${t.name}'` });
  }
}

/** Rows and columns of a 2-D tensor. */
export function matrixOf(t: Tensor, name: string): { rows: number; cols: number } {
  if (t.shape.length !== 2) {
    throw new ShapeMismatchError({ tensor: name, expected: 'a 2-D [tokens, heads * headDim] tensor', actual: formatShape(t.shape), hint: `'${t.name}'` });
  }
  return { rows: t.shape[0] as number, cols: t.shape[1] as number };
}

/** Checks headDim (a power of two in [16, 256]) against the columns; returns the head count. */
export function expectHeadDim(headDim: unknown, cols: number, tensor: string): number {
  // Stryker disable next-line ConditionalExpression: Number.isInteger rejects every non-number too (the typeof narrows the type)
  if (typeof headDim !== 'number' || !Number.isInteger(headDim) || headDim < 16 || headDim > 256 || (headDim & (headDim - 1)) !== 0) {
    throw new InvalidArgumentError({ argument: 'headDim', value: headDim, message: 'expected a power of two in [16, 256]' });
  }
  if (cols === 0 || cols % headDim !== 0) {
    throw new ShapeMismatchError({ tensor, expected: `a positive multiple of headDim ${headDim} columns (at least one head)`, actual: `${cols} columns` });
  }
  return cols / headDim;
}

/** A map made by createRowMap/createGroupMap (not a look-alike), whose index tensor lives on `be`. */
export function expectMap(map: unknown, kind: 'row-map' | 'group-map', name: string, be: Backend, op: string): void {
  const m = map as RowMap | GroupMap | null;
  if (m === null || typeof m !== 'object' || m.kind !== kind || mapIndices(m) === undefined) {
    throw new InvalidArgumentError({
      argument: name,
      value: map,
      message: `${op} expects a ${kind === 'row-map' ? 'RowMap from createRowMap' : 'GroupMap from createGroupMap'}`,
    });
  }
  expectTensor(m.kind === 'row-map' ? m.tensor : m.groupOfRow, name, be, op);
}

/** Row count and bytes per row of a tensor whose rows the kernels move as 16-byte vectors. */
export function rowGeometry(src: Tensor, name: string): { rows: number; rowBytes: number } {
  if (src.shape.length < 1) throw new ShapeMismatchError({ tensor: name, expected: 'at least 1 dimension (rows)', actual: formatShape(src.shape) });
  const rows = src.shape[0] as number;
  const rowBytes = numelOf(src.shape.slice(1)) * DTYPE_BYTES[src.dtype];
  if (rowBytes % 16 !== 0) {
    throw new ShapeMismatchError({ tensor: name, expected: 'rows of a multiple of 16 bytes (the kernels move 16-byte vectors)', actual: `${rowBytes} bytes per row`, hint: `'${src.name}'` });
  }
  return { rows, rowBytes };
}

/** A caller-provided output: right backend, dtype and shape, and not sharing storage with any input. */
export function expectOut(out: unknown, name: string, dtype: DType, shape: readonly number[], be: Backend, op: string, inputs: readonly Tensor[]): asserts out is Tensor {
  expectTensor(out, name, be, op);
  expectDType(out, name, [dtype]);
  expectShape(out, name, shape);
  for (const t of inputs) {
    if (t.storage === out.storage) {
      throw new InvalidArgumentError({ argument: name, value: out.name, message: `${op} cannot write into storage it reads ('${t.name}')` });
    }
  }
}

/** Output tensors an op allocates; `withOutputs` disposes them when the op throws after allocating. */
export interface Outputs {
  empty<D extends DType>(shape: readonly number[], dtype: D, name: string): Tensor<D>;
}

export function withOutputs<R>(be: Backend, body: (outputs: Outputs) => R): R {
  const made: Tensor[] = [];
  const outputs: Outputs = {
    empty: (shape, dtype, name) => {
      const t = be.empty(shape, dtype, { name });
      made.push(t);
      return t;
    },
  };
  try {
    return body(outputs);
  } catch (e) {
    for (const t of made) t.dispose();
    throw e;
  }
}
