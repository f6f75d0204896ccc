import type { Backend } from '../core/backend';
import { type DType, type HostArrayOf, viewAs } from '../core/dtype';
import { OutOfMemoryError } from '../core/errors';
import type { Storage, Tensor } from '../core/tensor';

/** Host-memory storage of the CPU backend. */
export class HostStorage implements Storage {
  readonly device = 'cpu' as const;
  readonly backend: Backend;
  readonly bytes: Uint8Array;
  #refs = 0;
  #freed = false;
  constructor(options: { byteLength: number; name?: string | undefined; backend: Backend }) {
    const name = options.name ?? 'tensor';
    this.backend = options.backend;
    try {
      this.bytes = new Uint8Array(options.byteLength);
    } catch (e) {
      throw new OutOfMemoryError({
        call: `allocate ${name}`,
        message: `out of host memory: ${options.byteLength} bytes for '${name}' (${(e as Error).message})`,
        requestedBytes: options.byteLength,
        cause: e,
      });
    }
  }
  get byteLength(): number {
    return this.bytes.byteLength;
  }
  get live(): boolean {
    return !this.#freed;
  }
  retain(): void {
    this.#refs++;
  }
  release(): void {
    if (--this.#refs <= 0) this.#freed = true;
  }
  write(byteOffset: number, bytes: Uint8Array): void {
    this.bytes.set(bytes, byteOffset);
  }
  readSync(byteOffset: number, target: Uint8Array): void {
    target.set(this.bytes.subarray(byteOffset, byteOffset + target.byteLength));
  }
  read(byteOffset: number, target: Uint8Array): Promise<void> {
    this.readSync(byteOffset, target);
    return Promise.resolve();
  }
  fill(byteOffset: number, byteLength: number, value: number): void {
    this.bytes.fill(value, byteOffset, byteOffset + byteLength);
  }
}

/** The host array view of a CPU tensor's elements (no copy). */
export function hostView<D extends DType>(t: Tensor<D>): HostArrayOf[D] {
  return viewAs(t.dtype, hostBytes(t));
}

/** The bytes of a CPU tensor (no copy): ops that move rows are dtype-agnostic. */
export function hostBytes(t: Tensor): Uint8Array {
  // Stryker disable next-line ConditionalExpression,BlockStatement: ops reach here only through the CPU backend's dispatch, whose inputs were checked to be its own tensors
  if (!(t.storage instanceof HostStorage)) throw new Error(`internal: ${t.name} is not a CPU tensor`);
  return t.storage.bytes.subarray(t.byteOffset, t.byteOffset + t.byteLength);
}
