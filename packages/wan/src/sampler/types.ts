// Types shared by the files of the sampler.

// ----- Schedule -----

/** The noise levels and timesteps of one sampling run (wan21-architecture.md 4.2); see `flowMatchSchedule`. */
export interface FlowMatchSchedule {
  readonly steps: number;
  readonly shift: number;
  readonly numTrainTimesteps: number;
  /**
   * `steps + 1` noise levels, from just under 1 down to `sigmas[steps] = 0`: the float32 values the reference's
   * solver holds, widened to float64 (every entry is exactly representable in float32).
   */
  readonly sigmas: Float64Array;
  /** `steps` integer timesteps, the one the DiT receives at each step: `trunc(sigma * numTrainTimesteps)`, in float64. */
  readonly timesteps: Int32Array;
}

// ----- Solvers -----

export type SolverName = 'unipc' | 'euler';

export interface SolverStepOptions {
  /** The velocity v_i the model predicts at `sample` (flow matching, v = noise - x0), CFG already applied. */
  modelOutput: Float32Array;
  /** The latents x_i the model saw at this step; never written. */
  sample: Float32Array;
  /** 0-based; `sigmas[stepIndex]` is the noise level of `sample`. */
  stepIndex: number;
}

/** One solver over one schedule: each `step` takes x_i and v_i and returns a new array holding x_{i+1}. */
export interface FlowSolver {
  readonly name: SolverName;
  readonly steps: number;
  readonly sigmas: Float64Array;
  step(options: SolverStepOptions): Float32Array;
}

// ----- Noise -----

/** A seed of `gaussianNoise`: an integer in [0, 2^64), as a number (up to 2^53 - 1) or a bigint. */
export type NoiseSeed = number | bigint;

// ----- Model -----

export interface VelocityModelInput {
  /** x_i, the latents at this step. The sampler reuses the array: read it, never write it. */
  latents: Float32Array;
  /** The integer timestep the DiT embeds (4.2: truncated, not rounded). */
  timestep: number;
  /** The noise level `sigmas[stepIndex]` the solver uses for this step. */
  sigma: number;
  stepIndex: number;
  steps: number;
}

/**
 * What the model returns at one step: the conditional and unconditional velocities, which the sampler combines with
 * the guidance scale (4.4), or one velocity with guidance already applied (then `guidance` is not used).
 */
export type VelocityModelOutput =
  | { cond: Float32Array; uncond: Float32Array; velocity?: never }
  | { velocity: Float32Array; cond?: never; uncond?: never };

/** The DiT (or any velocity field) as the sampler calls it: synchronous or asynchronous. */
export type VelocityModel = (input: VelocityModelInput) => VelocityModelOutput | Promise<VelocityModelOutput>;

// ----- Sampling loop -----

export interface StepProgress {
  stepIndex: number;
  steps: number;
  timestep: number;
  /** Wall time of the step: the model call, guidance and the solver step. */
  ms: number;
}

interface SampleBaseOptions {
  /** The latent shape, e.g. [16, 21, 60, 104] for 832x480 at 81 frames (wan21-architecture.md 5). */
  latentShape: readonly number[];
  /** Default 50. */
  steps?: number;
  /** Default 5.0. */
  shift?: number;
  /** Default 5.0; used when the model returns `{ cond, uncond }`. */
  guidance?: number;
  /** Default 'unipc'. */
  solver?: SolverName;
  /** Default 1000. */
  numTrainTimesteps?: number;
  model: VelocityModel;
  /** Called after each step. */
  onStep?: (progress: StepProgress) => void;
  /** Checked before each step; when it has fired, `sample` throws a SamplerAbortedError. */
  signal?: AbortSignal;
}

/** Options of `sample`: the initial latents come from `seed` (through `gaussianNoise`) or are given as `noise`. */
export type SampleOptions = SampleBaseOptions &
  ({ seed: NoiseSeed; noise?: never } | { noise: Float32Array; seed?: never });

export interface SampleResult {
  /** x_N, the denoised latents (float32, `latentShape`). */
  latents: Float32Array;
  schedule: FlowMatchSchedule;
}
