import { describe, expect, it } from 'vitest';
import { expectSamplerError } from './_errors.test-helpers';
import { maxAbsDifference, toyVelocity, trajectoryFixture } from './_fixtures.test-helpers';
import { createEulerSolver } from './euler-solver';
import { flowMatchSchedule } from './flow-match-schedule';

describe('createEulerSolver', () => {
  it.each(trajectoryFixture.cases.filter((c) => c.solver === 'euler').map((c) => [c.steps, c.shift, c] as const))(
    'follows the numpy transcription within float32 noise (%i steps, shift %d)',
    (steps, shift, expected) => {
      const { sigmas, timesteps } = flowMatchSchedule({ steps, shift });
      const solver = createEulerSolver({ sigmas });
      const states: Float32Array[] = [Float32Array.from(trajectoryFixture.xT)];
      for (let i = 0; i < steps; i++) {
        states.push(solver.step({ modelOutput: toyVelocity({ x: states[i]!, timestep: timesteps[i]! }), sample: states[i]!, stepIndex: i }));
      }
      const error = maxAbsDifference(states, expected.float64);
      expect(error).toBeLessThanOrEqual(2 * maxAbsDifference(expected.float32, expected.float64));
      expect(error).toBeLessThan(1e-6);
    },
  );

  it('computes x + (sigma_{i+1} - sigma_i) v, rounded to float32 once', () => {
    const solver = createEulerSolver({ sigmas: [0.75, 0.5, 0] });
    const sample = Float32Array.of(1, -2, 0.1, 3e-8);
    const modelOutput = Float32Array.of(2, 0.5, -0.3, 1e-7);
    expect(Array.from(solver.step({ modelOutput, sample, stepIndex: 0 }))).toEqual(
      Array.from(sample, (x, k) => Math.fround(x - 0.25 * modelOutput[k]!)),
    );
    expect(Array.from(solver.step({ modelOutput, sample, stepIndex: 1 }))).toEqual(
      Array.from(sample, (x, k) => Math.fround(x - 0.5 * modelOutput[k]!)),
    );
  });

  it.each([
    [1, 5],
    [10, 5],
    [50, 5],
    [20, 3],
  ])('lands on x0 when the model returns the exact velocity of a straight-line flow (%i steps, shift %d)', (steps, shift) => {
    const { sigmas } = flowMatchSchedule({ steps, shift });
    const x0 = Float32Array.from({ length: 64 }, (_, k) => Math.sin(1.7 * k + 0.3) * 1.5);
    const noise = Float32Array.from({ length: 64 }, (_, k) => Math.cos(2.3 * k) * 1.2 - 0.1);
    const velocity = Float32Array.from(noise, (n, k) => n - x0[k]!);
    let x: Float32Array = Float32Array.from(x0, (x, k) => (1 - sigmas[0]!) * x + sigmas[0]! * noise[k]!);
    const solver = createEulerSolver({ sigmas });
    for (let i = 0; i < steps; i++) x = solver.step({ modelOutput: velocity, sample: x, stepIndex: i });
    expect(maxAbsDifference([x], [x0])).toBeLessThan(1e-5);
  });

  it('keeps no state: a step gives the same result whenever it runs', () => {
    const solver = createEulerSolver({ sigmas: flowMatchSchedule({ steps: 3 }).sigmas });
    const x = Float32Array.from(trajectoryFixture.xT);
    const v = toyVelocity({ x, timestep: 500 });
    const first = solver.step({ modelOutput: v, sample: x, stepIndex: 2 });
    solver.step({ modelOutput: v, sample: x, stepIndex: 0 });
    expect(solver.step({ modelOutput: v, sample: x, stepIndex: 2 })).toEqual(first);
    expect(solver).toMatchObject({ name: 'euler', steps: 3 });
  });

  it('accepts sigma 1 and equal neighbours, which UniPC cannot take', () => {
    const solver = createEulerSolver({ sigmas: [1, 0.5, 0.5, 0] });
    const one = Float32Array.of(1);
    expect(Array.from(solver.step({ modelOutput: one, sample: one, stepIndex: 0 }))).toEqual([0.5]);
  });

  it('rejects a step index outside the schedule and sigmas that increase', async () => {
    const solver = createEulerSolver({ sigmas: [0.5, 0] });
    const one = Float32Array.of(1);
    for (const stepIndex of [-1, 1, 0.5]) {
      await expectSamplerError(() => solver.step({ modelOutput: one, sample: one, stepIndex }), {
        name: 'SamplerOptionError',
        message: `sampler: stepIndex is ${stepIndex}: expected an integer in [0, 0] (the schedule has 1 steps)`,
      });
    }
    await expectSamplerError(() => createEulerSolver({ sigmas: [0.5, 0.6] }), {
      name: 'SamplerOptionError',
      message: 'sampler: sigmas[1] is 0.6: expected less than sigmas[0] = 0.5: noise levels decrease',
    });
    await expectSamplerError(() => createEulerSolver({ sigmas: [1.5, 0] }), {
      name: 'SamplerOptionError',
      message: 'sampler: sigmas[0] is 1.5: expected a finite number in [0, 1]',
    });
  });
});
