import { InvalidArgumentError, ShapeMismatchError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { thrown } from '../_test/thrown';
import { sealMap } from '../core/maps';
import { CpuBackend } from '../cpu/backend';
import { channelAmaxCpu } from '../cpu/channel-amax';
import { tileMajor } from '../_test/tiling';
import { bitsEqual, randomBf16 } from '../testing';
import { MAX_TOKEN_ROWS } from './_checks';
import { createRowMap } from './create-row-map';
import { gatherRows, gatherRowsCpu, scatterRows, scatterRowsCpu } from './permute-rows';
import { quantizeV } from './quantize-v';

const backend = new CpuBackend();
const GRID = [3, 10, 20] as const;
const ROWS = 600;
const COLS = 256;

describe('gatherRowsCpu / scatterRowsCpu', () => {
  it('gather follows the map with zero rows for padding, and scatter inverts it', () => {
    const x = randomBf16(ROWS * COLS, 1, { cols: COLS });
    const { perm } = tileMajor(GRID, [3, 5, 8]);
    const map = new Int32Array(perm.length + 8).fill(-1);
    map.set(perm);
    const g = gatherRowsCpu(x, COLS, map, new Uint16Array(map.length * COLS).fill(0xabab));
    for (let i = 0; i < map.length; i++) {
      const src = map[i] as number;
      for (const c of [0, 77, COLS - 1]) expect(g[i * COLS + c]).toBe(src < 0 ? 0 : x[src * COLS + c]);
    }
    const back = scatterRowsCpu(g, COLS, map, new Uint16Array(ROWS * COLS));
    expect(bitsEqual(back, x)).toBe(-1);
  });

  it('skip out-of-range entries: gather writes a zero row, scatter leaves the row alone', () => {
    const src = Uint8Array.of(1, 2, 3, 4);
    expect(Array.from(gatherRowsCpu(src, 2, Int32Array.of(1, 2, -1, 0), new Uint8Array(8).fill(9)))).toEqual([3, 4, 0, 0, 0, 0, 1, 2]);
    expect(Array.from(scatterRowsCpu(src, 2, Int32Array.of(2, 1), new Uint8Array(4).fill(9)))).toEqual([9, 9, 3, 4]);
  });
});

describe('gatherRows / scatterRows', () => {
  const xHost = randomBf16(ROWS * COLS, 2, { cols: COLS });
  const x = backend.fromArray(xHost, [ROWS, COLS], 'bf16', { name: 'x' });
  const { perm } = tileMajor(GRID, [3, 5, 8]);
  const map = createRowMap({ backend, indices: perm, targetRows: ROWS, name: 'perm' });

  it('gather into a new tensor or into out, scatter back to raster order', () => {
    const g = gatherRows({ src: x, map });
    expect(g.name).toBe('x.gathered');
    expect(bitsEqual(g.downloadSync(), gatherRowsCpu(xHost, COLS, perm, new Uint16Array(ROWS * COLS)))).toBe(-1);
    const out = backend.empty([ROWS, COLS], 'bf16').fillBytes(0xab);
    expect(gatherRows({ src: x, map, out })).toBe(out);
    expect(bitsEqual(out.downloadSync(), g.downloadSync())).toBe(-1);
    const back = scatterRows({ src: g, map, name: 'back' });
    expect(back.name).toBe('back');
    expect(bitsEqual(back.downloadSync(), xHost)).toBe(-1);
    expect(scatterRows({ src: g, map, rows: ROWS }).shape).toEqual([ROWS, COLS]);
    expect(scatterRows({ src: g, map }).name).toBe('x.gathered.scattered');
  });

  it('a new scatter destination is zero where no entry lands; out keeps its rows there', () => {
    const m = createRowMap({ backend, indices: Int32Array.of(3, -1), targetRows: 4 });
    const src = backend.fromArray(new Float32Array(8).fill(1), [2, 4], 'f32');
    expect(Array.from(scatterRows({ src, map: m }).downloadSync())).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
    const out = backend.empty([4, 4], 'f32').fillBytes(0);
    out.sliceRows(0, 1).upload(new Float32Array(4).fill(5));
    scatterRows({ src, map: m, out });
    expect(Array.from(out.downloadSync())).toEqual([5, 5, 5, 5, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1]);
  });

  it('moves any dtype whose rows are a multiple of 16 bytes, and rejects other rows', () => {
    const m = createRowMap({ backend, indices: Int32Array.of(1, 0), targetRows: 2 });
    const u8 = backend.fromArray(Uint8Array.from({ length: 32 }, (_, i) => i), [2, 16], 'u8');
    expect(Array.from(gatherRows({ src: u8, map: m }).downloadSync().subarray(0, 2))).toEqual([16, 17]);
    const threeD = backend.fromArray(Uint8Array.from({ length: 32 }, (_, i) => i), [2, 4, 4], 'u8');
    expect(gatherRows({ src: threeD, map: m }).shape).toEqual([2, 4, 4]);
    expect(thrown(() => gatherRows({ src: backend.empty([2, 12], 'u8', { name: 'u' }), map: m }))).toMatchObject({
      tensor: 'src',
      expected: 'rows of a multiple of 16 bytes (the kernels move 16-byte vectors)',
      actual: '12 bytes per row',
      message: /\('u'\)$/,
    });
    expect(thrown(() => gatherRows({ src: backend.empty([], 'u8'), map: m }))).toMatchObject({ tensor: 'src', expected: 'at least 1 dimension (rows)', actual: '[]' });
    // A 1-D tensor has rows of one element: never 16 bytes, whatever its dtype.
    expect(thrown(() => scatterRows({ src: backend.empty([2], 'i32'), map: m }))).toMatchObject({ tensor: 'src', actual: '4 bytes per row' });
  });

  it('checks the map against the tensors', () => {
    expect(thrown(() => gatherRows({ src: x.sliceRows(0, 64), map }))).toMatchObject({ tensor: 'src', expected: "600 rows (the map's targetRows)", actual: '64 rows', message: /\('x\[0:64\]'\)$/ });
    expect(thrown(() => scatterRows({ src: x.sliceRows(0, 64), map }))).toMatchObject({ tensor: 'src', expected: '600 rows (one per map entry)', actual: '64 rows', message: /\('x\[0:64\]'\)$/ });
    expect(thrown(() => scatterRows({ src: x, map, rows: 601 }))).toMatchObject({ tensor: 'out', expected: "600 rows (the map's targetRows)", actual: '601 rows' });
    expect(thrown(() => gatherRows({ src: x, map: { ...map } }))).toMatchObject({ argument: 'map', message: "Invalid argument 'map': gatherRows expects a RowMap from createRowMap" });
    expect(thrown(() => scatterRows({ src: x, map: undefined as never }))).toMatchObject({ argument: 'map', message: /scatterRows expects a RowMap/ });
    expect(thrown(() => gatherRows({ src: 'x' as never, map }))).toMatchObject({ argument: 'src', message: /gatherRows expects a Tensor/ });
    expect(thrown(() => scatterRows({ src: null as never, map }))).toMatchObject({ argument: 'src', message: /scatterRows expects a Tensor/ });
    expect(() => scatterRows({ src: x, map, rows: 601 })).toThrow(ShapeMismatchError);
    expect(() => scatterRows({ src: x, map, out: backend.empty([601, COLS], 'bf16') })).toThrow(/600 rows \(the map's targetRows\).*601 rows/);
    const dup = createRowMap({ backend, indices: Int32Array.of(0, 0, -1), targetRows: 5 });
    expect(thrown(() => scatterRows({ src: backend.empty([3, 8], 'bf16'), map: dup }))).toMatchObject({
      argument: 'map',
      value: 'not injective',
      message: "Invalid argument 'map': scatterRows needs a map whose non-padding entries are distinct",
    });
    const g = gatherRows({ src: backend.empty([5, 8], 'bf16').fillBytes(1), map: dup });
    expect(Array.from(g.downloadSync().subarray(16, 24))).toEqual(new Array(8).fill(0));
  });

  it('checks out: dtype, shape, and not the storage it reads', () => {
    expect(thrown(() => gatherRows({ src: x, map, out: backend.empty([ROWS, COLS], 'f16') as never }))).toMatchObject({ tensor: 'out', expected: 'dtype bf16' });
    expect(thrown(() => scatterRows({ src: x, map, out: backend.empty([ROWS, COLS], 'f16') as never }))).toMatchObject({ tensor: 'out', expected: 'dtype bf16' });
    expect(() => gatherRows({ src: x, map, out: backend.empty([ROWS, COLS + 8], 'bf16') })).toThrow(/Shape mismatch for 'out'/);
    expect(() => gatherRows({ src: x, map, out: x.reshape([ROWS, COLS]) })).toThrow(/gatherRows cannot write into storage it reads \('x'\)/);
    expect(() => scatterRows({ src: x, map, out: x.reshape([ROWS, COLS]) })).toThrow(/scatterRows cannot write into storage it reads/);
  });

  it('gathers V with its per-channel amax, and quantizeV takes it for one pass to the same bits', async () => {
    const rows = 96;
    const cols = 128;
    const v = backend.fromArray(randomBf16(rows * cols, 11, { cols }), [rows, cols], 'bf16', { name: 'v' });
    const indices = Int32Array.from({ length: rows + 4 }, (_, i) => (i < rows ? (i * 37) % rows : -1)); // 4 padding rows
    const m = createRowMap({ backend, indices, targetRows: rows });
    const amax = backend.empty([cols], 'f32', { name: 'amax' }).fillBytes(0xff); // poisoned: every channel must be written
    const vt = gatherRows({ src: v, map: m, amax });
    const expected = channelAmaxCpu(await vt.download(), rows + 4, cols);
    expect(Array.from(await amax.download())).toEqual(Array.from(expected));
    const twoPass = quantizeV({ v: vt, format: 'e4m3' });
    const onePass = quantizeV({ v: vt, format: 'e4m3', amax });
    expect(bitsEqual(await onePass.codesT.download(), await twoPass.codesT.download())).toBe(-1);
    expect(Array.from(await onePass.scales.download())).toEqual(Array.from(await twoPass.scales.download()));
    expect(thrown(() => gatherRows({ src: backend.empty([rows, 64], 'f32'), map: m, amax }))).toMatchObject({ tensor: 'src', expected: 'dtype bf16', actual: 'dtype f32' });
    expect(thrown(() => gatherRows({ src: backend.empty([rows, 8, 8], 'bf16'), map: m, amax }))).toMatchObject({ tensor: 'src', expected: 'a 2-D [tokens, heads * headDim] tensor', actual: '[96, 8, 8]' });
    expect(thrown(() => gatherRows({ src: v, map: m, amax: 'a' as never }))).toMatchObject({ argument: 'amax', message: /gatherRows expects a Tensor/ });
    expect(thrown(() => gatherRows({ src: v, map: m, amax: backend.empty([], 'f32') }))).toMatchObject({ tensor: 'amax', expected: '[128]', actual: '[]' });
    expect(() => gatherRows({ src: v, map: m, amax: backend.empty([64], 'f32') })).toThrow(/Shape mismatch for 'amax'/);
    expect(() => gatherRows({ src: v, map: m, amax: backend.empty([cols], 'i32') as never })).toThrow(/Shape mismatch for 'amax'.*dtype f32/);
    expect(() => gatherRows({ src: v, map: m, amax: v.reshape([-1]).sliceRows(0, cols) as never })).toThrow(/dtype f32/);
  });

  it('amax may not alias src or out, and the row limit of the amax kernel holds', () => {
    const rows = 16;
    const cols = 64;
    const f32 = backend.empty([cols * 2 + rows * cols / 2], 'f32');
    const v = backend.empty([rows, cols], 'bf16');
    const m = createRowMap({ backend, indices: Int32Array.from({ length: rows }, (_, i) => i), targetRows: rows });
    const out = new (v.constructor as typeof import('../core/tensor').Tensor)({ storage: f32.storage, dtype: 'bf16', shape: [rows, cols], byteOffset: 512 });
    const amax = f32.sliceRows(0, cols);
    expect(thrown(() => gatherRows({ src: v, map: m, out, amax }))).toMatchObject({ argument: 'amax', message: "Invalid argument 'amax': gatherRows cannot write amax into the storage of src or out" });
    const vOnF32 = new (v.constructor as typeof import('../core/tensor').Tensor)({ storage: f32.storage, dtype: 'bf16', shape: [rows, cols], byteOffset: 512 });
    expect(() => gatherRows({ src: vOnF32, map: m, amax })).toThrow(InvalidArgumentError);
    // A map one row past the amax kernel's grid (sealed by hand: a real one would take 64 MiB and seconds to check).
    const indices = backend.empty([0], 'i32');
    const long = sealMap({ ...m, length: MAX_TOKEN_ROWS + 1, tensor: indices }, new Int32Array(0));
    expect(thrown(() => gatherRows({ src: v, map: long, amax: backend.empty([cols], 'f32') }))).toMatchObject({ tensor: 'map', expected: 'at most 16776960 rows with amax', actual: '16776961 rows' });
    const atLimit = sealMap({ ...m, length: MAX_TOKEN_ROWS, tensor: indices }, new Int32Array(0));
    // At the limit the call gets past the check (to the next one: an out of the wrong shape).
    expect(() => gatherRows({ src: v, map: atLimit, out: backend.empty([1, cols], 'bf16'), amax: backend.empty([cols], 'f32') })).toThrow(/Shape mismatch for 'out'/);
  });
});
