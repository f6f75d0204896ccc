import type { MemoryStats } from '../core/addon-types';
import { BaseBackend, type OpImplementation } from '../core/backend';
import type { Storage } from '../core/tensor';
import { HostStorage } from './host-storage';

/** Host tensors, and ops run by their CPU twins. Synchronous; same validation and results as the CUDA backend. */
export class CpuBackend extends BaseBackend {
  readonly name = 'cpu' as const;

  protected createStorage(byteLength: number, name: string | undefined): Storage {
    return new HostStorage({ byteLength, name, backend: this });
  }

  /** @internal */
  dispatch<R>(_op: string, implementation: OpImplementation<R>): R {
    return implementation.cpu();
  }

  synchronize(): Promise<void> {
    return Promise.resolve();
  }
  memoryStats(): MemoryStats | null {
    return null;
  }
  emptyCache(): void {}
}
