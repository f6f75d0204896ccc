import { describe, expect, it, vi } from 'vitest';
import { expectSamplerError } from './_errors.test-helpers';
import { maxAbsDifference, toyVelocity, trajectoryFixture } from './_fixtures.test-helpers';
import { classifierFreeGuidance } from './classifier-free-guidance';
import { flowMatchSchedule } from './flow-match-schedule';
import { gaussianNoise } from './gaussian-noise';
import { SamplerAbortedError } from './errors';
import { sample } from './sample';
import type { StepProgress, VelocityModel, VelocityModelInput } from './types';

const n = trajectoryFixture.xT.length;
const toyModel: VelocityModel = ({ latents, timestep }) => ({ velocity: toyVelocity({ x: latents, timestep }) });

/** A model whose cond and uncond are two halves of the toy velocity: guided with g, it is a different but fixed field. */
const cfgModel: VelocityModel = ({ latents, timestep }) => {
  const v = toyVelocity({ x: latents, timestep });
  return { cond: Float32Array.from(v, (x, k) => x * 0.8 + 0.01 * k), uncond: Float32Array.from(v, (x) => x * 0.6) };
};

describe('sample', () => {
  it.each(trajectoryFixture.cases.filter((c) => c.steps >= 10).map((c) => [c.solver, c.steps, c.shift, c] as const))(
    'runs %s for %i steps at shift %d to the numpy transcription within float32 noise',
    async (solver, steps, shift, expected) => {
      const { latents } = await sample({ latentShape: [n], steps, shift, solver, noise: Float32Array.from(trajectoryFixture.xT), model: toyModel });
      const error = maxAbsDifference([latents], [expected.float64[steps]!]);
      expect(error).toBeLessThanOrEqual(2 * maxAbsDifference([expected.float32[steps]!], [expected.float64[steps]!]) + 1e-7);
      expect(error).toBeLessThan(1e-6);
    },
  );

  it("runs Wan2.1 T2V's defaults: UniPC, 50 steps at shift 5.0, guidance 5.0, noise from the seed", async () => {
    const inputs: VelocityModelInput[] = [];
    const model = vi.fn<VelocityModel>((input) => {
      inputs.push({ ...input, latents: input.latents.slice() });
      return cfgModel(input);
    });
    const { latents, schedule } = await sample({ latentShape: [2, n / 2], seed: 7, model });
    expect(schedule).toEqual(flowMatchSchedule({ steps: 50, shift: 5 }));
    expect(model).toHaveBeenCalledTimes(50);
    expect(inputs[0]!.latents).toEqual(gaussianNoise({ seed: 7, shape: [2, n / 2] }));
    expect(inputs.map((i) => i.timestep)).toEqual(Array.from(schedule.timesteps));
    expect(inputs.map((i) => i.sigma)).toEqual(Array.from(schedule.sigmas.subarray(0, 50)));
    expect(inputs.map((i) => i.stepIndex)).toEqual([...Array(50).keys()]);
    expect(inputs.every((i) => i.steps === 50)).toBe(true);

    // the same run with the guidance applied by the model itself gives the same bits
    const guided: VelocityModel = (input) => {
      const { cond, uncond } = cfgModel(input) as { cond: Float32Array; uncond: Float32Array };
      return { velocity: classifierFreeGuidance({ cond, uncond, guidance: 5 }) };
    };
    expect((await sample({ latentShape: [n], seed: 7, model: guided, guidance: 123 })).latents).toEqual(latents);
  });

  it('applies the guidance scale to cond and uncond', async () => {
    const run = (guidance: number) => sample({ latentShape: [n], steps: 4, seed: 3, guidance, model: cfgModel });
    const condOnly: VelocityModel = (input) => ({ velocity: (cfgModel(input) as { cond: Float32Array }).cond });
    expect((await run(1)).latents).toEqual((await sample({ latentShape: [n], steps: 4, seed: 3, model: condOnly })).latents);
    expect((await run(5)).latents).not.toEqual((await run(1)).latents);
  });

  it('reproduces a run from its seed, and differs for another seed', async () => {
    const run = (seed: number) => sample({ latentShape: [4, 4], steps: 5, seed, model: toyModel });
    expect((await run(11)).latents).toEqual((await run(11)).latents);
    expect((await run(11)).latents).not.toEqual((await run(12)).latents);
  });

  it('awaits an asynchronous model and leaves the given noise untouched', async () => {
    const noise = Float32Array.from(trajectoryFixture.xT);
    const asyncModel: VelocityModel = async (input) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      return toyModel(input);
    };
    const sync = await sample({ latentShape: [n], steps: 10, noise, model: toyModel });
    expect((await sample({ latentShape: [n], steps: 10, noise, model: asyncModel })).latents).toEqual(sync.latents);
    expect(noise).toEqual(Float32Array.from(trajectoryFixture.xT));
  });

  it.each(['unipc', 'euler'] as const)('lands on x0 with the exact velocity field of straight lines to x0 (%s)', async (solver) => {
    const x0 = Float32Array.from({ length: 48 }, (_, k) => Math.cos(0.9 * k) * 2);
    // from any x at noise level sigma, the straight line to x0 has velocity (x - x0) / sigma
    const model: VelocityModel = ({ latents, sigma }) => ({ velocity: Float32Array.from(latents, (x, k) => (x - x0[k]!) / sigma) });
    for (const steps of [1, 3, 25]) {
      const { latents } = await sample({ latentShape: [48], steps, seed: 5, solver, model });
      expect(maxAbsDifference([latents], [x0])).toBeLessThan(1e-5);
    }
  });

  it('reports each step through onStep', async () => {
    const progress: StepProgress[] = [];
    const { schedule } = await sample({ latentShape: [n], steps: 6, seed: 1, model: toyModel, onStep: (p) => progress.push(p) });
    expect(progress.map(({ ms, ...rest }) => rest)).toEqual(
      Array.from(schedule.timesteps, (timestep, stepIndex) => ({ stepIndex, steps: 6, timestep })),
    );
    expect(progress.every((p) => p.ms >= 0 && Number.isFinite(p.ms))).toBe(true);
  });

  it('stops between steps when the signal fires, with the reason as the cause', async () => {
    const controller = new AbortController();
    const model = vi.fn(toyModel);
    const reason = new Error('user pressed stop');
    const onStep = ({ stepIndex }: StepProgress) => stepIndex === 2 && controller.abort(reason);
    const error = await expectSamplerError(
      () => sample({ latentShape: [n], steps: 10, seed: 1, model, onStep, signal: controller.signal }),
      { name: 'SamplerAbortedError', message: 'sampler: aborted before step 3 of 10 (3 done); no latents are returned' },
    );
    expect(error).toMatchObject({ stepIndex: 3, steps: 10, cause: reason });
    expect(model).toHaveBeenCalledTimes(3);
  });

  it('does not call the model when the signal fired before the first step', async () => {
    const model = vi.fn(toyModel);
    await expectSamplerError(() => sample({ latentShape: [n], steps: 3, seed: 1, model, signal: AbortSignal.abort() }), {
      name: 'SamplerAbortedError',
      message: 'sampler: aborted before step 0 of 3 (0 done); no latents are returned',
    });
    expect(model).not.toHaveBeenCalled();
  });

  describe('errors', () => {
    const base = { latentShape: [n], steps: 4, seed: 1, model: toyModel };

    it.each([
      ['steps 0', { steps: 0 }, 'sampler: steps is 0: expected an integer >= 1'],
      ['steps 1.5', { steps: 1.5 }, 'sampler: steps is 1.5: expected an integer >= 1'],
      ['shift 0', { shift: 0 }, 'sampler: shift is 0: expected a finite number > 0 (Wan2.1 T2V uses 5.0)'],
      ['shift NaN', { shift: Number.NaN }, 'sampler: shift is NaN: expected a finite number > 0 (Wan2.1 T2V uses 5.0)'],
      ['guidance NaN', { guidance: Number.NaN }, 'sampler: guidance is NaN: expected a finite number (Wan2.1 uses 5.0; 1 is no guidance)'],
      ['guidance Infinity', { guidance: Infinity }, 'sampler: guidance is Infinity: expected a finite number (Wan2.1 uses 5.0; 1 is no guidance)'],
      ['solver ddim', { solver: 'ddim' }, "sampler: solver is \"ddim\": expected one of 'unipc', 'euler'"],
      ['latentShape []', { latentShape: [] }, 'sampler: latentShape is []: expected a non-empty array of positive integers'],
      ['latentShape [16, 0]', { latentShape: [16, 0] }, 'sampler: latentShape[1] is 0: expected a positive integer'],
      ['a model that is not a function', { model: 42 }, 'sampler: model is 42: expected a function ({ latents, timestep, sigma, stepIndex, steps }) => { cond, uncond } | { velocity }'],
      ['seed -3', { seed: -3 }, 'sampler: seed is -3: expected an integer in [0, 2^64): a number up to 2^53 - 1 or a bigint'],
      ['no seed and no noise', { seed: undefined }, 'sampler: seed is undefined: pass a seed (an integer in [0, 2^64)) or the initial noise'],
      ['both seed and noise', { noise: new Float32Array(n) }, 'sampler: seed is 1: pass either seed or noise, not both'],
    ])('rejects %s', async (_, options, message) => {
      await expectSamplerError(() => sample({ ...base, ...options } as never), { name: 'SamplerOptionError', message });
    });

    it('rejects initial latents of the wrong length or type', async () => {
      await expectSamplerError(() => sample({ ...base, seed: undefined, latentShape: [2, 8], noise: new Float32Array(15) } as never), {
        name: 'SamplerTensorError',
        message: 'sampler: noise has 15 values: expected 16, the product of latentShape [2, 8]',
      });
      await expectSamplerError(() => sample({ ...base, seed: undefined, noise: new Float64Array(n) } as never), {
        name: 'SamplerTensorError',
        message: 'sampler: noise is a Float64Array: expected a Float32Array',
      });
    });

    it('names the step, timestep and index of a NaN in a model output', async () => {
      const model: VelocityModel = (input) => {
        const { cond, uncond } = cfgModel(input) as { cond: Float32Array; uncond: Float32Array };
        if (input.stepIndex === 2) uncond[7] = Number.NaN;
        return { cond, uncond };
      };
      const error = await expectSamplerError(() => sample({ ...base, model }), {
        name: 'SamplerNonFiniteError',
        message:
          'sampler: model output uncond holds NaN at flat index 7 at step 2 of 4 (timestep 833): a velocity must be finite; the model diverged or returned memory it never wrote',
      });
      expect(error).toMatchObject({ tensor: 'model output uncond', stepIndex: 2, index: 7 });
      expect(Number.isNaN((error as unknown as { value: number }).value)).toBe(true);
    });

    it('catches a guided velocity that overflows float32', async () => {
      const model: VelocityModel = () => ({ cond: new Float32Array(n).fill(3e38), uncond: new Float32Array(n).fill(-3e38) });
      await expectSamplerError(() => sample({ ...base, model }), {
        name: 'SamplerNonFiniteError',
        message:
          'sampler: guided velocity (guidance 5) holds Infinity at flat index 0 at step 0 of 4 (timestep 999): a velocity must be finite; the model diverged or returned memory it never wrote',
      });
    });

    it.each([
      ['a velocity of the wrong length', () => ({ velocity: new Float32Array(n - 1) }), `sampler: model output velocity at step 0 has ${n - 1} values: expected ${n}, the product of latentShape [${n}]`],
      ['a Float64Array cond', () => ({ cond: new Float64Array(n), uncond: new Float32Array(n) }), 'sampler: model output cond at step 0 is a Float64Array: expected a Float32Array'],
      ['cond without uncond', () => ({ cond: new Float32Array(n) }), 'sampler: model output at step 0 is an object with keys [cond]: expected { cond, uncond } or { velocity }'],
      ['velocity and cond', () => ({ velocity: new Float32Array(n), cond: new Float32Array(n) }), 'sampler: model output at step 0 is an object with keys [velocity, cond]: expected { cond, uncond } or { velocity }'],
      ['undefined', () => undefined, 'sampler: model output at step 0 is undefined: expected { cond, uncond } or { velocity }'],
    ])('rejects %s from the model', async (_, model, message) => {
      await expectSamplerError(() => sample({ ...base, model: model as never }), { name: 'SamplerTensorError', message });
    });
  });
});

describe('sample: abort from an event while the model computes synchronously', () => {
  it('sees a signal fired by a timer between two synchronous model calls', async () => {
    const controller = new AbortController();
    let calls = 0;
    const busy = (ms: number) => {
      const until = Date.now() + ms;
      while (Date.now() < until) {
        /* a synchronous model, like the CPU backend's */
      }
    };
    setTimeout(() => controller.abort(new Error('interrupted')), 5);
    const run = sample({
      latentShape: [1, 1, 2, 2],
      seed: 1,
      steps: 50,
      signal: controller.signal,
      model: ({ latents }) => {
        calls++;
        busy(20);
        return { velocity: new Float32Array(latents.length) };
      },
    });
    await expect(run).rejects.toBeInstanceOf(SamplerAbortedError);
    expect(calls).toBeLessThan(5);
  });
});
