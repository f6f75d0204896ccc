import type { Backend, Tensor } from '@fpsattn/kernels';

/** Default bound on one convolution call's column matrix: 1 GiB of BF16. */
export const WAN_VAE_IM2COL_BYTES = 2 ** 30;

/**
 * The one BF16 buffer every convolution writes its columns into (convIm2col), chunk by chunk, reused from call to
 * call: work on a backend is stream-ordered, so the next chunk's columns overwrite the buffer only after the GEMM that
 * read the previous ones. It grows to the largest chunk asked for (at most `maxBytes`, the chunking bound).
 */
export class Im2colScratch implements Disposable {
  readonly backend: Backend;
  readonly maxBytes: number;
  #buffer: Tensor<'bf16'> | null = null;

  constructor(options: { backend: Backend; maxBytes: number }) {
    this.backend = options.backend;
    this.maxBytes = options.maxBytes;
  }

  /** Output pixels per chunk of a convolution with `columns` columns: as many as fit in maxBytes (at least one). */
  rowsPerChunk(columns: number): number {
    return Math.max(1, Math.floor(this.maxBytes / (2 * columns)));
  }

  /** A view [rows, columns] of the buffer (grown if needed), for one chunk; the caller disposes the view. */
  columns(rows: number, columns: number): Tensor<'bf16'> {
    const need = rows * columns;
    if (this.#buffer === null || this.#buffer.numel < need) {
      this.#buffer?.dispose();
      this.#buffer = null;
      this.#buffer = this.backend.empty([need], 'bf16', { name: 'vae.im2col' });
    }
    const flat = this.#buffer.sliceRows(0, need);
    try {
      return flat.reshape([rows, columns]);
    } finally {
      flat.dispose();
    }
  }

  dispose(): void {
    this.#buffer?.dispose();
    this.#buffer = null;
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}
