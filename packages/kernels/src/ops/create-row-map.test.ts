import { InvalidArgumentError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../cpu/backend';
import { resetBackendCache } from '../core/loader';
import { createRowMap } from './create-row-map';

const backend = new CpuBackend();

describe('createRowMap', () => {
  it('uploads a copy of the indices and reports padding and injectivity', () => {
    const indices = Int32Array.of(2, -1, 0, 1, -1);
    const map = createRowMap({ backend, indices, targetRows: 3, name: 'perm' });
    indices[0] = 0; // the map keeps its own copy
    expect(map).toMatchObject({ kind: 'row-map', length: 5, targetRows: 3, injective: true, paddingRows: 2 });
    expect(Array.from(map.tensor.downloadSync())).toEqual([2, -1, 0, 1, -1]);
    expect(map.tensor.name).toBe('perm');
    expect(map.tensor.backend).toBe(backend);
    expect(createRowMap({ backend, indices: Int32Array.of(0, 0, -1), targetRows: 5 }).injective).toBe(false);
    expect(createRowMap({ backend, indices: new Int32Array(0), targetRows: 0 }).tensor.name).toBe('rowMap');
  });

  it('rejects entries outside -1..targetRows-1, naming the entry', () => {
    expect(() => createRowMap({ backend, indices: Int32Array.of(0, 5), targetRows: 5 })).toThrow(/entry 1 is 5: expected -1 \(padding\) or a row in 0..4/);
    expect(() => createRowMap({ backend, indices: Int32Array.of(0, -2), targetRows: 5 })).toThrow(InvalidArgumentError);
    expect(() => createRowMap({ backend, indices: Int32Array.of(0, -2), targetRows: 5 })).toThrow(/entry 1 is -2/);
    expect(() => createRowMap({ backend, indices: [0, 1] as never, targetRows: 5 })).toThrow(/expected an Int32Array of row indices/);
    expect(() => createRowMap({ backend, indices: Int32Array.of(0), targetRows: -1 })).toThrow(/expected a row count >= 0/);
    expect(() => createRowMap({ backend, indices: Int32Array.of(0), targetRows: 1.5 })).toThrow(/'targetRows'/);
  });

  it('is frozen, and dispose (or using) frees its tensor', () => {
    const map = createRowMap({ backend, indices: Int32Array.of(1, 0), targetRows: 2 });
    expect(Object.isFrozen(map)).toBe(true);
    map.dispose();
    expect(map.tensor.disposed).toBe(true);
    let escaped: typeof map | undefined;
    {
      using m = createRowMap({ backend, indices: Int32Array.of(0), targetRows: 1 });
      escaped = m;
    }
    expect(escaped.tensor.disposed).toBe(true);
  });

  it('defaults to the process backend (getBackend)', () => {
    resetBackendCache();
    const map = createRowMap({ indices: Int32Array.of(0), targetRows: 1 });
    expect(['cpu', 'cuda']).toContain(map.tensor.device);
  });
});
