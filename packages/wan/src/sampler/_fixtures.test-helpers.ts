// Loads the JSON that fixtures/make_fixtures.py writes (an independent numpy transcription of
// wan21-architecture.md section 4 and of the noise algorithm). Rerun the script to regenerate them.
import { readFileSync } from 'node:fs';

function load<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')) as T;
}

export interface ScheduleFixture {
  cases: { steps: number; shift: number; numTrainTimesteps: number; timesteps: number[]; sigmas: number[] }[];
}

export interface TrajectoryFixture {
  /** v[k] = a[k]*x[k] + c[k]*x[(k+1) % n] + b[k]*(timestep/1000) */
  xT: number[];
  a: number[];
  b: number[];
  c: number[];
  /** float64 and float32 hold the steps + 1 states x_0 .. x_N of one run in that precision. */
  cases: { solver: 'unipc' | 'euler'; steps: number; shift: number; float64: number[][]; float32: number[][] }[];
}

export interface NoiseFixture {
  philoxKat: { counter: number[]; key: number[]; output: number[] }[];
  /** seed as a decimal string (it may exceed 2^53); bits are the float32 bit patterns of values. */
  cases: { seed: string; offset: number; values: number[]; bits: number[] }[];
  seed2024: { count: number; mean: number; std: number };
}

export const scheduleFixture = load<ScheduleFixture>('schedule.json');
export const trajectoryFixture = load<TrajectoryFixture>('trajectories.json');
export const noiseFixture = load<NoiseFixture>('noise.json');

/** The toy velocity model of trajectories.json, in float64, rounded to float32 on store. */
export function toyVelocity(options: { x: Float32Array; timestep: number }): Float32Array {
  const { a, b, c } = trajectoryFixture;
  const { x, timestep } = options;
  const n = x.length;
  const v = new Float32Array(n);
  for (let k = 0; k < n; k++) v[k] = a[k]! * x[k]! + c[k]! * x[(k + 1) % n]! + b[k]! * (timestep / 1000);
  return v;
}

/** max |x - y| over two equally long runs of states. */
export function maxAbsDifference(x: ArrayLike<number>[], y: ArrayLike<number>[]): number {
  let max = 0;
  x.forEach((state, i) => {
    for (let k = 0; k < state.length; k++) max = Math.max(max, Math.abs(state[k]! - y[i]![k]!));
  });
  return max;
}
