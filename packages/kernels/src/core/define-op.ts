import { InvalidArgumentError } from '@fpsattn/fp8';
import type { NativeOp } from './native-op';

/**
 * How closely an op's backends agree. Data movement and quantization are `'bit-exact'`: the CUDA kernel and the CPU
 * twin give the same bits. Ops whose GPU accumulation order differs (attention, GEMM, norms) declare a tolerance,
 * checked against a float64 reference: the kernel's error at most `referenceErrorFactor` times the error of a
 * same-precision reference (FlashAttention's rule), and/or absolute and relative bounds.
 */
export type Exactness =
  | 'bit-exact'
  | {
      readonly tolerance: {
        readonly referenceErrorFactor?: number;
        readonly atol?: number;
        readonly rtol?: number;
        /** What the reference is and why this bound holds. */
        readonly note?: string;
      };
    };

/** What an op declares about itself: its name, how exact its backends are, and the native op its CUDA side calls. */
export interface OpInfo {
  readonly name: string;
  readonly exactness: Exactness;
  /** The native op called on CUDA (null for ops without one). */
  readonly native: NativeOp | null;
}

/** An op: a function of one options object, carrying its `info`. */
export type KernelOp<F extends (options: never) => unknown = (options: never) => unknown> = F & { readonly info: OpInfo };

/**
 * Makes `run` an op: checks that it is called with one options object, names the function after the op, and
 * attaches `info` (frozen). `run` validates its options, allocates its outputs and calls `backend.dispatch`.
 */
export function defineOp<F extends (options: never) => unknown>(info: OpInfo, run: F): KernelOp<F> {
  const frozen = Object.freeze({ ...info });
  const op = (options: unknown): unknown => {
    if (options === null || typeof options !== 'object') {
      throw new InvalidArgumentError({ argument: 'options', value: options, message: `${frozen.name} takes one options object, e.g. ${frozen.name}({ ... })` });
    }
    return (run as unknown as (options: unknown) => unknown)(options);
  };
  Object.defineProperty(op, 'name', { value: frozen.name });
  Object.defineProperty(op, 'info', { value: frozen, enumerable: true });
  return op as unknown as KernelOp<F>;
}
