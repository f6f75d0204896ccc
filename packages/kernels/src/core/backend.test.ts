import { describe, expect, it } from 'vitest';
import { fakeCudaBackend } from '../_test/fake-addon';
import { thrown } from '../_test/thrown';

describe('BaseBackend.fromArray', () => {
  it('frees the tensor it allocated when the upload fails', () => {
    const { backend, addon } = fakeCudaBackend();
    (addon as unknown as { upload: () => void }).upload = () => {
      throw Object.assign(new Error('fpsattn.upload: cudaMemcpyAsync failed'), { code: 'FPSATTN_CUDA_ERROR' });
    };
    expect(thrown(() => backend.fromArray(new Float32Array(4), [4], 'f32', { name: 'w' }))).toMatchObject({ name: 'CudaError', call: 'upload' });
    expect(backend.memoryStats().pooledStorages).toBe(1); // disposed: its block waits in the pool
  });
});
