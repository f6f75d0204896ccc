// Argument checks shared by the DiT elementwise and norm ops (layerNormModulate, rmsNormRope, gatedResidual): rows per
// batch item, eps, and the row and width limits of their kernels. Private (not exported from the package).
import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import type { Tensor } from '../core/tensor';

/** The norm kernels hold a row in registers: at most 256 threads x 8 packs x 8 elements (native kNormMaxDim). */
export const NORM_MAX_DIM = 16_384;

/** Rows of the DiT ops: one thread block per row along the grid's x dimension, 32-bit row indices in the kernels. */
export const DIT_MAX_ROWS = 2 ** 31 - 1;

/** rowsPerItem: a positive integer that divides the row count (rows = batch items x tokens per item). */
export function expectRowsPerItem(rowsPerItem: unknown, rows: number, tensor: string): asserts rowsPerItem is number {
  if (typeof rowsPerItem !== 'number' || !Number.isInteger(rowsPerItem) || rowsPerItem < 1 || rowsPerItem > DIT_MAX_ROWS) {
    throw new InvalidArgumentError({ argument: 'rowsPerItem', value: rowsPerItem, message: `expected a positive integer (tokens per batch item), at most ${DIT_MAX_ROWS}` });
  }
  if (rows % rowsPerItem !== 0) {
    throw new ShapeMismatchError({ tensor, expected: `a multiple of rowsPerItem ${rowsPerItem} rows (whole batch items)`, actual: `${rows} rows` });
  }
}

/** eps: a finite number >= 0 (Wan: 1e-6). */
export function expectEps(eps: unknown): asserts eps is number {
  if (typeof eps !== 'number' || !Number.isFinite(eps) || eps < 0) {
    throw new InvalidArgumentError({ argument: 'eps', value: eps, message: 'expected a finite number >= 0 (Wan uses 1e-6)' });
  }
}

/** Rows and width of a 2-D [rows, dim] operand within the kernels' limits (`maxDim`: the norms hold a row in registers). */
export function ditMatrixOf(t: Tensor, name: string, maxDim: number): { rows: number; dim: number } {
  if (t.shape.length !== 2) {
    throw new ShapeMismatchError({ tensor: name, expected: 'a 2-D [rows, dim] tensor (rows = batch items x tokens)', actual: `[${t.shape.join(', ')}]`, hint: `'${t.name}'` });
  }
  const rows = t.shape[0] as number;
  const dim = t.shape[1] as number;
  if (dim < 1 || dim > maxDim) {
    throw new ShapeMismatchError({ tensor: name, expected: `dim (the last dimension) in 1..${maxDim}${maxDim === NORM_MAX_DIM ? ' (a row is held in registers)' : ''}`, actual: `dim ${dim}`, hint: `'${t.name}'` });
  }
  if (rows > DIT_MAX_ROWS) throw new ShapeMismatchError({ tensor: name, expected: `at most ${DIT_MAX_ROWS} rows`, actual: `${rows} rows`, hint: `'${t.name}'` });
  return { rows, dim };
}
