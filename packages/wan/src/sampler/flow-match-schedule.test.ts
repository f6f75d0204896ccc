import { describe, expect, it } from 'vitest';
import { expectSamplerError } from './_errors.test-helpers';
import { scheduleFixture } from './_fixtures.test-helpers';
import { flowMatchSchedule } from './flow-match-schedule';

// wan21-architecture.md 4.2, 50 steps at shift 5.0; the sigmas are the float32 values printed by
// fixtures/make_fixtures.py (they match 4.2's sigmas[0..2] and sigmas[48..50]).
const WAN_T2V_TIMESTEPS = [
  999, 995, 991, 987, 982, 978, 973, 968, 963, 957, 952, 946, 940, 934, 927, 920, 913, 906, 898, 890, 882, 873, 863, 854, 843, 833, 821, 809,
  796, 783, 768, 753, 737, 720, 701, 681, 660, 636, 611, 584, 555, 522, 487, 448, 405, 356, 302, 241, 172, 92,
];
const WAN_T2V_SIGMAS = [
  0.9997998476028442, 0.9957323670387268, 0.9915304780006409, 0.987187385559082, 0.9826958179473877, 0.9780480265617371, 0.9732357859611511,
  0.9682501554489136, 0.9630816578865051, 0.9577199220657349, 0.9521540403366089, 0.9463720321655273, 0.9403610825538635, 0.9341073036193848,
  0.9275957345962524, 0.9208101034164429, 0.913732647895813, 0.9063441753387451, 0.8986237049102783, 0.8905484676361084, 0.8820932507514954,
  0.8732306957244873, 0.8639306426048279, 0.8541598320007324, 0.8438816070556641, 0.8330553770065308, 0.8216361403465271, 0.8095738291740417,
  0.7968124747276306, 0.7832895517349243, 0.7689347267150879, 0.7536689043045044, 0.7374023795127869, 0.720033586025238, 0.7014464139938354,
  0.6815081238746643, 0.6600657105445862, 0.6369423866271973, 0.6119323968887329, 0.5847949981689453, 0.5552467703819275, 0.5229514837265015,
  0.48750731348991394, 0.44843021035194397, 0.40513139963150024, 0.35688769817352295, 0.3028006851673126, 0.24174034595489502,
  0.17226514220237732, 0.09250685572624207, 0,
];

function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number): void {
  expect(actual.length).toBe(expected.length);
  for (let k = 0; k < expected.length; k++) {
    if (!(Math.abs(actual[k]! - expected[k]!) <= tolerance)) expect.fail(`index ${k}: ${actual[k]} vs ${expected[k]}`);
  }
}

describe('flowMatchSchedule', () => {
  it("gives Wan2.1 T2V's 50 timesteps and 51 sigmas at shift 5.0 by default", () => {
    const schedule = flowMatchSchedule();
    expect(schedule).toMatchObject({ steps: 50, shift: 5, numTrainTimesteps: 1000 });
    expect(Array.from(schedule.timesteps)).toEqual(WAN_T2V_TIMESTEPS);
    expectClose(schedule.sigmas, WAN_T2V_SIGMAS, 1e-12);
    expect(schedule.sigmas).toBeInstanceOf(Float64Array);
    expect(schedule.timesteps).toBeInstanceOf(Int32Array);
  });

  it.each(scheduleFixture.cases.map((c) => [c.steps, c.shift, c.numTrainTimesteps, c] as const))(
    'matches the numpy transcription for %i steps at shift %d over %i training timesteps',
    (steps, shift, numTrainTimesteps, expected) => {
      const schedule = flowMatchSchedule({ steps, shift, numTrainTimesteps });
      expect(Array.from(schedule.timesteps)).toEqual(expected.timesteps);
      expectClose(schedule.sigmas, expected.sigmas, 1e-12);
    },
  );

  it('holds float32 sigmas that strictly decrease from below 1 to exactly 0', () => {
    for (const [steps, shift] of [[50, 5], [20, 3], [1, 1], [7, 12]] as const) {
      const { sigmas } = flowMatchSchedule({ steps, shift });
      expect(sigmas.length).toBe(steps + 1);
      expect(sigmas[steps]).toBe(0);
      expect(sigmas[0]).toBeLessThan(1);
      sigmas.forEach((sigma, k) => {
        expect(Math.fround(sigma)).toBe(sigma);
        if (k > 0) expect(sigma).toBeLessThan(sigmas[k - 1]!);
      });
    }
  });

  it('starts from float32(1 - 1/1000) = 0.9990000128746033 before the shift (shift 1 is the identity)', () => {
    const { sigmas, timesteps } = flowMatchSchedule({ steps: 1, shift: 1 });
    expect(Array.from(sigmas)).toEqual([0.9990000128746033, 0]);
    expect(Array.from(timesteps)).toEqual([999]);
  });

  it('truncates the float64 sigma, before its float32 rounding, into the timestep (4.2, 9.6)', () => {
    // at 37 steps and shift 1, float32 rounds sigma_2 just below 0.945: truncating it would give 944
    const { sigmas, timesteps } = flowMatchSchedule({ steps: 37, shift: 1 });
    expect(timesteps[2]).toBe(945);
    expect(Math.trunc(sigmas[2]! * 1000)).toBe(944);
  });

  it('feeds the DiT the 20-step timesteps of shift 3.0 and 1.0', () => {
    const at = (shift: number) => scheduleFixture.cases.find((c) => c.steps === 20 && c.shift === shift)!;
    expect(Array.from(flowMatchSchedule({ steps: 20, shift: 3 }).timesteps)).toEqual(at(3).timesteps);
    expect(Array.from(flowMatchSchedule({ steps: 20, shift: 1 }).timesteps)).toEqual(at(1).timesteps);
    expect(at(1).timesteps.slice(0, 3)).toEqual([999, 949, 899]);
  });

  it.each([
    [{ steps: 0 }, 'sampler: steps is 0: expected an integer >= 1'],
    [{ steps: 2.5 }, 'sampler: steps is 2.5: expected an integer >= 1'],
    [{ steps: Number.NaN }, 'sampler: steps is NaN: expected an integer >= 1'],
    [{ steps: '50' }, 'sampler: steps is "50": expected an integer >= 1'],
    [{ shift: 0 }, 'sampler: shift is 0: expected a finite number > 0 (Wan2.1 T2V uses 5.0)'],
    [{ shift: -1 }, 'sampler: shift is -1: expected a finite number > 0 (Wan2.1 T2V uses 5.0)'],
    [{ shift: Infinity }, 'sampler: shift is Infinity: expected a finite number > 0 (Wan2.1 T2V uses 5.0)'],
    [{ shift: Number.NaN }, 'sampler: shift is NaN: expected a finite number > 0 (Wan2.1 T2V uses 5.0)'],
    [{ numTrainTimesteps: 1 }, 'sampler: numTrainTimesteps is 1: expected an integer >= 2 (Wan2.1 was trained with 1000)'],
    [{ numTrainTimesteps: 999.5 }, 'sampler: numTrainTimesteps is 999.5: expected an integer >= 2 (Wan2.1 was trained with 1000)'],
  ])('rejects %j with the message %j', async (options, message) => {
    await expectSamplerError(() => flowMatchSchedule(options as never), { name: 'SamplerOptionError', message });
  });
});
