// The one-pass solvers and `sample` against the three-pass code they replaced (_three-pass-reference.test-helpers.ts):
// the same bits on random data, the same errors, and no array of the caller's written.
import { describe, expect, it } from 'vitest';
import { expectSamplerError } from './_errors.test-helpers';
import { threePassEuler, threePassSample, threePassUniPc } from './_three-pass-reference.test-helpers';
import { createInPlaceEulerSolver } from './euler-solver';
import { flowMatchSchedule } from './flow-match-schedule';
import { sample } from './sample';
import type { VelocityModel } from './types';
import { createInPlaceUniPcSolver, createUniPcSolver } from './unipc-solver';

/** A seeded generator of float32 test data (mulberry32), so a failure replays. */
function randomSource(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const SPECIAL = [0, -0, 1.4e-45, -1.4e-45, 1e-40, 1.1754944e-38, -2.5e-8, 1, -1, 1e20, -3e25];
  return {
    next,
    int: (below: number) => Math.floor(next() * below),
    /** Mostly normal-sized values, with zeros of both signs, subnormals and large values mixed in. */
    values(length: number): Float32Array {
      return Float32Array.from({ length }, () => (next() < 0.05 ? SPECIAL[Math.floor(next() * SPECIAL.length)]! : (next() * 2 - 1) * 3));
    },
  };
}

const bits = (values: Float32Array) => new Uint32Array(values.buffer, values.byteOffset, values.length);
const LENGTH = 1031; // not a multiple of anything

/** A model returning fresh random cond and uncond (or one velocity) per step, the same for every run of one seed. */
function randomModel(options: { seed: number; kind: 'cfg' | 'velocity' }): VelocityModel {
  const outputs = new Map<number, { cond: Float32Array; uncond: Float32Array }>();
  return ({ latents, stepIndex }) => {
    if (!outputs.has(stepIndex)) {
      const random = randomSource(options.seed * 1000 + stepIndex);
      outputs.set(stepIndex, { cond: random.values(latents.length), uncond: random.values(latents.length) });
    }
    const { cond, uncond } = outputs.get(stepIndex)!;
    return options.kind === 'cfg' ? { cond: cond.slice(), uncond: uncond.slice() } : { velocity: cond.slice() };
  };
}

describe('the one-pass solvers', () => {
  const schedules: [string, Float64Array][] = [
    ...[1, 2, 3, 4, 7, 20].map((steps): [string, Float64Array] => [`${steps} steps, shift 5`, flowMatchSchedule({ steps, shift: 5 }).sigmas]),
    ['6 steps, shift 1', flowMatchSchedule({ steps: 6, shift: 1 }).sigmas],
    ['a schedule ending above 0', Float64Array.of(0.9, 0.7, 0.45, 0.2, 0.05)],
  ];

  it.each(schedules)('match the three-pass UniPC bit for bit through step and through stepInto in place (%s)', (_, sigmas) => {
    const random = randomSource(sigmas.length);
    const reference = threePassUniPc(sigmas);
    const returning = createUniPcSolver({ sigmas });
    const inPlace = createInPlaceUniPcSolver({ sigmas });
    let x = random.values(LENGTH);
    const latents = x.slice();
    for (let i = 0; i < sigmas.length - 1; i++) {
      const v = random.values(LENGTH);
      const expected = reference(v, x, i);
      expect(bits(returning.step({ modelOutput: v, sample: x, stepIndex: i }))).toEqual(bits(expected));
      const stepped = inPlace.stepInto({ velocity: { velocity: v }, sample: latents, stepIndex: i, out: latents, throwNonFinite: () => expect.unreachable() });
      expect(stepped).toBe(latents);
      expect(bits(latents)).toEqual(bits(expected));
      x = expected;
    }
  });

  it.each(schedules)('match the three-pass Euler bit for bit in place (%s)', (_, sigmas) => {
    const random = randomSource(100 + sigmas.length);
    const reference = threePassEuler(sigmas);
    const inPlace = createInPlaceEulerSolver({ sigmas });
    let x = random.values(LENGTH);
    const latents = x.slice();
    for (let i = 0; i < sigmas.length - 1; i++) {
      const v = random.values(LENGTH);
      x = reference(v, x, i);
      inPlace.stepInto({ velocity: { velocity: v }, sample: latents, stepIndex: i, out: latents, throwNonFinite: () => expect.unreachable() });
      expect(bits(latents)).toEqual(bits(x));
    }
  });

  it('guide cond and uncond inside the pass to the bits of guiding first (classifierFreeGuidance) and stepping after', () => {
    const { sigmas } = flowMatchSchedule({ steps: 8 });
    const random = randomSource(7);
    for (const guidance of [5, 1, 0, -1.5, 7.25]) {
      const reference = threePassUniPc(sigmas);
      const inPlace = createInPlaceUniPcSolver({ sigmas });
      let x = random.values(LENGTH);
      const latents = x.slice();
      for (let i = 0; i < 8; i++) {
        const [cond, uncond] = [random.values(LENGTH), random.values(LENGTH)];
        const guided = Float32Array.from(cond, (c, k) => uncond[k]! + guidance * (c - uncond[k]!));
        x = reference(guided, x, i);
        inPlace.stepInto({ velocity: { cond, uncond, guidance }, sample: latents, stepIndex: i, out: latents, throwNonFinite: () => expect.unreachable() });
        expect(bits(latents)).toEqual(bits(x));
      }
    }
  });

  it('leave UniPC as it was when a step throws, so the step can run again', async () => {
    const { sigmas } = flowMatchSchedule({ steps: 5 });
    const random = randomSource(11);
    const reference = threePassUniPc(sigmas);
    const solver = createUniPcSolver({ sigmas });
    let x = random.values(LENGTH);
    for (let i = 0; i < 5; i++) {
      const v = random.values(LENGTH);
      if (i === 2 || i === 4) {
        const bad = v.slice();
        bad[LENGTH - 3] = Number.NaN;
        await expectSamplerError(() => solver.step({ modelOutput: bad, sample: x, stepIndex: i }), {
          name: 'SamplerNonFiniteError',
          message: `sampler: modelOutput holds NaN at flat index ${LENGTH - 3} at step ${i} of 5: a velocity must be finite; the model diverged or returned memory it never wrote`,
        });
      }
      const next = solver.step({ modelOutput: v, sample: x, stepIndex: i });
      x = reference(v, x, i);
      expect(bits(next)).toEqual(bits(x));
    }
  });

  it('step in place when the velocity is the output array itself', () => {
    const { sigmas } = flowMatchSchedule({ steps: 6 });
    const random = randomSource(12);
    const reference = threePassUniPc(sigmas);
    const inPlace = createInPlaceUniPcSolver({ sigmas });
    let x = random.values(LENGTH);
    const latents = x.slice();
    for (let i = 0; i < 6; i++) {
      x = reference(x, x, i); // v = x
      inPlace.stepInto({ velocity: { velocity: latents }, sample: latents, stepIndex: i, out: latents, throwNonFinite: () => expect.unreachable() });
      expect(bits(latents)).toEqual(bits(x));
    }
  });
});

describe('sample against the three-pass loop', () => {
  const cases = (['unipc', 'euler'] as const).flatMap((solver) =>
    (['cfg', 'velocity'] as const).flatMap((kind) => [1, 2, 3, 10, 25].map((steps) => [solver, kind, steps] as const)),
  );

  it.each(cases)('gives the same bits (%s, %s, %i steps)', async (solver, kind, steps) => {
    const noise = randomSource(steps).values(LENGTH);
    for (const guidance of kind === 'cfg' ? [5, 0, -2.5] : [5]) {
      const model = randomModel({ seed: steps, kind });
      const expected = await threePassSample({ noise, steps, guidance, solver, model });
      const { latents } = await sample({ latentShape: [LENGTH], noise, steps, guidance, solver, model });
      expect(bits(latents)).toEqual(bits(expected));
    }
  });

  it('writes none of the arrays the model returns, nor the noise', async () => {
    const random = randomSource(3);
    const noise = random.values(LENGTH);
    const noiseCopy = noise.slice();
    const returned: Float32Array[] = [];
    const copies: Float32Array[] = [];
    const model: VelocityModel = ({ stepIndex }) => {
      const output = stepIndex % 2 ? { velocity: random.values(LENGTH) } : { cond: random.values(LENGTH), uncond: random.values(LENGTH) };
      for (const values of Object.values(output)) {
        returned.push(values);
        copies.push(values.slice());
      }
      return output;
    };
    for (const solver of ['unipc', 'euler'] as const) await sample({ latentShape: [LENGTH], noise, steps: 6, solver, model });
    expect(bits(noise)).toEqual(bits(noiseCopy));
    returned.forEach((values, k) => expect(bits(values)).toEqual(bits(copies[k]!)));
  });

  it('gives the same bits when the model returns the latents it was given as a velocity, cond or uncond', async () => {
    const noise = randomSource(4).values(LENGTH);
    const other = randomSource(5).values(LENGTH);
    const aliasing: [string, VelocityModel, VelocityModel][] = [
      ['velocity', ({ latents }) => ({ velocity: latents }), ({ latents }) => ({ velocity: latents.slice() })],
      ['cond', ({ latents }) => ({ cond: latents, uncond: other }), ({ latents }) => ({ cond: latents.slice(), uncond: other })],
      ['uncond', ({ latents }) => ({ cond: other, uncond: latents }), ({ latents }) => ({ cond: other, uncond: latents.slice() })],
    ];
    for (const [, aliased, copying] of aliasing) {
      for (const solver of ['unipc', 'euler'] as const) {
        const expected = await threePassSample({ noise, steps: 7, guidance: 5, solver, model: copying });
        expect(bits((await sample({ latentShape: [LENGTH], noise, steps: 7, solver, model: aliased })).latents)).toEqual(bits(expected));
      }
    }
  });

  /** The error `run` rejects with, or fails. */
  async function rejection(run: () => Promise<unknown>): Promise<Error & Record<string, unknown>> {
    try {
      await run();
    } catch (error) {
      return error as Error & Record<string, unknown>;
    }
    return expect.unreachable('expected an error');
  }

  it('throws the error of checking cond, uncond and the guided velocity in turn, wherever the bad values are', async () => {
    const random = randomSource(21);
    const BAD = [Number.NaN, Infinity, -Infinity];
    for (let trial = 0; trial < 120; trial++) {
      const steps = 1 + random.int(5);
      const badStep = random.int(steps);
      const kind = trial % 4 === 0 ? 'velocity' : 'cfg';
      const guidance = [5, 0, 1, -2][random.int(4)]!;
      // per trial: a few bad values in cond and/or uncond (or the velocity), or a pair that overflows float32 when guided
      const plan = Array.from({ length: 1 + random.int(3) }, () => ({
        tensor: random.int(2) ? 'cond' : 'uncond',
        index: random.int(LENGTH),
        value: BAD[random.int(3)]!,
        overflow: random.next() < 0.3,
      }));
      const inner = randomModel({ seed: trial, kind });
      const model: VelocityModel = async (input) => {
        const output = await inner(input);
        if (input.stepIndex !== badStep) return output;
        const arrays = output as { cond?: Float32Array; uncond?: Float32Array; velocity?: Float32Array };
        for (const { tensor, index, value, overflow } of plan) {
          if (arrays.velocity) arrays.velocity[index] = value;
          else if (overflow && guidance !== 0 && guidance !== 1) [arrays.cond![index], arrays.uncond![index]] = [3e38, -3e38];
          else arrays[tensor as 'cond' | 'uncond']![index] = value;
        }
        return output;
      };
      const noise = random.values(LENGTH);
      const solver = trial % 3 === 0 ? 'euler' : 'unipc';
      const expected = await rejection(() => threePassSample({ noise, steps, guidance, solver, model }));
      const actual = await rejection(() => sample({ latentShape: [LENGTH], noise, steps, guidance, solver, model }));
      expect(actual.name).toBe(expected.name);
      expect(actual.message).toBe(expected.message);
      expect(actual).toMatchObject({ tensor: expected.tensor, stepIndex: expected.stepIndex, index: expected.index });
      expect(Object.is(actual.value, expected.value)).toBe(true);
    }
  });

  it('names the first bad value of the model output it was given back, when that array is also where the step writes', async () => {
    const noise = randomSource(6).values(LENGTH);
    noise[700] = Infinity;
    noise[300] = Number.NaN;
    await expectSamplerError(() => sample({ latentShape: [LENGTH], noise, steps: 3, model: ({ latents }) => ({ velocity: latents }) }), {
      name: 'SamplerNonFiniteError',
      message:
        'sampler: model output velocity holds NaN at flat index 300 at step 0 of 3 (timestep 999): a velocity must be finite; the model diverged or returned memory it never wrote',
    });
    const uncond = new Float32Array(LENGTH);
    uncond[200] = -Infinity;
    await expectSamplerError(() => sample({ latentShape: [LENGTH], noise, steps: 3, model: ({ latents }) => ({ cond: latents, uncond }) }), {
      name: 'SamplerNonFiniteError',
      message:
        'sampler: model output cond holds NaN at flat index 300 at step 0 of 3 (timestep 999): a velocity must be finite; the model diverged or returned memory it never wrote',
    });
  });

  it('reports a NaN in cond before an uncond of the wrong length, as when cond was checked in full first', async () => {
    const cond = new Float32Array(LENGTH);
    cond[LENGTH - 1] = Number.NaN;
    await expectSamplerError(
      () => sample({ latentShape: [LENGTH], seed: 1, steps: 2, model: () => ({ cond, uncond: new Float32Array(LENGTH - 1) }) }),
      {
        name: 'SamplerNonFiniteError',
        message: `sampler: model output cond holds NaN at flat index ${LENGTH - 1} at step 0 of 2 (timestep 999): a velocity must be finite; the model diverged or returned memory it never wrote`,
      },
    );
    await expectSamplerError(
      () => sample({ latentShape: [LENGTH], seed: 1, steps: 2, model: () => ({ cond: new Float32Array(LENGTH), uncond: new Float32Array(LENGTH - 1) }) }),
      {
        name: 'SamplerTensorError',
        message: `sampler: model output uncond at step 0 has ${LENGTH - 1} values: expected ${LENGTH}, the product of latentShape [${LENGTH}]`,
      },
    );
  });
});
