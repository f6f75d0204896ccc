import { describe, expect, it } from 'vitest';
import { expectSamplerError } from './_errors.test-helpers';
import { maxAbsDifference, toyVelocity, trajectoryFixture } from './_fixtures.test-helpers';
import { flowMatchSchedule } from './flow-match-schedule';
import type { FlowSolver } from './types';
import { createUniPcSolver } from './unipc-solver';

/** x_0 .. x_N of one run of `solver` on the toy model of trajectories.json. */
function toyTrajectory(options: { solver: FlowSolver; timesteps: Int32Array }): Float32Array[] {
  const { solver, timesteps } = options;
  const states: Float32Array[] = [Float32Array.from(trajectoryFixture.xT)];
  for (let i = 0; i < solver.steps; i++) {
    const sample = states[i]!;
    states.push(solver.step({ modelOutput: toyVelocity({ x: sample, timestep: timesteps[i]! }), sample, stepIndex: i }));
  }
  return states;
}

/** A fixed x0 and noise, and the point of the straight line between them at noise level sigma. */
function straightLine(options: { length: number; sigma: number }) {
  const x0 = Float32Array.from({ length: options.length }, (_, k) => Math.sin(1.7 * k + 0.3) * 1.5);
  const noise = Float32Array.from({ length: options.length }, (_, k) => Math.cos(2.3 * k) * 1.2 - 0.1);
  const start = Float32Array.from(x0, (x, k) => (1 - options.sigma) * x + options.sigma * noise[k]!);
  const velocity = Float32Array.from(noise, (n, k) => n - x0[k]!);
  return { x0, start, velocity };
}

describe('createUniPcSolver', () => {
  it.each(trajectoryFixture.cases.filter((c) => c.solver === 'unipc').map((c) => [c.steps, c.shift, c] as const))(
    'follows the numpy transcription of 4.3 within float32 noise (%i steps, shift %d)',
    (steps, shift, expected) => {
      const schedule = flowMatchSchedule({ steps, shift });
      const states = toyTrajectory({ solver: createUniPcSolver({ sigmas: schedule.sigmas }), timesteps: schedule.timesteps });
      const error = maxAbsDifference(states, expected.float64);
      const float32Error = maxAbsDifference(expected.float32, expected.float64);
      // honest tolerance: at most twice the error of a float32 implementation (the reference's precision)
      expect(error).toBeLessThanOrEqual(2 * float32Error);
      expect(error).toBeLessThan(1e-6);
    },
  );

  it.each([
    [1, 5],
    [2, 5],
    [3, 5],
    [10, 5],
    [50, 5],
    [20, 3],
    [50, 1],
  ])('lands on x0 when the model returns the exact velocity of a straight-line flow (%i steps, shift %d)', (steps, shift) => {
    const { sigmas } = flowMatchSchedule({ steps, shift });
    const { x0, start, velocity } = straightLine({ length: 64, sigma: sigmas[0]! });
    const solver = createUniPcSolver({ sigmas });
    let x: Float32Array = start;
    for (let i = 0; i < steps; i++) x = solver.step({ modelOutput: velocity, sample: x, stepIndex: i });
    expect(maxAbsDifference([x], [x0])).toBeLessThan(1e-5);
  });

  it('returns the last x0 prediction m = x - sigma v at the last step, bit for bit (sigma_N = 0)', () => {
    const schedule = flowMatchSchedule({ steps: 6, shift: 5 });
    const solver = createUniPcSolver({ sigmas: schedule.sigmas });
    let x: Float32Array = Float32Array.from(trajectoryFixture.xT);
    for (let i = 0; i < 6; i++) {
      const v = toyVelocity({ x, timestep: schedule.timesteps[i]! });
      const next = solver.step({ modelOutput: v, sample: x, stepIndex: i });
      if (i === 5) expect(next).toEqual(Float32Array.from(x, (xk, k) => xk - schedule.sigmas[5]! * v[k]!));
      x = next;
    }
  });

  it('differs from Euler by much more than its tolerance (the order-2 and corrector terms matter)', () => {
    const schedule = flowMatchSchedule({ steps: 10, shift: 5 });
    const unipc = trajectoryFixture.cases.find((c) => c.solver === 'unipc' && c.steps === 10)!;
    const euler = trajectoryFixture.cases.find((c) => c.solver === 'euler' && c.steps === 10)!;
    expect(maxAbsDifference([unipc.float64[10]!], [euler.float64[10]!])).toBeGreaterThan(1e-3);
    expect(schedule.steps).toBe(10);
  });

  it('never writes its inputs and returns a new array each step', () => {
    const { sigmas, timesteps } = flowMatchSchedule({ steps: 3 });
    const solver = createUniPcSolver({ sigmas });
    let x: Float32Array = Float32Array.from(trajectoryFixture.xT);
    for (let i = 0; i < 3; i++) {
      const v = toyVelocity({ x, timestep: timesteps[i]! });
      const [xCopy, vCopy] = [x.slice(), v.slice()];
      const next = solver.step({ modelOutput: v, sample: x, stepIndex: i });
      expect(next).not.toBe(x);
      expect(x).toEqual(xCopy);
      expect(v).toEqual(vCopy);
      x = next;
    }
    expect(solver).toMatchObject({ name: 'unipc', steps: 3 });
    expect(solver.sigmas).not.toBe(sigmas);
  });

  describe('errors', () => {
    const sigmas = flowMatchSchedule({ steps: 4 }).sigmas;
    const ones = new Float32Array(8).fill(1);

    it('rejects steps out of order and steps after the last', async () => {
      const solver = createUniPcSolver({ sigmas });
      await expectSamplerError(() => solver.step({ modelOutput: ones, sample: ones, stepIndex: 1 }), {
        name: 'SamplerOptionError',
        message: 'sampler: stepIndex is 1: expected 0: UniPC keeps the x0 predictions of its last two steps, so steps run in order 0, 1, ..., 3',
      });
      for (let i = 0; i < 4; i++) solver.step({ modelOutput: ones, sample: ones, stepIndex: i });
      await expectSamplerError(() => solver.step({ modelOutput: ones, sample: ones, stepIndex: 4 }), {
        name: 'SamplerOptionError',
        message: 'sampler: stepIndex is 4: all 4 steps have run: create a new solver to sample again',
      });
    });

    it('rejects a sample whose length changes between steps', async () => {
      const solver = createUniPcSolver({ sigmas });
      solver.step({ modelOutput: ones, sample: ones, stepIndex: 0 });
      const short = new Float32Array(7);
      await expectSamplerError(() => solver.step({ modelOutput: short, sample: short, stepIndex: 1 }), {
        name: 'SamplerTensorError',
        message: 'sampler: sample has 7 values at step 1: expected 8, the length of the latents at step 0: a solver runs over one latent shape',
      });
    });

    it('rejects a model output of the wrong type, length or with NaN, naming the step', async () => {
      const solver = createUniPcSolver({ sigmas });
      await expectSamplerError(() => solver.step({ modelOutput: new Float64Array(8) as never, sample: ones, stepIndex: 0 }), {
        name: 'SamplerTensorError',
        message: 'sampler: modelOutput is a Float64Array: expected a Float32Array',
      });
      await expectSamplerError(() => solver.step({ modelOutput: new Float32Array(9), sample: ones, stepIndex: 0 }), {
        name: 'SamplerTensorError',
        message: 'sampler: modelOutput has 9 values: expected 8, the length of sample',
      });
      await expectSamplerError(() => solver.step({ modelOutput: ones, sample: [1, 2] as never, stepIndex: 0 }), {
        name: 'SamplerTensorError',
        message: 'sampler: sample is object: expected a Float32Array',
      });
      solver.step({ modelOutput: ones, sample: ones, stepIndex: 0 });
      const nan = ones.slice();
      nan[5] = Number.NaN;
      const error = await expectSamplerError(() => solver.step({ modelOutput: nan, sample: ones, stepIndex: 1 }), {
        name: 'SamplerNonFiniteError',
        message:
          'sampler: modelOutput holds NaN at flat index 5 at step 1 of 4: a velocity must be finite; the model diverged or returned memory it never wrote',
      });
      expect(error).toMatchObject({ tensor: 'modelOutput', stepIndex: 1, index: 5 });
    });

    it.each([
      [[0.5], 'sampler: sigmas is [0.5]: expected at least 2 noise levels (steps + 1), as flowMatchSchedule returns them'],
      ['0.5,0', 'sampler: sigmas is "0.5,0": expected at least 2 noise levels (steps + 1), as flowMatchSchedule returns them'],
      [[1, 0], 'sampler: sigmas[0] is 1: UniPC needs 0 < sigma < 1 for every level but the last (log(sigma) and log(1 - sigma) must be finite)'],
      [[0.5, 0, 0], 'sampler: sigmas[1] is 0: UniPC needs 0 < sigma < 1 for every level but the last (log(sigma) and log(1 - sigma) must be finite)'],
      [[0.5, 0.5, 0], 'sampler: sigmas[1] is 0.5: expected strictly less than sigmas[0] = 0.5: noise levels decrease'],
      [[0.5, Number.NaN], 'sampler: sigmas[1] is NaN: expected a finite number in [0, 1]'],
      [[0.5, -0.1], 'sampler: sigmas[1] is -0.1: expected a finite number in [0, 1]'],
      [[0.5, '0'], 'sampler: sigmas[1] is "0": expected a finite number in [0, 1]'],
    ])('rejects the sigmas %j', async (bad, message) => {
      await expectSamplerError(() => createUniPcSolver({ sigmas: bad as never }), { name: 'SamplerOptionError', message });
    });

    it('accepts a last sigma above 0 (a schedule ending at sigma_min)', () => {
      const solver = createUniPcSolver({ sigmas: [0.9, 0.5, 0.1] });
      const x = solver.step({ modelOutput: ones, sample: ones, stepIndex: 0 });
      expect(solver.step({ modelOutput: ones, sample: x, stepIndex: 1 }).every(Number.isFinite)).toBe(true);
    });
  });
});
