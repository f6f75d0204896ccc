import { InvalidArgumentError } from './errors/invalid-argument-error';
import { ShapeMismatchError } from './errors/shape-mismatch-error';
import { expectPositiveInteger } from './_validate';

/**
 * Which elements of a [rows, cols] tensor share one scale.
 *
 * - `tensor`: one scale (P in FPSAttention).
 * - `channel`: one scale per column, i.e. per channel of the last axis (V).
 * - `group`: rows are mapped to groups by `groupOfRow`, and each group has one scale per block of `columnsPerScale`
 *   columns (default: all of them). 3D token tiles, per-token and per-block granularities are all groups; with
 *   [tokens, heads x headDim] tensors, `columnsPerScale: headDim` gives one scale per (group, head).
 */
export type QuantGranularity =
  | { readonly kind: 'tensor' }
  | { readonly kind: 'channel' }
  | {
      readonly kind: 'group';
      readonly groupOfRow: Int32Array;
      readonly groupCount: number;
      readonly columnsPerScale?: number;
    };

export const perTensor = (): QuantGranularity => ({ kind: 'tensor' });
export const perChannel = (): QuantGranularity => ({ kind: 'channel' });

export function perGroup(options: { groupOfRow: Int32Array; groupCount: number; columnsPerScale?: number }): QuantGranularity {
  return { kind: 'group', ...options };
}

/** One scale per row (per token), optionally per block of columns. */
export function perToken(options: { rows: number; columnsPerScale?: number }): QuantGranularity {
  expectPositiveInteger('rows', options.rows);
  const groupOfRow = new Int32Array(options.rows);
  for (let r = 0; r < options.rows; r++) groupOfRow[r] = r;
  return { kind: 'group', groupOfRow, groupCount: options.rows, columnsPerScale: options.columnsPerScale };
}

/** Resolved layout of the scales for a tensor shape: scale of (r, c) = scales[rowGroup(r) * colGroups + c / width]. */
export interface ScaleLayout {
  readonly scaleCount: number;
  readonly colGroups: number;
  readonly columnsPerScale: number;
  /** Row -> row group, or null when every row is in group 0. */
  readonly groupOfRow: Int32Array | null;
}

/** Validates a granularity against a shape and resolves its scale layout. */
export function resolveScaleLayout(granularity: QuantGranularity, rows: number, cols: number): ScaleLayout {
  switch (granularity?.kind) {
    case 'tensor':
      return { scaleCount: 1, colGroups: 1, columnsPerScale: cols, groupOfRow: null };
    case 'channel':
      return { scaleCount: cols, colGroups: cols, columnsPerScale: 1, groupOfRow: null };
    case 'group': {
      const { groupOfRow, groupCount } = granularity;
      const columnsPerScale = granularity.columnsPerScale ?? cols;
      expectPositiveInteger('granularity.groupCount', groupCount);
      expectPositiveInteger('granularity.columnsPerScale', columnsPerScale);
      if (cols % columnsPerScale !== 0) {
        throw new InvalidArgumentError({
          argument: 'granularity.columnsPerScale',
          value: columnsPerScale,
          message: `must divide the column count ${cols}`,
        });
      }
      if (!(groupOfRow instanceof Int32Array)) {
        throw new InvalidArgumentError({ argument: 'granularity.groupOfRow', value: groupOfRow, message: 'expected an Int32Array' });
      }
      if (groupOfRow.length !== rows) {
        throw new ShapeMismatchError({ tensor: 'granularity.groupOfRow', expected: `length ${rows} (one group per row)`, actual: `length ${groupOfRow.length}` });
      }
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
      const colGroups = cols / columnsPerScale;
      return { scaleCount: groupCount * colGroups, colGroups, columnsPerScale, groupOfRow };
    }
    default:
      throw new InvalidArgumentError({
        argument: 'granularity.kind',
        value: (granularity as { kind?: unknown } | undefined)?.kind,
        message: "expected 'tensor', 'channel' or 'group'",
      });
  }
}
