// The composed op's CUDA path without a GPU: a CUDA backend over a stand-in addon that keeps host memory behind handles
// and records every native op call (computing nothing). It checks the sequence of kernels one call launches, the
// params that tie them together, and that every intermediate tensor goes back to the pool.
import { CudaBackend, type NativeAddon, type NativeDeviceInfo } from '@fpsattn/kernels';
import type { AttentionPlan } from '@fpsattn/scheduler';
import { describe, expect, it } from 'vitest';
import { attention } from './attention';
import { AttentionGeometryCache } from './attention-geometry';

interface Call {
  name: string;
  params: Record<string, unknown>;
}

function fakeCuda() {
  const blocks = new Map<number, Uint8Array>();
  const calls: Call[] = [];
  let next = 1;
  let allocs = 0;
  const base = {
    alloc(bytes: number) {
      allocs++;
      blocks.set(next, new Uint8Array(bytes));
      return next++;
    },
    free(handle: number) {
      blocks.delete(handle);
    },
    upload(handle: number, byteOffset: number, data: ArrayBufferView) {
      blocks.get(handle)!.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), byteOffset);
    },
    downloadSync<T extends ArrayBufferView>(handle: number, byteOffset: number, target: T): T {
      new Uint8Array(target.buffer, target.byteOffset, target.byteLength).set(blocks.get(handle)!.subarray(byteOffset, byteOffset + target.byteLength));
      return target;
    },
    memset(handle: number, byteOffset: number, byteLength: number, value: number) {
      blocks.get(handle)!.fill(value, byteOffset, byteOffset + byteLength);
    },
    emptyCache() {},
    allocatorStats: () => ({ allocRequests: allocs, cacheHits: 0, cudaMallocCalls: 0, cudaFreeCalls: 0, liveBlocks: blocks.size, bytesInUse: 0, bytesCached: 0, peakBytesInUse: 0, oomRetries: 0 }),
    synchronize: async () => {},
  };
  const addon = new Proxy(base, {
    get(target, prop) {
      if (prop in target) return target[prop as keyof typeof target];
      if (prop === 'then') return undefined;
      return (params: Record<string, unknown>) => {
        calls.push({ name: String(prop), params });
        return prop === 'quantizeRows' ? { path: 'fused' } : undefined;
      };
    },
  }) as unknown as NativeAddon;
  const backend = new CudaBackend(addon, { name: 'fake', major: 9, minor: 0 } as NativeDeviceInfo);
  return { backend, calls, allocs: () => allocs };
}

const handle = (ref: unknown) => (ref as { handle: number } | null)?.handle;
const storageHandle = (t: { storage: unknown }) => (t.storage as { handle: number }).handle;

describe('attention on a CUDA backend (stand-in addon)', () => {
  const tile: [number, number, number] = [2, 3, 4];
  const plan: AttentionPlan = { mode: 'fp8-sparse', granularity: { kind: 'tile', tile }, sparsity: { tile, window: { kind: 'clamped', tiles: [1, 3, 3] } } };
  const grid: [number, number, number] = [3, 9, 10]; // 270 tokens, 18 tiles of up to 24 tokens: one 128-row block each

  it('launches gather, K mean, Q/K quantization, scale expansion, V quantization, attention and scatter, in order', () => {
    const { backend, calls } = fakeCuda();
    const cache = new AttentionGeometryCache();
    const t = (name: string) => backend.empty([2, 270, 256], 'bf16', { name });
    const [q, k, v] = [t('q'), t('k'), t('v')];
    const out = attention({ q, k, v, grid, plan, kSmoothing: true, cache });
    expect(calls.map((c) => c.name)).toEqual([
      ...new Array(6).fill('permuteRows'), // q, k, v per batch item (v with its amax)
      'channelMean',
      'channelMean',
      'quantizeRows',
      'quantizeRows',
      'expandRowScales',
      'quantizeRows',
      'quantizeRows',
      'expandRowScales',
      'quantizeV',
      'quantizeV',
      'attention',
      'permuteRows',
      'permuteRows',
    ]);
    const g = cache.get({ backend, grid, plan });
    const byName = (name: string) => calls.filter((c) => c.name === name).map((c) => c.params);
    const [gq0, , , , gv0, gv1] = byName('permuteRows');
    expect(gq0).toMatchObject({ src: { handle: storageHandle(q), byteOffset: 0 }, rowMap: { handle: storageHandle(g.rowMap!.tensor) }, scatter: false, amax: null });
    expect(gv0!.amax).not.toBeNull();
    expect(gv1).toMatchObject({ src: { byteOffset: 270 * 256 * 2 } });
    const [mean0, mean1] = byName('channelMean');
    expect(mean0).toMatchObject({ rows: 270, cols: 256, x: { byteOffset: 0 } });
    expect(mean1).toMatchObject({ x: { byteOffset: 270 * 256 * 2 } });
    const quant = byName('quantizeRows');
    expect(quant.map((p) => p.mean === null)).toEqual([true, true, false, false]); // Q plain, K smoothed
    expect(handle(quant[2]!.mean)).toBe(handle(mean0!.mean));
    expect(handle(quant[3]!.mean)).toBe(handle(mean1!.mean));
    for (const p of quant) expect(p).toMatchObject({ rows: g.npad, cols: 256, headDim: 128, heads: 2, groupCount: g.quantGroups!.groupCount, format: 'e4m3', path: 'auto' });
    expect(quant[1]!.x).toMatchObject({ byteOffset: g.npad * 256 * 2 });
    expect(quant[1]!.scales).toMatchObject({ byteOffset: g.quantGroups!.groupCount * 2 * 4 });
    const [vq0, vq1] = byName('quantizeV');
    expect(vq0).toMatchObject({ rows: g.npad, cols: 256, tokenStride: g.npad, format: 'e4m3' });
    expect(handle(vq0!.amax)).toBe(handle(gv0!.amax));
    expect(vq1!.codesT).toMatchObject({ byteOffset: 256 * g.npad });
    const [att] = byName('attention');
    expect(att).toMatchObject({ batch: 2, heads: 2, headDim: 128, numBlocks: g.numBlocks, listHeads: 1, npad: g.npad, vTokenStride: g.npad, dtype: 'e4m3' });
    expect(handle(att!.q)).toBe(handle(quant[0]!.codes));
    expect(handle(att!.k)).toBe(handle(quant[2]!.codes));
    // Q's scales per row; K's per key block (the quantization tile is the attention tile: one group per block).
    const [qExpand, kExpand] = byName('expandRowScales');
    expect(g.kBlockGroups).not.toBeNull();
    expect(qExpand).toMatchObject({ groupOfRow: { handle: storageHandle(g.quantGroups!.groupOfRow) }, batch: 2, heads: 2, rows: g.npad, groupCount: g.quantGroups!.groupCount });
    expect(kExpand).toMatchObject({ groupOfRow: { handle: storageHandle(g.kBlockGroups!.groupOfRow) }, batch: 2, heads: 2, rows: g.numBlocks, groupCount: g.quantGroups!.groupCount });
    expect(handle(kExpand!.scales)).toBe(handle(quant[2]!.scales)); // K's table
    expect(handle(att!.qScale)).toBe(handle(qExpand!.out));
    expect(att!.kScale).toBeNull();
    expect(handle(att!.kBlockScale)).toBe(handle(kExpand!.out));
    expect(handle(att!.v)).toBe(handle(vq0!.codesT));
    expect(handle(att!.rowPtr)).toBe(storageHandle(g.blockLists!.rowPtr));
    const scatter = byName('permuteRows').slice(6);
    expect(scatter.map((p) => p.scatter)).toEqual([true, true]);
    expect(handle(scatter[0]!.src)).toBe(handle(att!.out));
    expect(handle(scatter[1]!.dst)).toBe(storageHandle(out));
    expect(out.shape).toEqual([2, 270, 256]);
  });

  it('sends K per row where a block holds rows of several groups (per-token granularity)', () => {
    const { backend, calls } = fakeCuda();
    const cache = new AttentionGeometryCache();
    const t = () => backend.empty([1, 270, 256], 'bf16');
    const tokenPlan: AttentionPlan = { mode: 'fp8-sparse', granularity: { kind: 'token' }, sparsity: plan.sparsity };
    attention({ q: t(), k: t(), v: t(), grid, plan: tokenPlan, cache });
    const g = cache.get({ backend, grid, plan: tokenPlan });
    expect(g.kBlockGroups).toBeNull();
    const expand = calls.filter((c) => c.name === 'expandRowScales').map((c) => c.params);
    expect(expand.map((p) => [handle(p.groupOfRow), p.rows])).toEqual([
      [storageHandle(g.quantGroups!.groupOfRow), g.npad],
      [storageHandle(g.quantGroups!.groupOfRow), g.npad],
    ]);
    const att = calls.find((c) => c.name === 'attention')!.params;
    expect(att.kBlockScale).toBeNull();
    expect(handle(att.qScale)).toBe(handle(expand[0]!.out));
    expect(handle(att.kScale)).toBe(handle(expand[1]!.out));
  });

  it('gives every intermediate back: a second call allocates nothing new', () => {
    const { backend, allocs } = fakeCuda();
    const cache = new AttentionGeometryCache();
    const t = () => backend.empty([1, 270, 256], 'bf16');
    const [q, k, v] = [t(), t(), t()];
    cache.get({ backend, grid, plan });
    const before = allocs();
    const first = attention({ q, k, v, grid, plan, kSmoothing: true, cache });
    const made = allocs() - before;
    expect(backend.memoryStats().pooledStorages).toBe(made - 1); // everything but the output is back in the pool
    first.dispose();
    attention({ q, k, v, grid, plan, kSmoothing: true, cache }).dispose();
    expect(allocs() - before).toBe(made);
    expect(backend.memoryStats().pooledStorages).toBe(made);
  });

  it('runs dense BF16 on raster tensors with no gather and no scatter when the tokens fill whole blocks', () => {
    const { backend, calls } = fakeCuda();
    const t = () => backend.empty([1, 256, 128], 'bf16');
    const [q, k, v] = [t(), t(), t()];
    const out = attention({ q, k, v, grid: [1, 16, 16], plan: { mode: 'dense-bf16' }, cache: new AttentionGeometryCache() });
    expect(calls.map((c) => c.name)).toEqual(['attention']);
    expect(calls[0]!.params).toMatchObject({ dtype: 'bf16', rowPtr: null, colIdx: null, qScale: null, npad: 256, numBlocks: 2 });
    expect(handle(calls[0]!.params.q)).toBe(storageHandle(q));
    expect(handle(calls[0]!.params.out)).toBe(storageHandle(out));
  });
});
