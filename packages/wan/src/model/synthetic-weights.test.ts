import { describe, expect, it } from 'vitest';
import { fnv1a64, splitmix64, uniformStream } from './_splitmix64';
import { WAN_CONFIG_PRESETS } from './config';
import { WanInputError } from './errors';
import { wanTensorSpecs } from './keys';
import { syntheticWanInputs } from './synthetic-inputs';
import { syntheticUniforms, syntheticWanTensor, syntheticWanWeights } from './synthetic-weights';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];
const MASK_64 = (1n << 64n) - 1n;

// Pinned with a one-off Python transcription of the spec (arbitrary-precision integers, float64, numpy.float32).
describe('splitmix64 and fnv1a64', () => {
  it('give the published values', () => {
    expect(splitmix64(0n)).toBe(0xe220a8397b1dcdafn);
    expect(splitmix64(1n)).toBe(0x910a2dec89025cc1n);
    expect(splitmix64(MASK_64)).toBe(0xe4d971771b652c20n);
    expect(fnv1a64(new Uint8Array())).toBe(0xcbf29ce484222325n);
    expect(fnv1a64(new TextEncoder().encode('a'))).toBe(0xaf63dc4c8601ec8cn);
    expect(fnv1a64(new TextEncoder().encode('head.head.weight'))).toBe(0xb33f231e985d56edn);
  });
});

describe('uniformStream', () => {
  const reference = (base: bigint, count: number): number[] =>
    Array.from({ length: count }, (_, i) => 2 * (Number(splitmix64((base + BigInt(i)) & MASK_64) >> 40n) / 2 ** 24) - 1);

  it.each([0n, 1n, 0xffff_fff0n, 0x1_0000_0000n - 3n, MASK_64 - 5n, 0xcd80575fbe8e50c3n, 0x8000_0000_ffff_fffen])(
    'equals the BigInt definition bit for bit from base %s (carries into the high half and past 2^64 included)',
    (base) => {
      expect(Array.from(uniformStream({ base, out: new Float64Array(12) }))).toEqual(reference(base, 12));
    },
  );

  it('equals the BigInt definition on 2000 pseudo-random bases', () => {
    for (let k = 0n; k < 2000n; k++) {
      const base = splitmix64(k * 7919n);
      expect(Array.from(uniformStream({ base, out: new Float64Array(3) }))).toEqual(reference(base, 3));
    }
  });
});

describe('syntheticUniforms', () => {
  it.each([
    ['patch_embedding.weight', 0, [-0.02797544002532959, 0.22074031829833984, -0.12117338180541992, -0.7869894504547119]],
    ['blocks.0.self_attn.norm_q.weight', 7, [-0.9564715623855591, -0.09484505653381348, 0.05873596668243408, 0.17882096767425537]],
    ['head.modulation', 42, [-0.6440147161483765, 0.3018547296524048, 0.7946122884750366, -0.7967536449432373]],
    ['input.latents', 42, [0.3065899610519409, 0.04218709468841553, 0.6698960065841675, -0.14352965354919434]],
  ])('pins v_0..v_3 of %s at seed %i', (name, seed, expected) => {
    expect(Array.from(syntheticUniforms({ name, count: 4, seed }))).toEqual(expected);
  });

  it('takes a bigint seed like the same number, and one up to 2^64 - 1', () => {
    expect(syntheticUniforms({ name: 'x', count: 5, seed: 3n })).toEqual(syntheticUniforms({ name: 'x', count: 5, seed: 3 }));
    expect(syntheticUniforms({ name: 'x', count: 2, seed: MASK_64 }).every((v) => v >= -1 && v < 1)).toBe(true);
  });

  it.each([-1, 1.5, 2 ** 53, Number.NaN, 1n << 64n, -1n])('rejects the seed %s', (seed) => {
    expect(() => syntheticUniforms({ name: 'x', count: 1, seed })).toThrow(WanInputError);
  });
});

describe('syntheticWanTensor', () => {
  it.each([
    ['blocks.0.self_attn.norm_q.weight', [256], 7, 0.9043528437614441], // 1 + 0.1 v
    ['patch_embedding.weight', [256, 16, 1, 2, 2], 0, -0.0034969300031661987], // v / sqrt(64)
    ['head.modulation', [1, 2, 256], 42, -0.04025091975927353], // v / sqrt(dim)
    ['blocks.1.norm3.bias', [256], 3, -0.010764007456600666], // 0.02 v
    ['blocks.1.ffn.2.weight', [256, 512], 3, -0.007115399464964867], // v / sqrt(512)
  ])('pins the first float32 value of %s', (name, shape, seed, expected) => {
    expect(syntheticWanTensor({ name, shape, seed, dim: 256 })[0]).toBe(expected);
  });

  it('applies each rule to the whole tensor', () => {
    const v = syntheticUniforms({ name: 'blocks.0.norm3.weight', count: 256, seed: 1 });
    const w = syntheticWanTensor({ name: 'blocks.0.norm3.weight', shape: [256], seed: 1, dim: 256 });
    expect(Array.from(w)).toEqual(Array.from(v, (x) => Math.fround(1 + 0.1 * x)));
    const m = syntheticWanTensor({ name: 'blocks.0.modulation', shape: [1, 6, 256], seed: 1, dim: 256 });
    const vm = syntheticUniforms({ name: 'blocks.0.modulation', count: 6 * 256, seed: 1 });
    expect(Array.from(m)).toEqual(Array.from(vm, (x) => Math.fround(x / 16)));
  });
});

describe('syntheticWanWeights', () => {
  it('gives every tensor of the config, random head weights included, in state-dict order', () => {
    const weights = syntheticWanWeights({ config: tiny, seed: 5 });
    expect([...weights.keys()]).toEqual(wanTensorSpecs(tiny).map((s) => s.name));
    const head = weights.get('head.head.weight') as Float32Array;
    expect(head.length).toBe(64 * 256);
    expect(head.some((x) => x !== 0)).toBe(true);
    expect(syntheticWanWeights({ config: tiny, seed: 5 }).get('blocks.1.ffn.0.weight')).toEqual(weights.get('blocks.1.ffn.0.weight'));
  });
});

describe('syntheticWanInputs', () => {
  it('draws input.latents and input.context', () => {
    const { latents, context } = syntheticWanInputs({ config: tiny, seed: 42, latentShape: [16, 2, 4, 6], contextLength: 3 });
    expect(latents.length).toBe(16 * 2 * 4 * 6);
    expect(Array.from(latents.subarray(0, 4))).toEqual([0.3065899610519409, 0.04218709468841553, 0.6698960065841675, -0.14352965354919434]);
    expect(context).toEqual(Float32Array.from(syntheticUniforms({ name: 'input.context', count: 3 * 32, seed: 42 })));
  });

  it('names the bad input', () => {
    expect(() => syntheticWanInputs({ config: tiny, seed: 1, latentShape: [4, 1, 2, 2], contextLength: 1 })).toThrow(
      'syntheticWanInputs: latentShape[0] is 4: expected inDim = 16 latent channels',
    );
    expect(() => syntheticWanInputs({ config: tiny, seed: 1, latentShape: [16, 1, 2, 2], contextLength: 17 })).toThrow(
      'syntheticWanInputs: contextLength is 17: expected an integer in [0, 16] (textLen)',
    );
  });
});
