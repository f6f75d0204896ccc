import { describe, expect, it } from 'vitest';
import { fakeCudaBackend } from '../../_test/fake-addon';
import { CpuBackend } from '../../cpu/backend';
import { createGroupMap } from '../create-group-map';
import { expandRowScales, expandRowScalesCpu } from './expand-row-scales';

const backend = new CpuBackend();

describe('expandRowScales', () => {
  it('gives every (batch, head, row) the scale of its group in its batch item, bit for bit', () => {
    const groupOfRow = Int32Array.from([0, 0, 2, 2, 2, 1, 3, 3]);
    const groupCount = 4;
    const batch = 2;
    const heads = 3;
    const table = Float32Array.from({ length: batch * groupCount * heads }, (_, i) => Math.fround(1 / (i + 3)));
    const groups = createGroupMap({ backend, groupOfRow, groupCount });
    const scales = backend.fromArray(table, [batch * groupCount, heads], 'f32');
    const out = expandRowScales({ scales, groups });
    expect(out.shape).toEqual([batch, heads, 8]);
    const values = out.downloadSync();
    for (let b = 0; b < batch; b++)
      for (let h = 0; h < heads; h++)
        for (let r = 0; r < 8; r++) expect(values[(b * heads + h) * 8 + r]).toBe(table[(b * groupCount + groupOfRow[r]!) * heads + h]);
    expect(expandRowScalesCpu({ scales: table, groupOfRow, batch, heads, groupCount })).toEqual(values);
  });

  it('writes into out, and rejects a table that is not whole batch items of the map', () => {
    const groups = createGroupMap({ backend, groupOfRow: new Int32Array(4), groupCount: 4 });
    const scales = backend.fromArray(new Float32Array(8).fill(2), [4, 2], 'f32');
    const out = backend.empty([1, 2, 4], 'f32');
    expect(expandRowScales({ scales, groups, out })).toBe(out);
    expect([...out.downloadSync()]).toEqual(new Array(8).fill(2));
    const bad = backend.fromArray(new Float32Array(12), [6, 2], 'f32');
    expect(() => expandRowScales({ scales: bad, groups })).toThrow(/'scales'.*batch \* 4/);
    expect(() => expandRowScales({ scales, groups, out: backend.empty([1, 2, 5], 'f32') })).toThrow(/'out'/);
    expect(() => expandRowScales({ scales: backend.empty([4, 2], 'bf16') as never, groups })).toThrow(/dtype f32/);
  });

  it('sends its declared params on CUDA, and says the addon lacks the op when it does', () => {
    const { backend: cuda, addon, opCalls } = fakeCudaBackend();
    const groups = createGroupMap({ backend: cuda, groupOfRow: Int32Array.from([0, 1, 1, 2]), groupCount: 4 });
    const scales = cuda.empty([8, 3], 'f32');
    expect(() => expandRowScales({ scales, groups })).toThrow(/the addon has no 'expandRowScales' export: rebuild native\//);
    (addon as unknown as Record<string, unknown>).expandRowScales = (params: Record<string, unknown>) => void opCalls.push({ name: 'expandRowScales', params });
    const out = expandRowScales({ scales, groups });
    expect(opCalls[0]).toMatchObject({ name: 'expandRowScales', params: { batch: 2, heads: 3, rows: 4, groupCount: 4 } });
    expect(Object.keys(opCalls[0]!.params)).toEqual(['scales', 'groupOfRow', 'out', 'batch', 'heads', 'rows', 'groupCount']);
    expect(out.shape).toEqual([2, 3, 4]);
  });
});
