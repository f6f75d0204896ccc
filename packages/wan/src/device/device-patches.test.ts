// The device forward's patchify and unpatchify (@fpsattn/kernels ops, here on the CPU backend) against the host
// functions the CPU forward uses (model/patch-embedding.ts patchify, model/unpatchify.ts), bit for bit; and the
// forward's CFG path: one latent upload for two items, the same bits as two separate uploads.
import { CpuBackend, castToBf16, patchify as patchifyOnDevice, unpatchify as unpatchifyOnDevice } from '@fpsattn/kernels';
import { describe, expect, it, vi } from 'vitest';
import { WAN_CONFIG_PRESETS } from '../model/config';
import { patchify } from '../model/patch-embedding';
import { syntheticWanInputs } from '../model/synthetic-inputs';
import { syntheticWanWeights } from '../model/synthetic-weights';
import { unpatchify } from '../model/unpatchify';
import { WanDeviceDit } from './device-forward';
import { WanDeviceWeights } from './device-weights';

const backend = new CpuBackend();
const bits = (a: Float32Array) => new Uint32Array(a.buffer, a.byteOffset, a.length);

/** Seeded values of every sign and a wide range of magnitudes (BF16 rounding of most of them is not exact). */
function values(n: number, seed: number): Float32Array {
  let s = seed;
  return Float32Array.from({ length: n }, () => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return ((s / 2 ** 32) * 2 - 1) * 2 ** ((s % 17) - 8);
  });
}

describe.each([
  { latentShape: [16, 3, 8, 10] as const, patchSize: [1, 2, 2] as const },
  { latentShape: [16, 4, 6, 10] as const, patchSize: [2, 2, 2] as const },
  { latentShape: [4, 3, 5, 7] as const, patchSize: [1, 1, 1] as const },
])('device patch ops = host functions, latents $latentShape, patch $patchSize', ({ latentShape, patchSize }) => {
  const [C, F, H, W] = latentShape;
  const grid = [F / patchSize[0], H / patchSize[1], W / patchSize[2]] as const;

  it('patchify: the BF16 rounding of the host patches, for each of two items', () => {
    const items = [values(C * F * H * W, 1), values(C * F * H * W, 2)];
    const latents = backend.fromArray(Float32Array.from([...items[0]!, ...items[1]!]), [2, ...latentShape], 'f32');
    const host = Float32Array.from(items.flatMap((l) => [...patchify({ latents: l, latentShape, patchSize })]));
    const want = castToBf16({ src: backend.fromArray(host, [host.length], 'f32') }).downloadSync();
    expect(patchifyOnDevice({ latents, patchSize }).downloadSync()).toEqual(want);
  });

  it('unpatchify: the host velocity of each of two items, bit for bit', () => {
    const tokens = grid[0] * grid[1] * grid[2];
    const perToken = patchSize[0] * patchSize[1] * patchSize[2] * C;
    const head = values(2 * tokens * perToken, 3);
    const got = unpatchifyOnDevice({ tokens: backend.fromArray(head, [2 * tokens, perToken], 'f32'), grid, patchSize, outDim: C }).downloadSync();
    const want = [0, 1].flatMap((b) => [...unpatchify({ tokens: head.subarray(b * tokens * perToken, (b + 1) * tokens * perToken), grid, patchSize, outDim: C })]);
    expect(bits(got)).toEqual(bits(Float32Array.from(want)));
  });
});

describe('WanDeviceDit.forward with CFG latents', () => {
  it('uploads one shared latent array once, with the bits of two separate uploads, and profiles patchify/unpatchify', async () => {
    const tiny = WAN_CONFIG_PRESETS['wan-tiny'];
    const latentShape = [16, 3, 8, 10];
    const be = new CpuBackend();
    const dit = new WanDeviceDit(WanDeviceWeights.upload({ backend: be, config: tiny, weights: syntheticWanWeights({ config: tiny, seed: 5 }) }));
    const input = syntheticWanInputs({ config: tiny, seed: 6, latentShape, contextLength: 4 });
    const text = dit.encodeText({ contexts: [0, 1].map(() => ({ values: input.context, length: 4 })) });
    const empty = vi.spyOn(be, 'empty');
    const profile = new Map<string, number>();
    const shared = await dit.forward({ latents: [input.latents, input.latents], latentShape, timestep: 400, text, profile });
    const latentUploads = () => empty.mock.calls.filter(([, , o]) => o?.name === 'latents').map(([shape]) => shape[0]);
    expect(latentUploads()).toEqual([1]);
    empty.mockClear();
    const separate = await dit.forward({ latents: [input.latents, input.latents.slice()], latentShape, timestep: 400, text });
    expect(latentUploads()).toEqual([2]);
    text.dispose();
    expect(shared).toHaveLength(2);
    for (const b of [0, 1]) expect(bits(shared[b]!)).toEqual(bits(separate[b]!));
    expect(bits(shared[0]!)).toEqual(bits(shared[1]!)); // same latents and prompt: the same velocity
    expect(shared[0]!.length).toBe(16 * 3 * 8 * 10);
    expect([...profile.keys()]).toEqual(expect.arrayContaining(['host', 'patchify', 'projections', 'head', 'unpatchify']));
  });
});
