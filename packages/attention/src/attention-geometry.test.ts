import { CpuBackend } from '@fpsattn/kernels';
import type { AttentionPlan } from '@fpsattn/scheduler';
import { describe, expect, it } from 'vitest';
import { AttentionGeometryCache, attentionGeometry, createAttentionGeometry, defaultAttentionGeometryCache } from './attention-geometry';
import { AttentionPlanError } from './errors';

const backend = new CpuBackend();
const sparse: AttentionPlan = { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [2, 3, 4] }, sparsity: { tile: [2, 3, 4], window: { kind: 'clamped', tiles: [1, 3, 3] } } };
const grid = { frames: 3, height: 9, width: 10 };

describe('createAttentionGeometry', () => {
  it('puts the host geometry on the device: row map, valid rows, block lists, group map', () => {
    const g = createAttentionGeometry({ backend, grid, plan: sparse });
    expect(g).toMatchObject({ order: 'tile-major-padded', dtype: 'e4m3', planHeads: null, blockRows: 128, numTokens: 270 });
    expect(g.backend).toBe(backend);
    expect(g.host.grid).toEqual({ ...grid, numTokens: 270 });
    expect(g.blockValidRows.name).toBe('attention.blockValidRows');
    expect(g.rowMap!.length).toBe(g.npad);
    expect(g.rowMap!.targetRows).toBe(270);
    expect(g.rowMap!.tensor.downloadSync()).toEqual(g.host.slotToToken);
    expect(g.blockValidRows.downloadSync()).toEqual(g.host.blockValidRows);
    expect(g.blockLists!.rowPtr.shape).toEqual([1, g.numBlocks + 1]);
    expect(g.blockLists!.rowPtr.downloadSync()).toEqual(g.host.lists!.rowPtr);
    expect(g.blockLists!.colIdx.downloadSync()).toEqual(g.host.lists!.colIdx);
    expect(g.quantGroups!.groupOfRow.downloadSync()).toEqual(g.host.groups!.groupOfRow);
    expect(g.quantGroups!.groupCount).toBe(g.host.groups!.groupCount);
    expect(g.quantGroups!.contiguous).toBe(true);
    // The quantization tile is the attention tile: one group per block, K's scales can go per block.
    expect(g.kBlockGroups!.rows).toBe(g.numBlocks);
    expect(g.kBlockGroups!.groupCount).toBe(g.quantGroups!.groupCount);
    expect(g.kBlockGroups!.groupOfRow.name).toBe('attention.groupOfBlock');
    expect(g.kBlockGroups!.groupOfRow.downloadSync()).toEqual(g.host.groups!.groupOfBlock);
    const firstRowGroups = Int32Array.from({ length: g.numBlocks }, (_, b) => g.host.groups!.groupOfRow[b * 128]!);
    expect(g.kBlockGroups!.groupOfRow.downloadSync()).toEqual(firstRowGroups); // every block has real rows, first
    g.dispose();
    expect(g.disposed).toBe(true);
    expect(g.blockValidRows.disposed && g.blockLists!.colIdx.disposed && g.quantGroups!.groupOfRow.disposed && g.rowMap!.tensor.disposed).toBe(true);
    expect(g.kBlockGroups!.groupOfRow.disposed).toBe(true);
    g.dispose(); // idempotent
  });

  it('needs no row map in raster order when the tokens fill whole blocks, and no lists or groups for dense BF16', () => {
    using g = createAttentionGeometry({ backend, grid: [2, 8, 16], plan: { mode: 'dense-bf16' } });
    expect(g.rowMap).toBeNull();
    expect(g.blockLists).toBeNull();
    expect(g.quantGroups).toBeNull();
    expect(g.npad).toBe(256);
  });

  it('has a key-block group map for per-tensor groups and for a quantization tile equal to the attention tile, not for token or smaller tiles', () => {
    const window = { kind: 'clamped' as const, tiles: [1, 3, 3] as [number, number, number] };
    const fp8Sparse = (granularity: Extract<AttentionPlan, { mode: 'fp8-sparse' }>['granularity']): AttentionPlan => ({ mode: 'fp8-sparse', granularity, sparsity: { tile: [2, 3, 4], window } });
    using tensor = createAttentionGeometry({ backend, grid, plan: { mode: 'fp8-dense', granularity: { kind: 'tensor' } } });
    expect(tensor.kBlockGroups!.groupOfRow.downloadSync()).toEqual(new Int32Array(3)); // 270 raster tokens: 128, 128, 14
    expect(tensor.kBlockGroups!.groupCount).toBe(tensor.quantGroups!.groupCount);
    using sparseTensor = createAttentionGeometry({ backend, grid, plan: fp8Sparse({ kind: 'tensor' }) });
    expect(sparseTensor.kBlockGroups!.groupOfRow.downloadSync()).toEqual(new Int32Array(sparseTensor.numBlocks));
    // Attention tiles of 180 tokens (blocks of 128 and 52 real rows) and a last one of 90 (90 and 0): each block in one tile.
    using big = createAttentionGeometry({ backend, grid, plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [2, 9, 10] }, sparsity: { tile: [2, 9, 10], window } } });
    expect(big.host.blockValidRows).toEqual(Int32Array.of(128, 52, 90, 0));
    const groupOf = big.host.groups!.groupOfRow;
    expect(big.kBlockGroups!.groupOfRow.downloadSync()).toEqual(Int32Array.of(groupOf[0]!, groupOf[0]!, groupOf[256]!, groupOf[256]!));
    expect(groupOf[0]).not.toBe(groupOf[256]);
    for (const plan of [fp8Sparse({ kind: 'token' }), fp8Sparse({ kind: 'tile', tile: [1, 3, 4] }), { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [2, 4, 3] } }, { mode: 'dense-bf16' }] as AttentionPlan[]) {
      using g = createAttentionGeometry({ backend, grid, plan });
      expect(g.kBlockGroups, JSON.stringify(plan)).toBeNull();
    }
  });

  it('reads the block from the kernel tile policy unless told, and rejects a block it cannot use', () => {
    expect(createAttentionGeometry({ backend, grid, plan: { mode: 'dense-bf16' } }).npad).toBe(384);
    expect(createAttentionGeometry({ backend, grid, plan: { mode: 'dense-bf16' }, blockRows: 16 }).npad).toBe(272);
    for (const blockRows of [6, 0, -4, 4.5, Number.NaN]) {
      expect(() => createAttentionGeometry({ backend, grid, plan: { mode: 'dense-bf16' }, blockRows }), String(blockRows)).toThrow(
        /attention: blockRows is .*: expected a positive multiple of 4/,
      );
    }
    expect(createAttentionGeometry({ backend, grid, plan: { mode: 'dense-bf16' }, blockRows: 4 }).npad).toBe(272);
  });
});

describe('AttentionGeometryCache', () => {
  it('builds a geometry once per (backend, grid, plans, block) and counts hits', () => {
    const cache = new AttentionGeometryCache();
    const a = cache.get({ backend, grid, plan: sparse });
    expect(cache.get({ backend, grid: [3, 9, 10], plan: { ...sparse } })).toBe(a);
    expect(cache.stats()).toEqual({ hits: 1, misses: 1, size: 1 });
    expect(cache.get({ backend: new CpuBackend(), grid, plan: sparse })).not.toBe(a);
    const perHead = cache.get({ backend, grid, plans: [sparse, sparse] });
    expect(perHead).not.toBe(a);
    expect(perHead.planHeads).toBe(2);
    expect(perHead.plans.plans).toEqual([sparse, sparse]);
    expect(cache.get({ backend, grid, plan: sparse, blockRows: 64 })).not.toBe(a);
    expect(cache.get({ backend, grid: [3, 9, 11], plan: sparse })).not.toBe(a);
    expect(cache.size).toBe(5);
  });

  it('evicts the least recently used geometry and disposes it', () => {
    const cache = new AttentionGeometryCache({ capacity: 2 });
    const a = cache.get({ backend, grid, plan: { mode: 'dense-bf16' } });
    const b = cache.get({ backend, grid, plan: sparse });
    expect(cache.get({ backend, grid, plan: { mode: 'dense-bf16' } })).toBe(a); // a is now the most recent
    cache.get({ backend, grid: [1, 2, 3], plan: { mode: 'dense-bf16' } });
    expect(b.disposed).toBe(true);
    expect(a.disposed).toBe(false);
    expect(cache.size).toBe(2);
  });

  it('clears (disposing everything), and rebuilds a geometry its user disposed', () => {
    const cache = new AttentionGeometryCache();
    const a = cache.get({ backend, grid, plan: sparse });
    a.dispose();
    const again = cache.get({ backend, grid, plan: sparse });
    expect(again).not.toBe(a);
    expect(again.disposed).toBe(false);
    cache.clear();
    expect(again.disposed).toBe(true);
    expect(cache.stats()).toEqual({ hits: 0, misses: 0, size: 0 });
    for (const capacity of [0, -1, 1.5]) expect(() => new AttentionGeometryCache({ capacity })).toThrow(/attention: capacity is .*: expected a positive integer/);
    expect(new AttentionGeometryCache().capacity).toBe(32);
    expect(new AttentionGeometryCache({ capacity: 1 }).capacity).toBe(1);
  });

  it('validates the plans on hits as on misses', () => {
    const cache = new AttentionGeometryCache();
    cache.get({ backend, grid, plan: sparse });
    expect(() => cache.get({ backend, grid, plan: sparse, plans: [sparse] })).toThrow(/pass either plan/);
  });

  it('keeps geometries of two backends apart', () => {
    const cache = new AttentionGeometryCache();
    const other = new CpuBackend();
    const a = cache.get({ backend, grid, plan: sparse });
    const b = cache.get({ backend: other, grid, plan: sparse });
    expect(b).not.toBe(a);
    expect(b.backend).toBe(other);
    expect(cache.get({ backend: other, grid, plan: sparse })).toBe(b);
    expect(cache.get({ backend, grid, plan: sparse })).toBe(a);
  });

  it('backs attentionGeometry, which uses the default cache unless given one', () => {
    const before = defaultAttentionGeometryCache.size;
    const g = attentionGeometry({ backend, grid: [1, 1, 5], plan: { mode: 'dense-bf16' } });
    expect(attentionGeometry({ backend, grid: [1, 1, 5], plan: { mode: 'dense-bf16' } })).toBe(g);
    expect(defaultAttentionGeometryCache.size).toBe(before + 1);
    const own = new AttentionGeometryCache();
    expect(attentionGeometry({ backend, grid: [1, 1, 5], plan: { mode: 'dense-bf16' }, cache: own })).not.toBe(g);
  });
});
