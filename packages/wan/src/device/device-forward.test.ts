// The device forward on the CPU backend (every op's float64 twin, BF16 activations as on the GPU) against the float32
// CPU forward of model/cpu-forward.ts, which follows the reference with no BF16 rounding at all: they must agree to
// BF16 resolution, batch item by batch item, and FP8 / sparse plans must stay close to dense.
import { CpuBackend } from '@fpsattn/kernels';
import { beforeAll, describe, expect, it } from 'vitest';
import { WAN_CONFIG_PRESETS } from '../model/config';
import { wanForwardCpu } from '../model/cpu-forward';
import { WanInputError, WanTensorSetError, WanTensorShapeError } from '../model/errors';
import { syntheticWanInputs } from '../model/synthetic-inputs';
import { syntheticWanWeights } from '../model/synthetic-weights';
import type { WanWeights } from '../model/types';
import { WanDeviceDit } from './device-forward';
import { WanDeviceWeights } from './device-weights';

const tiny = WAN_CONFIG_PRESETS['wan-tiny'];
const SEED = 77;
// 3 x 4 x 5 = 60 tokens: not a multiple of the kernel's 128-row block, so queries and keys are padded and masked.
const LATENT_SHAPE = [16, 3, 8, 10];

function relativeL2(actual: Float32Array, expected: Float32Array): number {
  let error = 0;
  let norm = 0;
  for (let i = 0; i < expected.length; i++) {
    error += ((actual[i] as number) - (expected[i] as number)) ** 2;
    norm += (expected[i] as number) ** 2;
  }
  return Math.sqrt(error / norm);
}

let weights: WanWeights;
let backend: CpuBackend;
let model: WanDeviceWeights;
const inputs = [5, 0].map((contextLength, i) => syntheticWanInputs({ config: tiny, seed: SEED + i, latentShape: LATENT_SHAPE, contextLength }));
const contexts = inputs.map((x, i) => ({ values: x.context, length: [5, 0][i] as number }));

beforeAll(() => {
  weights = syntheticWanWeights({ config: tiny, seed: SEED });
  backend = new CpuBackend();
  model = WanDeviceWeights.upload({ backend, config: tiny, weights });
});

describe('WanDeviceDit on the CPU backend (wan-tiny)', () => {
  it('matches the float32 CPU forward to BF16 resolution for each batch item (dense BF16 attention)', async () => {
    const dit = new WanDeviceDit(model);
    const text = dit.encodeText({ contexts });
    const timestep = 937;
    // Item 0 and 1 get different latents: the batch must not mix items.
    const out = await dit.forward({ latents: inputs.map((x) => x.latents), latentShape: LATENT_SHAPE, timestep, text });
    text.dispose();
    expect(out).toHaveLength(2);
    const errors = out.map((velocity, b) => {
      const ref = wanForwardCpu({ weights, config: tiny, latents: inputs[b]!.latents, latentShape: LATENT_SHAPE, timestep, context: contexts[b]!.values, contextLength: contexts[b]!.length });
      expect(velocity.length).toBe(ref.length);
      return relativeL2(velocity, ref);
    });
    // BF16 activations and GEMM operands (8 mantissa bits, 2^-9 relative per rounding) through two blocks: a few 1e-3.
    for (const e of errors) {
      expect(e).toBeGreaterThan(1e-5); // BF16 rounding happened (not the float32 path)
      expect(e).toBeLessThan(1e-2);
    }
    // Swapping the items' outputs must not match: each item used its own latents and prompt.
    const crossed = relativeL2(out[0]!, wanForwardCpu({ weights, config: tiny, latents: inputs[1]!.latents, latentShape: LATENT_SHAPE, timestep, context: contexts[1]!.values, contextLength: 0 }));
    expect(crossed).toBeGreaterThan(0.1);
  });

  it('runs FP8 and sparse self-attention plans per layer, close to dense', async () => {
    const dit = new WanDeviceDit(model);
    const text = dit.encodeText({ contexts: contexts.slice(0, 1) });
    const latents = [inputs[0]!.latents];
    const base = { latents, latentShape: LATENT_SHAPE, timestep: 500, text };
    const [dense] = await dit.forward(base);
    const [mixed] = await dit.forward({
      ...base,
      attention: (layer) =>
        layer === 0
          ? { mode: 'fp8-dense', granularity: { kind: 'tile', tile: [1, 2, 5] } }
          : { mode: 'fp8-sparse', granularity: { kind: 'tensor' }, sparsity: { tile: [1, 2, 5], window: { kind: 'clamped', tiles: [1, 1, 1] } } },
    });
    text.dispose();
    const e = relativeL2(mixed!, dense!);
    expect(e).toBeGreaterThan(1e-4); // the plans changed the attention
    expect(e).toBeLessThan(0.06);
  });

  it('gives the same bits for a timestep however many others ran before (the memo of host modulations)', async () => {
    const bits = (v: Float32Array) => Array.from(new Uint32Array(v.buffer, v.byteOffset, v.length));
    const fresh = new WanDeviceDit(model);
    const dit = new WanDeviceDit(model);
    const text = fresh.encodeText({ contexts: contexts.slice(0, 1) });
    const run = async (on: WanDeviceDit, timestep: number) => (await on.forward({ latents: [inputs[0]!.latents], latentShape: LATENT_SHAPE, timestep, text }))[0]!;
    const expected937 = bits(await run(fresh, 937));
    const expected500 = bits(await run(fresh, 500));
    expect(bits(await run(dit, 937))).toEqual(expected937); // computed
    expect(bits(await run(dit, 937))).toEqual(expected937); // memoized
    expect(bits(await run(dit, 500))).toEqual(expected500);
    await run(dit, 10); // evicts 937
    expect(bits(await run(dit, 937))).toEqual(expected937); // computed again
    expect(bits(await run(dit, 500))).toEqual(expected500); // evicted by 937, computed again
    text.dispose();
  });

  it('rejects bad inputs with errors naming them', () => {
    const dit = new WanDeviceDit(model);
    expect(() => dit.encodeText({ contexts: [{ values: new Float32Array(3), length: 1 }] })).toThrow(WanInputError);
    expect(() => dit.encodeText({ contexts: [{ values: new Float32Array(0), length: 17 }] })).toThrow(/contexts\[0\].*textLen/);
    const text = dit.encodeText({ contexts: contexts.slice(0, 1) });
    const good = { latents: [inputs[0]!.latents], latentShape: LATENT_SHAPE, timestep: 1, text };
    return Promise.all([
      expect(dit.forward({ ...good, latentShape: [16, 3, 7, 10] })).rejects.toThrow(/latentShape\[2\].*multiple of the patch size 2/),
      expect(dit.forward({ ...good, latents: [new Float32Array(5)] })).rejects.toThrow(/latents\[0\]/),
      expect(dit.forward({ ...good, latents: [inputs[0]!.latents, inputs[1]!.latents] })).rejects.toThrow(/text.*2 prompts/),
      expect(dit.forward({ ...good, timestep: Number.NaN })).rejects.toThrow(/timestep/),
    ]).finally(() => text.dispose());
  });

  it('refuses weights that miss a tensor or have the wrong size (the GPU suite checks nothing stays allocated)', () => {
    const b = new CpuBackend();
    const missing = new Map(weights);
    missing.delete('blocks.1.ffn.2.bias');
    expect(() => WanDeviceWeights.upload({ backend: b, config: tiny, weights: missing })).toThrow(WanTensorSetError);
    const wrong = new Map(weights);
    wrong.set('blocks.0.self_attn.q.weight', new Float32Array(7));
    expect(() => WanDeviceWeights.upload({ backend: b, config: tiny, weights: wrong })).toThrow(WanTensorShapeError);
  });
});
