import { InvalidArgumentError } from '@fpsattn/fp8';
import { createTileLayout } from '@fpsattn/tiling';
import { describe, expect, it } from 'vitest';
import { CpuBackend } from '../cpu/backend';
import { fakeCudaBackend } from '../_test/fake-addon';
import { groupOfRuns } from '../testing';
import { createGroupMap } from './create-group-map';

const backend = new CpuBackend();

describe('createGroupMap', () => {
  it('detects contiguous runs (the fused path) and records their starts', () => {
    const layout = createTileLayout({ grid: { frames: 3, height: 5, width: 16 }, tile: [3, 5, 8] });
    const g = createGroupMap({ backend, groupOfRow: groupOfRuns(layout.tileOffsets), groupCount: layout.numTiles, name: 'tiles' });
    expect(g).toMatchObject({ kind: 'group-map', rows: 240, groupCount: 2, contiguous: true, maxGroupRows: 120 });
    expect(Array.from(g.groupStart!.downloadSync())).toEqual([0, 120, 240]);
    expect(g.groupStart!.name).toBe('tiles.groupStart');
    expect(g.groupOfRow.name).toBe('tiles');
    expect(Object.isFrozen(g)).toBe(true);
  });

  it('counts groups from the largest when groupCount is omitted, and non-ascending maps are not contiguous', () => {
    const nc = createGroupMap({ backend, groupOfRow: Int32Array.of(1, 0, 1) });
    expect(nc).toMatchObject({ contiguous: false, groupCount: 2, maxGroupRows: 2, groupStart: null });
    expect(nc.groupOfRow.name).toBe('groupOfRow');
    const withEmpty = createGroupMap({ backend, groupOfRow: Int32Array.of(0, 0, 2), groupCount: 4 });
    expect(withEmpty).toMatchObject({ contiguous: true, groupCount: 4, maxGroupRows: 2 });
    expect(Array.from(withEmpty.groupStart!.downloadSync())).toEqual([0, 2, 2, 3, 3]);
  });

  it('rejects negative groups, groups past groupCount and bad counts', () => {
    expect(() => createGroupMap({ backend, groupOfRow: Int32Array.of(0, 3), groupCount: 2 })).toThrow(/row 1 maps to group 3, outside 0..1/);
    expect(() => createGroupMap({ backend, groupOfRow: Int32Array.of(0, 2, 3), groupCount: 2 })).toThrow(/row 1 maps to group 2, outside 0..1/); // the first row past the count
    expect(() => createGroupMap({ backend, groupOfRow: Int32Array.of(0, -1) })).toThrow(/row 1 maps to group -1; groups are >= 0/);
    expect(() => createGroupMap({ backend, groupOfRow: Int32Array.of(0), groupCount: 0 })).toThrow(/expected an integer in 1..2\^31-1/);
    expect(() => createGroupMap({ backend, groupOfRow: Int32Array.of(0), groupCount: 2 ** 31 })).toThrow(InvalidArgumentError);
    expect(() => createGroupMap({ backend, groupOfRow: Int32Array.of(0), groupCount: 1.5 })).toThrow(/'groupCount'/);
    expect(() => createGroupMap({ backend, groupOfRow: new Int32Array(0) })).toThrow(/'groupCount'/);
    expect(() => createGroupMap({ backend, groupOfRow: [0] as never })).toThrow(/expected an Int32Array \(group of each row\)/);
  });

  it('dispose frees both tensors; a failed upload of the starts frees the first', () => {
    const g = createGroupMap({ backend, groupOfRow: Int32Array.of(0, 1) });
    g[Symbol.dispose]();
    expect(g.groupOfRow.disposed).toBe(true);
    expect(g.groupStart!.disposed).toBe(true);
    const nc = createGroupMap({ backend, groupOfRow: Int32Array.of(1, 0) }); // no starts to free
    nc.dispose();
    expect(nc.groupOfRow.disposed).toBe(true);
    const { backend: cuda, live } = fakeCudaBackend({ capacityBytes: 10 });
    expect(() => createGroupMap({ backend: cuda, groupOfRow: Int32Array.of(0, 1) })).toThrow(/out of device memory/);
    cuda.emptyCache();
    expect(live.size).toBe(0);
  });
});
