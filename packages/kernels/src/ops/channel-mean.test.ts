import { ShapeMismatchError } from '@fpsattn/fp8';
import { describe, expect, it } from 'vitest';
import { thrown } from '../_test/thrown';
import { bf16BitsToFloat32Array } from '../cpu/bf16';
import { CpuBackend } from '../cpu/backend';
import { bitsEqual, randomBf16 } from '../testing';
import { MAX_TOKEN_ROWS } from './_checks';
import { MEAN_CHUNKS_PER_GROUP, MEAN_ROWS_PER_CHUNK, channelMean, channelMeanCpu } from './channel-mean';

const COLS = 256;
const ONE = 0x3f80; // bf16 1.0
const TINY = 0x3380; // bf16 2^-24: half an ulp of 1 in float32

/** The documented order written out plainly (nested levels, no shared buffers): the specification the twin follows. */
function fixedOrderMean(x: Uint16Array, rows: number, cols: number): Float32Array {
  const f = bf16BitsToFloat32Array(x);
  const out = new Float32Array(cols);
  const groupRows = MEAN_ROWS_PER_CHUNK * MEAN_CHUNKS_PER_GROUP;
  for (let c = 0; c < cols; c++) {
    const groups: number[] = [];
    for (let g0 = 0; g0 < rows; g0 += groupRows) {
      let group = 0;
      for (let r0 = g0; r0 < Math.min(rows, g0 + groupRows); r0 += MEAN_ROWS_PER_CHUNK) {
        let chunk = 0;
        for (let r = r0; r < Math.min(rows, r0 + MEAN_ROWS_PER_CHUNK); r++) chunk = Math.fround(chunk + (f[r * cols + c] as number));
        group += chunk;
      }
      groups.push(group);
    }
    const lanes = new Array<number>(32).fill(0);
    groups.forEach((s, g) => (lanes[g % 32] = (lanes[g % 32] as number) + s));
    for (let d = 16; d > 0; d >>= 1) for (let i = 0; i < d; i++) lanes[i] = (lanes[i] as number) + (lanes[i + d] as number);
    out[c] = rows === 0 ? 0 : Math.fround((lanes[0] as number) / rows);
  }
  return out;
}

describe('channelMeanCpu', () => {
  it('sums each 64-row chunk in float32: 1 + 63 x 2^-24 stays 1 in a chunk, whatever the exact mean says', () => {
    const rows = MEAN_ROWS_PER_CHUNK + 1; // a second chunk, so the chunk's float32 rounding is not the only one
    const x = new Uint16Array(rows * 8).fill(0);
    for (let c = 0; c < 8; c++) x[c] = ONE;
    for (let r = 1; r < MEAN_ROWS_PER_CHUNK; r++) for (let c = 0; c < 8; c++) x[r * 8 + c] = TINY;
    const mean = channelMeanCpu(x, rows, 8);
    expect(mean[0]).toBe(Math.fround(1 / rows));
    expect(mean[0]).not.toBe(Math.fround((1 + 63 * 2 ** -24) / rows)); // the exact mean rounds elsewhere
  });

  it('adds chunk sums in float64: seven chunks of 2^-24 survive next to a chunk of 1', () => {
    const rows = MEAN_ROWS_PER_CHUNK * MEAN_CHUNKS_PER_GROUP; // one group of 8 chunks
    const x = new Uint16Array(rows * 8).fill(0);
    for (let c = 0; c < 8; c++) x[c] = ONE;
    for (let k = 1; k < MEAN_CHUNKS_PER_GROUP; k++) for (let c = 0; c < 8; c++) x[k * MEAN_ROWS_PER_CHUNK * 8 + c] = TINY;
    // Adding the chunk sums in float32 would round each 1 + 2^-24 back to 1; in float64 the total is 1 + 7 x 2^-24.
    const mean = channelMeanCpu(x, rows, 8);
    expect(mean[0]).toBe(Math.fround((1 + 7 * 2 ** -24) / rows));
    expect(mean[0]).not.toBe(Math.fround(1 / rows));
  });

  it('equals the documented fixed order bit for bit past 32 groups (every lane used twice), with partial chunks and groups', () => {
    const groupRows = MEAN_ROWS_PER_CHUNK * MEAN_CHUNKS_PER_GROUP;
    const rows = 33 * groupRows + 3 * MEAN_ROWS_PER_CHUNK + 17;
    const cols = 16;
    const x = randomBf16(rows * cols, 2, { cols, offset: 3 });
    expect(bitsEqual(channelMeanCpu(x, rows, cols), fixedOrderMean(x, rows, cols))).toBe(-1);
  });

  it('is within the recursive-summation error bound of an independent float64 mean', () => {
    const rows = 2 * MEAN_ROWS_PER_CHUNK * MEAN_CHUNKS_PER_GROUP + 5 * MEAN_ROWS_PER_CHUNK + 17;
    const x = randomBf16(rows * COLS, 2, { cols: COLS, offset: 3 });
    const mean = channelMeanCpu(x, rows, COLS);
    const f = bf16BitsToFloat32Array(x);
    const u = 2 ** -24; // float32 unit roundoff
    for (let c = 0; c < COLS; c++) {
      let s = 0;
      let sAbs = 0;
      for (let r = 0; r < rows; r++) {
        s += f[r * COLS + c] as number;
        sAbs += Math.abs(f[r * COLS + c] as number);
      }
      const ref = s / rows;
      // float32 sums of MEAN_ROWS_PER_CHUNK terms err by at most (n - 1) u sum|x| (Higham, recursive summation);
      // the float64 levels add nothing visible; the final rounding to float32 adds u |mean|.
      const bound = ((MEAN_ROWS_PER_CHUNK - 1) * u * sAbs) / rows + u * Math.abs(ref);
      expect(Math.abs((mean[c] as number) - ref)).toBeLessThanOrEqual(bound);
    }
  });

  it('is 0 for no rows', () => {
    expect(Array.from(channelMeanCpu(new Uint16Array(0), 0, COLS, new Float32Array(COLS).fill(7)))).toEqual(new Array(COLS).fill(0));
  });
});

describe('channelMean', () => {
  const backend = new CpuBackend();

  it('runs the twin on the backend of x, into a new f32 [cols] tensor', () => {
    const rows = 130;
    const xHost = randomBf16(rows * 64, 3, { cols: 64, offset: 1 });
    const x = backend.fromArray(xHost, [rows, 64], 'bf16', { name: 'k' });
    const mean = channelMean({ x });
    expect(mean.shape).toEqual([64]);
    expect(mean.dtype).toBe('f32');
    expect(mean.name).toBe('k.mean');
    expect(bitsEqual(mean.downloadSync(), channelMeanCpu(xHost, rows, 64))).toBe(-1);
    expect(channelMean({ x, name: 'mu' }).name).toBe('mu');
  });

  it('takes BF16 [rows, cols] with cols a multiple of 8 and rows within the kernel grid', () => {
    expect(thrown(() => channelMean({ x: backend.empty([4, 8], 'f32') as never }))).toMatchObject({ tensor: 'x', expected: 'dtype bf16' });
    expect(thrown(() => channelMean({ x: backend.empty([4, 12], 'bf16') }))).toMatchObject({ tensor: 'x', expected: 'a multiple of 8 columns', actual: '12 columns' });
    expect(thrown(() => channelMean({ x: backend.empty([4, 8, 8], 'bf16') }))).toBeInstanceOf(ShapeMismatchError);
    expect(thrown(() => channelMean({ x: backend.empty([4, 8, 8], 'bf16') }))).toMatchObject({ tensor: 'x' });
    expect(thrown(() => channelMean({ x: backend.empty([MAX_TOKEN_ROWS + 1, 0], 'bf16') }))).toMatchObject({ tensor: 'x', expected: 'at most 16776960 rows', actual: '16776961 rows' });
    expect(channelMean({ x: backend.empty([MAX_TOKEN_ROWS, 0], 'bf16') }).shape).toEqual([0]); // at the limit
    expect(channelMean({ x: backend.empty([0, 8], 'bf16') }).shape).toEqual([8]);
  });
});
