import { InvalidArgumentError } from './errors/invalid-argument-error';
import { ShapeMismatchError } from './errors/shape-mismatch-error';
import { expectPositiveInteger } from './_validate';

/**
 * Which elements of a [rows, cols] tensor share one scale. The kind names which ROWS (tokens) share a scale, with the
 * same names as @fpsattn/scheduler; `columnsPerScale` (default: all columns) splits the columns into blocks with one
 * scale each, so for [tokens, heads x headDim] tensors `columnsPerScale: headDim` gives one scale per head.
 *
 * - `tensor`: all rows share one scale (per block of `columnsPerScale` columns): P in FPSAttention, or Q/K per head.
 * - `token`: one scale per row (per block of `columnsPerScale` columns).
 * - `channel`: one scale per column over all rows (V).
 * - `group`: the resolved form of any row grouping (3D token tiles included): rows map to groups by `groupOfRow`,
 *   and each group has one scale per block of `columnsPerScale` columns.
 */
export type QuantGranularity =
  | { readonly kind: 'tensor'; readonly columnsPerScale?: number }
  | { readonly kind: 'token'; readonly columnsPerScale?: number }
  | { readonly kind: 'channel' }
  | {
      readonly kind: 'group';
      readonly groupOfRow: Int32Array;
      readonly groupCount: number;
      readonly columnsPerScale?: number;
    };

export type QuantGranularityKind = QuantGranularity['kind'];

/** The kinds, in the order error messages list them. */
export const QUANT_GRANULARITY_KINDS: readonly QuantGranularityKind[] = Object.freeze(['tensor', 'token', 'channel', 'group']);

const withColumns = (columnsPerScale: number | undefined) => (columnsPerScale === undefined ? {} : { columnsPerScale });

/** One scale for all rows (per block of `columnsPerScale` columns when given). */
export function perTensor(options: { columnsPerScale?: number } = {}): QuantGranularity {
  return { kind: 'tensor', ...withColumns(options.columnsPerScale) };
}

/** One scale per row (per token), optionally per block of `columnsPerScale` columns. */
export function perToken(options: { columnsPerScale?: number } = {}): QuantGranularity {
  return { kind: 'token', ...withColumns(options.columnsPerScale) };
}

/** One scale per column. */
export const perChannel = (): QuantGranularity => ({ kind: 'channel' });

/** Rows grouped by `groupOfRow` (`groupCount` groups), one scale per group (and per block of `columnsPerScale`). */
export function perGroup(options: { groupOfRow: Int32Array; groupCount: number; columnsPerScale?: number }): QuantGranularity {
  return { kind: 'group', groupOfRow: options.groupOfRow, groupCount: options.groupCount, ...withColumns(options.columnsPerScale) };
}

/**
 * Resolved layout of the scales for a tensor shape: the scale of (r, c) is
 * `scales[rowGroup(r) * colGroups + floor(c / columnsPerScale)]`, with `rowGroup(r) = groupOfRow[r]`, or 0 when
 * `groupOfRow` is null (every row in one group).
 */
export interface ScaleLayout {
  readonly scaleCount: number;
  /** Number of row groups: 1 (tensor, channel), rows (token) or groupCount (group). */
  readonly rowGroups: number;
  readonly colGroups: number;
  readonly columnsPerScale: number;
  /** Row -> row group, or null when every row is in group 0. */
  readonly groupOfRow: Int32Array | null;
}

function checkColumns(cols: number, columnsPerScale: number): number {
  expectPositiveInteger('granularity.columnsPerScale', columnsPerScale);
  if (cols % columnsPerScale !== 0) {
    throw new InvalidArgumentError({
      argument: 'granularity.columnsPerScale',
      value: columnsPerScale,
      message: `must divide the column count ${cols}`,
    });
  }
  return cols / columnsPerScale;
}

function checkGroupOfRow(groupOfRow: unknown, groupCount: number, rows: number): Int32Array {
  if (!(groupOfRow instanceof Int32Array)) {
    throw new InvalidArgumentError({ argument: 'granularity.groupOfRow', value: groupOfRow, message: 'expected an Int32Array' });
  }
  if (groupOfRow.length !== rows) {
    throw new ShapeMismatchError({ tensor: 'granularity.groupOfRow', expected: `length ${rows} (one group per row)`, actual: `length ${groupOfRow.length}` });
  }
  // Stryker disable next-line EqualityOperator: with <= the extra iteration reads and writes one past the end of a typed array, which JavaScript ignores (equivalent)
  for (let r = 0; r < rows; r++) {
    const g = groupOfRow[r] as number;
    if (g < 0 || g >= groupCount) {
      throw new InvalidArgumentError({
        argument: 'granularity.groupOfRow',
        value: g,
        message: `row ${r} maps to group ${g}, outside 0..${groupCount - 1}`,
      });
    }
  }
  return groupOfRow;
}

function identityRows(rows: number): Int32Array {
  const groupOfRow = new Int32Array(rows);
  // Stryker disable next-line EqualityOperator: with <= the extra iteration reads and writes one past the end of a typed array, which JavaScript ignores (equivalent)
  for (let r = 0; r < rows; r++) groupOfRow[r] = r;
  return groupOfRow;
}

/** Validates a granularity against a `[rows, cols]` shape and resolves its scale layout. */
export function resolveScaleLayout(options: { granularity: QuantGranularity; rows: number; cols: number }): ScaleLayout {
  const { granularity, rows, cols } = options;
  switch (granularity?.kind) {
    case 'tensor': {
      const columnsPerScale = granularity.columnsPerScale ?? cols;
      const colGroups = checkColumns(cols, columnsPerScale);
      return { scaleCount: colGroups, rowGroups: 1, colGroups, columnsPerScale, groupOfRow: null };
    }
    case 'token': {
      const columnsPerScale = granularity.columnsPerScale ?? cols;
      const colGroups = checkColumns(cols, columnsPerScale);
      return { scaleCount: rows * colGroups, rowGroups: rows, colGroups, columnsPerScale, groupOfRow: identityRows(rows) };
    }
    case 'channel':
      return { scaleCount: cols, rowGroups: 1, colGroups: cols, columnsPerScale: 1, groupOfRow: null };
    case 'group': {
      const { groupCount } = granularity;
      expectPositiveInteger('granularity.groupCount', groupCount);
      const colGroups = checkColumns(cols, granularity.columnsPerScale ?? cols);
      const groupOfRow = checkGroupOfRow(granularity.groupOfRow, groupCount, rows);
      return { scaleCount: groupCount * colGroups, rowGroups: groupCount, colGroups, columnsPerScale: cols / colGroups, groupOfRow };
    }
    default:
      throw new InvalidArgumentError({
        argument: 'granularity.kind',
        value: (granularity as { kind?: unknown } | undefined)?.kind,
        message: `expected one of ${QUANT_GRANULARITY_KINDS.map((k) => `'${k}'`).join(', ')}`,
      });
  }
}
