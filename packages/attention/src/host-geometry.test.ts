import type { AttentionPlan } from '@fpsattn/scheduler';
import { type WindowSpec, createTokenGrid } from '@fpsattn/tiling';
import { bruteForceTileId, bruteForceTilePermutation, bruteForceTokenMask } from '@fpsattn/tiling/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { resolvePlans } from './_plans';
import { AttentionPlanError } from './errors';
import { type HostGeometry, buildHostGeometry } from './host-geometry';

type Grid = [number, number, number];
const gridDims = (g: Grid) => ({ frames: g[0], height: g[1], width: g[2] });

function geometry(grid: Grid, plans: { plan?: AttentionPlan; plans?: AttentionPlan[] }, blockRows: number): HostGeometry {
  return buildHostGeometry({ grid: createTokenGrid(grid), plans: resolvePlans(plans), blockRows });
}

const clamped = (tiles: Grid) => ({ kind: 'clamped' as const, tiles });
const tile: Grid = [2, 3, 4];

interface Case {
  name: string;
  grid: Grid;
  blockRows: number;
  plan?: AttentionPlan;
  plans?: AttentionPlan[];
}

/** Rows of the order that pads every tile to whole blocks, counted from brute-force tile ids. */
function bruteForcePaddedRows(options: { grid: { frames: number; height: number; width: number }; tile: readonly [number, number, number]; blockRows: number }): number {
  const { grid, tile, blockRows } = options;
  const sizes = new Map<number, number>();
  for (let token = 0; token < grid.frames * grid.height * grid.width; token++) {
    const id = bruteForceTileId({ grid, tile, token });
    sizes.set(id, (sizes.get(id) ?? 0) + 1);
  }
  let rows = 0;
  for (const size of sizes.values()) rows += Math.ceil(size / blockRows) * blockRows;
  return rows;
}

const cases: Case[] = [
  { name: 'sparse, clamped, tiles of 3 blocks, partial tiles with empty blocks', grid: [3, 9, 10], blockRows: 8, plan: { mode: 'sparse-bf16', sparsity: { tile, window: clamped([1, 3, 3]) } } },
  { name: 'sparse, seed window, tiles of one block', grid: [4, 7, 9], blockRows: 32, plan: { mode: 'sparse-bf16', sparsity: { tile, window: { kind: 'seed', tokens: [4, 6, 8] } } } },
  { name: 'sparse with the kernel block (128)', grid: [3, 9, 10], blockRows: 128, plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile }, sparsity: { tile, window: clamped([2, 1, 3]) } } },
  { name: 'fp8-sparse, finer quantization slabs', grid: [3, 9, 10], blockRows: 8, plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [1, 3, 4] }, sparsity: { tile, window: clamped([1, 3, 3]) } } },
  { name: 'fp8-sparse, coarser quantization tile (two attention tiles along w)', grid: [4, 6, 8], blockRows: 8, plan: { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: [2, 3, 8] }, sparsity: { tile, window: clamped([1, 1, 3]) } } },
  { name: 'fp8-sparse per token', grid: [3, 9, 10], blockRows: 16, plan: { mode: 'fp8-sparse', granularity: { kind: 'token' }, sparsity: { tile, window: clamped([1, 1, 1]) } } },
  { name: 'fp8-sparse per tensor', grid: [3, 9, 10], blockRows: 16, plan: { mode: 'fp8-sparse', granularity: { kind: 'tensor' }, sparsity: { tile, window: clamped([3, 3, 3]) } } },
  {
    name: 'per-head windows with a dense head',
    grid: [3, 9, 10],
    blockRows: 16,
    plans: [
      { mode: 'fp8-sparse', granularity: { kind: 'token' }, sparsity: { tile, window: clamped([1, 3, 3]) } },
      { mode: 'fp8-dense', granularity: { kind: 'token' } },
      { mode: 'fp8-sparse', granularity: { kind: 'token' }, sparsity: { tile, window: { kind: 'seed', tokens: [2, 6, 8] } } },
      { mode: 'fp8-sparse', granularity: { kind: 'token' }, sparsity: { tile, window: clamped([1, 3, 3]) } },
    ],
  },
  {
    name: 'per-head plans with one window: one shared list',
    grid: [3, 9, 10],
    blockRows: 16,
    plans: [
      { mode: 'sparse-bf16', sparsity: { tile, window: clamped([1, 3, 3]) } },
      { mode: 'sparse-bf16', sparsity: { tile, window: clamped([1, 3, 3]) } },
    ],
  },
  { name: 'dense BF16: raster, padded at the end', grid: [3, 9, 10], blockRows: 128, plan: { mode: 'dense-bf16' } },
  { name: 'dense FP8 per tensor: raster', grid: [3, 9, 10], blockRows: 64, plan: { mode: 'fp8-dense', granularity: { kind: 'tensor' } } },
  { name: 'dense FP8 per tile: quantization-tile-major', grid: [3, 9, 10], blockRows: 64, plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [2, 4, 3] } } },
  { name: 'dense FP8 per tile, tiles that pad to whole blocks for free here: quantization tiles padded', grid: [3, 10, 16], blockRows: 128, plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [3, 5, 8] } } },
  { name: "dense FP8 per tile, Wan's (3, 5, 8) tiles adding 5.3% rows: compact (per-row K scales)", grid: [3, 25, 32], blockRows: 128, plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [3, 5, 8] } } },
  { name: 'dense FP8 per tile, tiles of whole blocks: quantization tiles padded (no padding rows)', grid: [4, 8, 16], blockRows: 128, plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [2, 8, 8] } } },
  { name: 'dense FP8 per tile, ragged edge tiles padded', grid: [4, 7, 9], blockRows: 16, plan: { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 4, 4] } } },
  { name: 'dense, tokens a multiple of the block: the identity', grid: [2, 8, 16], blockRows: 128, plan: { mode: 'fp8-dense', granularity: { kind: 'token' } } },
];

function plansOf(c: Case): AttentionPlan[] {
  return c.plans ?? [c.plan as AttentionPlan];
}

describe('buildHostGeometry', () => {
  describe.each(cases)('$name', (c) => {
    // Built inside each test (not while collecting), so that a failure is that test's.
    let g: HostGeometry;
    beforeEach(() => {
      g = geometry(c.grid, { plan: c.plan, plans: c.plans }, c.blockRows);
    });
    const n = c.grid[0] * c.grid[1] * c.grid[2];
    const real = (s: number) => g.slotToToken[s]! >= 0;

    it('holds every real token exactly once, padded to whole blocks', () => {
      expect(g.npad).toBe(g.numBlocks * c.blockRows);
      expect(g.slotToToken.length).toBe(g.npad);
      const seen = new Array<number>(n).fill(0);
      for (const t of g.slotToToken) if (t >= 0) seen[t]!++;
      expect(seen.every((count) => count === 1)).toBe(true);
      expect(g.identity).toBe(g.npad === n && g.slotToToken.every((t, i) => t === i));
    });

    it('orders the tokens as its order says', () => {
      const realTokens = [...g.slotToToken].filter((t) => t >= 0);
      const sparse = plansOf(c).find((p) => p.mode === 'sparse-bf16' || p.mode === 'fp8-sparse') as Extract<AttentionPlan, { mode: 'fp8-sparse' }> | undefined;
      const granularity = sparse ? null : (plansOf(c)[0] as Extract<AttentionPlan, { mode: 'fp8-dense' }>).granularity;
      // Dense 'tile' granularity pads each quantization tile to whole blocks when that adds at most 5% rows.
      const denseTile = granularity?.kind === 'tile' ? granularity.tile : null;
      const paddedTileRows = denseTile ? bruteForcePaddedRows({ grid: gridDims(c.grid), tile: denseTile, blockRows: c.blockRows }) : 0;
      const densePadded = denseTile !== null && paddedTileRows <= 1.05 * Math.ceil(n / c.blockRows) * c.blockRows;
      if (g.order === 'tile-major-padded') {
        expect(sparse !== undefined || densePadded).toBe(true);
        const tile = sparse ? sparse.sparsity.tile : (denseTile as readonly [number, number, number]);
        expect(realTokens).toEqual(bruteForceTilePermutation({ grid: gridDims(c.grid), tile }));
        if (densePadded) expect(g.npad).toBe(paddedTileRows);
        // Each tile starts on a block boundary, its real rows first.
        const tileRows = g.paddedLayout!.blockRows;
        expect(tileRows % c.blockRows).toBe(0);
        for (let s = 0; s < g.npad; s++) {
          if (!real(s)) continue;
          expect(Math.floor(s / tileRows)).toBe(bruteForceTileId({ grid: gridDims(c.grid), tile, token: g.slotToToken[s]! }));
        }
      } else {
        expect(sparse).toBeUndefined();
        expect(densePadded).toBe(false);
        expect([...g.slotToToken.subarray(n)].every((t) => t === -1)).toBe(true);
        if (granularity?.kind === 'tile') {
          expect(g.order).toBe('tile-major');
          expect(realTokens).toEqual(bruteForceTilePermutation({ grid: gridDims(c.grid), tile: granularity.tile }));
        } else {
          expect(g.order).toBe('raster');
          expect(realTokens).toEqual(Array.from({ length: n }, (_, i) => i));
        }
      }
    });

    it('counts the real rows of each block, which come first in it', () => {
      for (let b = 0; b < g.numBlocks; b++) {
        let count = 0;
        for (let i = 0; i < c.blockRows; i++) {
          if (real(b * c.blockRows + i)) {
            expect(i, `block ${b} row ${i}`).toBe(count);
            count++;
          }
        }
        expect(g.blockValidRows[b], `block ${b}`).toBe(count);
      }
    });

    it('lists, per head, exactly the key blocks holding a real key of the token-level window of a real query', () => {
      const plans = plansOf(c);
      if (!plans.some((p) => p.mode === 'sparse-bf16' || p.mode === 'fp8-sparse')) {
        expect(g.lists).toBeNull(); // dense: every key block, padded quantization tiles included
        return;
      }
      const lists = g.lists!;
      const windows = plans.map((p) => (p.mode === 'sparse-bf16' || p.mode === 'fp8-sparse' ? p.sparsity.window : ({ kind: 'full' } as const)));
      const distinct = new Set(windows.map((w) => JSON.stringify(w))).size;
      expect(lists.listHeads).toBe(distinct === 1 ? 1 : plans.length);
      expect(lists.rowPtr.length).toBe(lists.listHeads * (g.numBlocks + 1));
      for (let h = 0; h < lists.listHeads; h++) {
        const mask = bruteForceTokenMask({ grid: gridDims(c.grid), tile, window: windows[h]! });
        const base = h * (g.numBlocks + 1);
        for (let qb = 0; qb < g.numBlocks; qb++) {
          const expected: number[] = [];
          for (let kb = 0; kb < g.numBlocks; kb++) {
            let hit = false;
            for (let i = 0; i < c.blockRows && !hit; i++) {
              const qt = g.slotToToken[qb * c.blockRows + i]!;
              if (qt < 0) continue;
              for (let j = 0; j < c.blockRows && !hit; j++) {
                const kt = g.slotToToken[kb * c.blockRows + j]!;
                hit = kt >= 0 && mask[qt * n + kt] === 1;
              }
            }
            if (hit) expected.push(kb);
          }
          const actual = [...lists.colIdx.subarray(lists.rowPtr[base + qb]!, lists.rowPtr[base + qb + 1]!)];
          expect(actual, `head ${h} query block ${qb}`).toEqual(expected);
        }
      }
      expect(lists.nnz).toBe(lists.colIdx.length);
    });

    it('groups the rows by quantization unit, padding rows apart', () => {
      const plan = plansOf(c)[0]!;
      if (plan.mode !== 'fp8-dense' && plan.mode !== 'fp8-sparse') {
        expect(g.groups).toBeNull();
        return;
      }
      const groups = g.groups!;
      expect(groups.groupCount % 4).toBe(0);
      const unitOf = (token: number) =>
        plan.granularity.kind === 'tile' ? bruteForceTileId({ grid: gridDims(c.grid), tile: plan.granularity.tile, token }) : plan.granularity.kind === 'token' ? token : 0;
      const groupOfUnit = new Map<number, number>();
      for (let s = 0; s < g.npad; s++) {
        const group = groups.groupOfRow[s]!;
        expect(group).toBeLessThan(groups.groupCount);
        if (!real(s)) {
          expect(groups.groupUnit[group], `padding row ${s}`).toBe(-1);
          continue;
        }
        const unit = unitOf(g.slotToToken[s]!);
        expect(groups.groupUnit[group], `row ${s}`).toBe(unit);
        if (!groupOfUnit.has(unit)) groupOfUnit.set(unit, group);
        expect(group, `one group per unit (row ${s})`).toBe(groupOfUnit.get(unit));
      }
      // The group count is the used groups rounded up to a multiple of 4; unused groups stand for nothing.
      const used = Math.max(...groups.groupOfRow) + 1;
      expect(groups.groupCount).toBe(Math.ceil(used / 4) * 4);
      for (let grp = 0; grp < groups.groupCount; grp++) if (!groups.groupOfRow.includes(grp)) expect(groups.groupUnit[grp], `group ${grp}`).toBe(-1);
      const runs = [...groups.groupOfRow].every((grp, s, a) => s === 0 || grp === a[s - 1] || grp > Math.max(...a.slice(0, s)));
      expect(groups.contiguous).toBe(runs);
      if (plan.granularity.kind !== 'tensor') expect(groups.contiguous).toBe(true);
    });

    it('gives each block the one group of its real rows, or null when some block has real rows of two groups', () => {
      if (g.groups === null) return;
      const { groupOfRow, groupOfBlock, groupUnit } = g.groups;
      const groupsOf = Array.from({ length: g.numBlocks }, (_, b) => new Set([...groupOfRow.subarray(b * c.blockRows, (b + 1) * c.blockRows)].filter((_, i) => real(b * c.blockRows + i))));
      const oneGroup = groupsOf.every((set) => set.size <= 1);
      expect(groupOfBlock === null).toBe(!oneGroup);
      if (groupOfBlock === null) return;
      expect(groupOfBlock.length).toBe(g.numBlocks);
      groupsOf.forEach((set, b) => {
        if (set.size === 1) expect(groupOfBlock[b], `block ${b}`).toBe([...set][0]);
        else expect(groupUnit[groupOfBlock[b]!], `empty block ${b} maps to a group of real rows`).toBeGreaterThanOrEqual(0);
      });
    });
  });

  it('has a block map for per-tensor groups and for quantization tiles that never straddle a block, and only then', () => {
    const blockMapOf = (grid: Grid, plan: AttentionPlan, blockRows: number) => geometry(grid, { plan }, blockRows).groups!.groupOfBlock;
    const sparseWith = (granularity: Extract<AttentionPlan, { mode: 'fp8-sparse' }>['granularity']): AttentionPlan => ({ mode: 'fp8-sparse', granularity, sparsity: { tile, window: clamped([1, 1, 1]) } });
    // Quantization tile = attention tile [2, 3, 4] (24 tokens): blocks of 8 rows, 3 per tile; the last tile row of
    // frames holds one frame (12 tokens: blocks of 8, 4 and 0 real rows).
    const same = geometry([3, 9, 10], { plan: sparseWith({ kind: 'tile', tile }) }, 8);
    const perBlock = same.groups!.groupOfBlock!;
    expect(perBlock).not.toBeNull();
    for (let b = 0; b < same.numBlocks; b++) {
      const first = same.blockValidRows[b]! > 0 ? same.groups!.groupOfRow[b * 8]! : perBlock[b - 1]; // an empty block: the one before
      expect(perBlock[b], `block ${b}`).toBe(first);
      expect(same.groups!.groupUnit[perBlock[b]!], `block ${b}`).toBe(Math.floor(b / 3)); // the quantization tile = the block's attention tile
    }
    expect([...same.blockValidRows].filter((v) => v === 0).length).toBeGreaterThan(0);
    expect(blockMapOf([3, 9, 10], sparseWith({ kind: 'tensor' }), 8)).toEqual(new Int32Array(same.numBlocks)); // group 0 throughout
    expect(blockMapOf([3, 9, 10], sparseWith({ kind: 'tensor' }), 128)).toEqual(new Int32Array(18)); // padding between the tiles' real rows
    expect(blockMapOf([4, 6, 8], sparseWith({ kind: 'tile', tile: [2, 3, 8] }), 8)).not.toBeNull(); // two attention tiles per quantization tile
    expect(blockMapOf([3, 9, 10], sparseWith({ kind: 'tile', tile: [1, 3, 4] }), 8)).toBeNull(); // 12-token slabs: block 1 holds two
    expect(blockMapOf([3, 9, 10], sparseWith({ kind: 'tile', tile: [1, 3, 4] }), 16)).toBeNull();
    expect(blockMapOf([3, 9, 10], sparseWith({ kind: 'token' }), 16)).toBeNull();
    expect(blockMapOf([3, 9, 10], sparseWith({ kind: 'token' }), 4)).toBeNull();
    // Dense: raster per tensor (a last partial block); tile-major tiles of 128 tokens fill whole blocks, 24-token tiles do not.
    expect(blockMapOf([3, 9, 10], { mode: 'fp8-dense', granularity: { kind: 'tensor' } }, 128)).toEqual(new Int32Array(3));
    expect(blockMapOf([2, 8, 16], { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 8, 16] } }, 128)).toEqual(Int32Array.of(0, 1));
    expect(blockMapOf([3, 9, 10], { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [2, 4, 3] } }, 64)).toBeNull();
    expect(blockMapOf([2, 8, 16], { mode: 'fp8-dense', granularity: { kind: 'token' } }, 128)).toBeNull();
    expect(geometry([3, 9, 10], { plan: { mode: 'sparse-bf16', sparsity: { tile, window: clamped([1, 1, 1]) } } }, 8).groups).toBeNull();
  });

  it('makes a sparse per-tensor map contiguous only when no padding sits between real rows', () => {
    const plan: AttentionPlan = { mode: 'fp8-sparse', granularity: { kind: 'tensor' }, sparsity: { tile: [1, 2, 4], window: clamped([1, 1, 1]) } };
    expect(geometry([1, 4, 8], { plan }, 8).groups!.contiguous).toBe(true); // 8-token tiles fill their blocks
    expect(geometry([1, 4, 8], { plan }, 16).groups!.contiguous).toBe(false);
  });

  it('groups quantization tiles that are not runs of rows of the order (finer across rows, or coarser than the attention tile)', () => {
    for (const qtile of [
      [2, 3, 2], // splits each [2, 3, 4] attention tile along w: its rows alternate between two quantization tiles
      [2, 6, 8], // four attention tiles ([2, 3, 4] each, two along h and two along w) in one quantization tile
    ] as const) {
      const grid: Grid = [2, 6, 16];
      const plan: AttentionPlan = { mode: 'fp8-sparse', granularity: { kind: 'tile', tile: qtile }, sparsity: { tile, window: clamped([1, 1, 1]) } };
      const g = geometry(grid, { plan }, 8);
      const groups = g.groups!;
      expect(groups.contiguous).toBe(false);
      // Brute force: two real rows share a group exactly when their tokens share a quantization tile; padding rows never
      // share a group with real rows.
      const qtileOf = (token: number): number => {
        const w = token % grid[2];
        const h = Math.floor(token / grid[2]) % grid[1];
        const t = Math.floor(token / (grid[1] * grid[2]));
        const per = grid.map((n, a) => Math.ceil(n / (qtile[a] as number)));
        return (Math.floor(t / qtile[0]) * (per[1] as number) + Math.floor(h / qtile[1])) * (per[2] as number) + Math.floor(w / qtile[2]);
      };
      const groupOfTile = new Map<number, number>();
      const realGroups = new Set<number>();
      g.slotToToken.forEach((token, s) => {
        const group = groups.groupOfRow[s] as number;
        if (token < 0) return;
        realGroups.add(group);
        const q = qtileOf(token);
        if (!groupOfTile.has(q)) groupOfTile.set(q, group);
        expect(group).toBe(groupOfTile.get(q));
        expect(groups.groupUnit[group]).toBe(q);
      });
      expect(new Set(groupOfTile.values()).size).toBe(groupOfTile.size); // distinct tiles, distinct groups
      g.slotToToken.forEach((token, s) => {
        if (token < 0) expect(realGroups.has(groups.groupOfRow[s] as number)).toBe(false);
      });
    }
  });
});
