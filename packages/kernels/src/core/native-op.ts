// The TypeScript side of one native op: its params field table, from which the params and result types are derived.
// native/src/ops/<op>.cpp holds the same table for the binding's reader; src/core/native-op.test.ts compares the two
// through the addon's opDescriptions() export, so a field added on one side only fails a test.
import type { NativeTensorRef } from './addon-types';

/** A field of a native params object: a device tensor, an optional one (null), an integer, a float, a flag, or one of
 * a list of strings (no magic integers cross the boundary). */
export type NativeFieldType = 'tensor' | 'tensor?' | 'int' | 'float' | 'bool' | readonly string[];
export type NativeFields = Readonly<Record<string, NativeFieldType>>;

type FieldValue<T extends NativeFieldType> = T extends 'tensor'
  ? NativeTensorRef
  : T extends 'tensor?'
    ? NativeTensorRef | null
    : T extends 'int' | 'float'
      ? number
      : T extends 'bool'
        ? boolean
        : T extends readonly (infer S)[]
          ? S
          : never;

/** The JS object a native op takes (or returns), typed from its field table. */
export type NativeParams<F extends NativeFields> = { -readonly [K in keyof F]: FieldValue<F[K]> };
export type NativeResult<R extends NativeFields | null> = R extends NativeFields ? NativeParams<R> : void;

/** One native op: the addon export `name`, the params it reads, what it returns (null: nothing). */
export interface NativeOp<F extends NativeFields = NativeFields, R extends NativeFields | null = NativeFields | null> {
  readonly name: string;
  readonly fields: F;
  readonly result: R;
}

/** Declares a native op (a frozen description; the types of its params and result follow from it). */
export function defineNativeOp<const F extends NativeFields, const R extends NativeFields | null>(op: {
  name: string;
  fields: F;
  result: R;
}): NativeOp<F, R> {
  return Object.freeze({ name: op.name, fields: Object.freeze({ ...op.fields }), result: op.result });
}

/** One field as the addon's `opDescriptions()` lists it (ranges and C++ names left out). */
export interface NativeFieldDescription {
  name: string;
  type: 'tensor' | 'tensor?' | 'int' | 'float' | 'bool' | 'enum';
  values?: string[];
}

/** A native op in the addon's description format, for comparing the TS declaration with the binding's table. */
export function describeNativeOp(op: NativeOp): { name: string; fields: NativeFieldDescription[]; result: NativeFieldDescription[] | null } {
  const list = (fields: NativeFields): NativeFieldDescription[] =>
    Object.entries(fields).map(([name, type]) =>
      typeof type === 'string' ? { name, type } : { name, type: 'enum' as const, values: [...type] },
    );
  return { name: op.name, fields: list(op.fields), result: op.result === null ? null : list(op.result) };
}
