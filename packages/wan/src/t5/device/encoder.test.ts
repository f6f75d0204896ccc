import { CpuBackend, type DType, type OpImplementation, type Storage, type Tensor } from '@fpsattn/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import { WanConfigError, WanInputError, WanTensorShapeError } from '../../model/errors';
import { roundToBfloat16 } from '../_bfloat16';
import { UMT5_CONFIG_PRESETS } from '../config';
import { umt5EncodeCpu } from '../encoder';
import { padContext } from '../pad-context';
import { relativePositionBuckets } from '../relative-position-bucket';
import { syntheticUmt5Weights } from '../synthetic-weights';
import type { Umt5Weights } from '../types';
import { WanUmt5DeviceEncoder, type WanUmt5DevicePart, bucketOneHot, deviceBucketOneHot } from './encoder';
import { WanUmt5DeviceWeights } from './weights';

const tiny = UMT5_CONFIG_PRESETS['umt5-tiny'];

/** A CPU backend that remembers every storage it allocates, so a test can see which are still live. */
class TrackingBackend extends CpuBackend {
  readonly storages: Storage[] = [];
  override empty<D extends DType>(shape: readonly number[], dtype: D, options?: { name?: string }): Tensor<D> {
    const t = super.empty(shape, dtype, options);
    this.storages.push(t.storage);
    return t;
  }
  live(): number {
    return this.storages.filter((s) => s.live).length;
  }
}

/** A CPU backend that counts the ops dispatched to it, by name. */
class CountingBackend extends TrackingBackend {
  readonly ops = new Map<string, number>();
  override dispatch<R>(op: string, implementation: OpImplementation<R>): R {
    this.ops.set(op, (this.ops.get(op) ?? 0) + 1);
    return super.dispatch(op, implementation);
  }
}

function relativeL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let e = 0;
  let n = 0;
  for (let i = 0; i < b.length; i++) {
    e += ((a[i] as number) - (b[i] as number)) ** 2;
    n += (b[i] as number) ** 2;
  }
  return Math.sqrt(e / n);
}

/** Deterministic ids in [0, vocabSize) (a small LCG), ending in </s> = 1. */
function promptIds(length: number, seed: number): Int32Array {
  const ids = new Int32Array(tiny.textLen);
  let s = seed;
  for (let i = 0; i < length - 1; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    ids[i] = 2 + (s % (tiny.vocabSize - 2));
  }
  ids[length - 1] = 1;
  return ids;
}

/**
 * The synthetic weights rounded to BF16 (as the device encoder uploads them and as Wan's bf16 checkpoint is): the CPU
 * encoder then runs the same network, and what remains is the device path's own rounding (BF16 GEMM inputs: the
 * norms' outputs, q, k, v, P, the attention output, the FFN hidden; a BF16 output).
 */
let weights: Umt5Weights;
let backend: TrackingBackend;
let deviceWeights: WanUmt5DeviceWeights;
let encoder: WanUmt5DeviceEncoder;
beforeAll(() => {
  const raw = syntheticUmt5Weights({ config: tiny, seed: 77 });
  weights = new Map([...raw].map(([name, data]) => [name, data.map(roundToBfloat16)]));
  backend = new TrackingBackend();
  deviceWeights = WanUmt5DeviceWeights.upload({ backend, config: tiny, weights });
  encoder = new WanUmt5DeviceEncoder({ weights: deviceWeights });
});

/**
 * Tolerance against the float32 CPU encoder: the BF16 level. Measured on the CPU backend (float64 twins): 2.1e-3,
 * 2.6e-3, 2.7e-3 relative L2 at lengths 1, 7, 16 (rounding the float32 output alone to BF16 is 1.5e-3 of it); the CPU
 * encoder's 'bfloat16' emulation of the reference is 3.8e-3 to 5.4e-3 off float32, so the device path is closer to
 * float32 than the reference itself. The bar, 1e-2, is that level with margin (2^-8 ~ 3.9e-3 per rounding); checked
 * by hand: dropping the bias, masking no key, dropping the GELU or reading head 0's V for every head gives 0.11 to 0.89.
 */
const FLOAT32_TOLERANCE = 1e-2;

describe('WanUmt5DeviceEncoder on the CPU backend', () => {
  it.each([1, 7, 16])('matches umt5EncodeCpu (float32) at length %i within the BF16 level, closer than the bf16 reference emulation', async (length) => {
    const ids = promptIds(length, length * 31 + 5);
    const device = await encoder.encode({ ids, length });
    expect(device).toBeInstanceOf(Float32Array);
    expect(device).toHaveLength(length * tiny.dim);
    const float32 = umt5EncodeCpu({ weights, config: tiny, tokenIds: ids, length, precision: 'float32' });
    const bf16Reference = umt5EncodeCpu({ weights, config: tiny, tokenIds: ids, length, precision: 'bfloat16' });
    const error = relativeL2(device, float32);
    const referenceError = relativeL2(bf16Reference, float32);
    expect(error).toBeLessThan(FLOAT32_TOLERANCE);
    expect(error).toBeGreaterThan(1e-4); // it really is a BF16 path (the test can tell the two apart)
    expect(error).toBeLessThan(1.5 * referenceError);
    // Every output is a BF16 value.
    expect(device.every((v) => roundToBfloat16(v) === v)).toBe(true);
  });

  it('ignores the ids after length and gives each prompt its own rows (padded keys get no weight)', async () => {
    const ids = promptIds(5, 9);
    const a = await encoder.encode({ ids, length: 5 });
    const noisy = ids.slice();
    noisy.fill(300, 5);
    expect(await encoder.encode({ ids: noisy, length: 5 })).toEqual(a);
    // The same 5 tokens inside a longer prompt: rows differ (they attend to more keys).
    const longer = await encoder.encode({ ids: noisy, length: 9 });
    expect(relativeL2(longer.subarray(0, 5 * tiny.dim), a)).toBeGreaterThan(1e-2);
  });

  it("pads to the DiT's layout with padContext", async () => {
    const ids = promptIds(3, 4);
    const out = await encoder.encode({ ids, length: 3 });
    const padded = padContext({ context: out, length: 3, dim: tiny.dim, textLen: tiny.textLen });
    expect(padded).toHaveLength(tiny.textLen * tiny.dim);
    expect(padded.subarray(0, out.length)).toEqual(out);
    expect(padded.subarray(out.length).every((v) => v === 0)).toBe(true);
  });

  it('frees every temporary (only the weights stay allocated)', async () => {
    const before = backend.live();
    await encoder.encode({ ids: promptIds(11, 2), length: 11 });
    expect(backend.live()).toBe(before);
  });

  it.each([
    ['a token id past the vocabulary', { ids: Int32Array.from([5, 512, 1]), length: 3 }, /WanUmt5DeviceEncoder\.encode: ids\[1\] is 512: expected a token id in \[0, 512\) \(vocabSize\)/],
    ['a negative token id', { ids: Int32Array.from([-1, 1]), length: 2 }, /ids\[0\] is -1/],
    ['more tokens than textLen', { ids: new Int32Array(20), length: 17 }, /length is 17: expected at most textLen = 16 tokens/],
    ['more tokens than ids', { ids: Int32Array.from([5, 1]), length: 3 }, /length is 3: expected at most ids.length = 2/],
    ['no tokens', { ids: Int32Array.from([1]), length: 0 }, /length is 0: expected an integer >= 1/],
    ['ids in a plain array', { ids: [5, 1] as unknown as Int32Array, length: 2 }, /ids is \[5,1\]: expected an Int32Array/],
  ])('refuses %s with a WanInputError, allocating nothing', async (_, options, message) => {
    const before = backend.live();
    await expect(encoder.encode(options)).rejects.toThrow(WanInputError);
    await expect(encoder.encode(options)).rejects.toThrow(message);
    expect(backend.live()).toBe(before);
  });
});

describe('WanUmt5DeviceWeights.upload', () => {
  it('uploads BF16 GEMM operands, F32 norms and the transposed bias tables', async () => {
    const block = deviceWeights.blocks[1];
    expect(deviceWeights.blocks).toHaveLength(tiny.numLayers);
    expect(block?.q.shape).toEqual([tiny.dimAttn, tiny.dim]);
    expect(block?.fc2.shape).toEqual([tiny.dim, tiny.dimFfn]);
    expect(block?.norm1.dtype).toBe('f32');
    expect(block?.biasTable.shape).toEqual([tiny.numHeads, tiny.numBuckets]);
    // bias table [buckets, heads] -> [heads, buckets]: entry (h = 2, b = 5).
    const table = weights.get('blocks.1.pos_embedding.embedding.weight') as Float32Array;
    const bits = (await block?.biasTable.download()) as Uint16Array;
    const f = new Float32Array(new Uint32Array([(bits[2 * tiny.numBuckets + 5] as number) << 16]).buffer)[0];
    expect(f).toBe(table[5 * tiny.numHeads + 2]);
  });

  it('refuses a wrong weight and a width the GEMMs cannot take, leaving nothing allocated', () => {
    const b = new TrackingBackend();
    const wrong = new Map(weights);
    wrong.set('blocks.0.attn.o.weight', new Float32Array(10));
    expect(() => WanUmt5DeviceWeights.upload({ backend: b, config: tiny, weights: wrong })).toThrow(WanTensorShapeError);
    const odd = { ...tiny, dimFfn: 84 };
    const oddWeights = syntheticUmt5Weights({ config: odd, seed: 1 });
    expect(() => WanUmt5DeviceWeights.upload({ backend: b, config: odd, weights: oddWeights })).toThrow(WanConfigError);
    expect(() => WanUmt5DeviceWeights.upload({ backend: b, config: odd, weights: oddWeights })).toThrow(/dimFfn \(84\) to be a multiple of 8/);
    expect(b.live()).toBe(0);
  });
});

describe('WanUmt5DeviceEncoder: ops per encode and the profile hook', () => {
  const counts = async (config: typeof tiny, length: number, headGemms: 'per-head' | 'batched') => {
    const b = new CountingBackend();
    const w = WanUmt5DeviceWeights.upload({ backend: b, config, weights: new Map([...syntheticUmt5Weights({ config, seed: 3 })].map(([n, d]) => [n, d.map(roundToBfloat16)])) });
    b.ops.clear();
    await new WanUmt5DeviceEncoder({ weights: w }).encode({ ids: promptIds(length, 1), length, headGemms });
    return Object.fromEntries(b.ops);
  };

  it('headGemms batched (the default): a fixed number of ops per block, whatever the head count and length (one batched GEMM for the scores, one for P v)', async () => {
    const base = await counts(tiny, 16, 'batched');
    // Per block: q, k, v^T, bias, scores, P v, o, gate, fc1, fc2; the setup gathers the embedding rows and the one-hot.
    expect(base).toMatchObject({ gemm: 10 * tiny.numLayers, gatherRows: 2 + 3 * tiny.numLayers, softmaxRows: tiny.numLayers });
    expect(await counts({ ...tiny, numHeads: 4, dimAttn: 32 }, 16, 'batched')).toEqual(base); // 4 heads of 8 instead of 2 of 16
    expect(await counts(tiny, 3, 'batched')).toEqual(base);
  });

  it('headGemms per-head: one GEMM per head for the scores and for P v', async () => {
    const perHead = await counts({ ...tiny, numHeads: 4, dimAttn: 32 }, 16, 'per-head');
    expect(perHead).toMatchObject({ gemm: (8 + 2 * 4) * tiny.numLayers, gatherRows: 2 + 3 * tiny.numLayers });
  });

  it('gives the same bits with per-head and batched head GEMMs, and refuses another value', async () => {
    const ids = promptIds(11, 7);
    const perHead = await encoder.encode({ ids, length: 11, headGemms: 'per-head' });
    expect(await encoder.encode({ ids, length: 11 })).toEqual(perHead);  // the default: batched
    expect(await encoder.encode({ ids, length: 11, headGemms: 'batched' })).toEqual(perHead);
    await expect(encoder.encode({ ids, length: 11, headGemms: 'fast' as never })).rejects.toThrow(/options\.headGemms is "fast": expected 'per-head' or 'batched'/);
  });

  it('calls profile after each part, in order, without changing the output', async () => {
    const ids = promptIds(9, 5);
    const plain = await encoder.encode({ ids, length: 9 });
    const parts: WanUmt5DevicePart[] = [];
    const profiled = await encoder.encode({ ids, length: 9, profile: (part) => parts.push(part) });
    expect(profiled).toEqual(plain);
    const block: WanUmt5DevicePart[] = ['norms', 'qkv', 'head-gathers', 'bias', 'scores', 'bias', 'softmax', 'pv', 'head-gathers', 'o', 'residuals', 'norms', 'ffn-gemms', 'ffn-gating', 'ffn-gemms', 'residuals'];
    expect(parts).toEqual(['setup', ...Array.from({ length: tiny.numLayers }, () => block).flat(), 'norms']);
  });
});

describe('deviceBucketOneHot', () => {
  it.each([24, 200])('is bucketOneHot bit for bit at lp %i (identity rows gathered by bucket), its temporaries handed to keep', async (lp) => {
    const b = new TrackingBackend();
    const made: { dispose(): void }[] = [];
    const oneHot = deviceBucketOneHot({ backend: b, lp, numBuckets: 32, maxDistance: 128, keep: (t) => (made.push(t), t) });
    expect(oneHot.shape).toEqual([lp * lp, 32]);
    expect(oneHot.dtype).toBe('bf16');
    const got = (await oneHot.download()) as Uint16Array;
    const want = bucketOneHot({ lp, numBuckets: 32, maxDistance: 128 });
    expect(got).toHaveLength(want.length);
    expect(got.findIndex((v, i) => v !== want[i])).toBe(-1); // (toEqual on 1.3M elements takes seconds)
    oneHot.dispose();
    for (const t of made) t.dispose();
    expect(b.live()).toBe(0);
  });
});

describe('bucketOneHot', () => {
  it('has one 1.0 per (query, key) pair, at bucket(j - i) (relativePositionBuckets)', () => {
    const lp = 24;
    const oneHot = bucketOneHot({ lp, numBuckets: 32, maxDistance: 128 });
    const buckets = relativePositionBuckets({ length: lp, numBuckets: 32, maxDistance: 128 });
    for (let p = 0; p < lp * lp; p++) {
      const row = Array.from(oneHot.subarray(p * 32, (p + 1) * 32));
      expect(row.filter((v) => v !== 0)).toEqual([0x3f80]);
      expect(row.indexOf(0x3f80)).toBe(buckets[p]);
    }
  });
});
