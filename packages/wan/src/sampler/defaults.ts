import type { SolverName } from './types';

/**
 * The sampling defaults of Wan2.1 text-to-video in the original CLI (wan21-architecture.md 4.1, `W:generate.py`):
 * UniPC, 50 steps, shift 5.0 and guidance 5.0, over the 1000 training timesteps of the schedule (4.2).
 *
 * The original CLI uses shift 5.0 for every T2V model and size (1.3B and 14B, 480p and 720p); 3.0 is its I2V-480p value
 * and 16 its FLF2V/VACE value. Two other sources disagree and are not defaults here: Wan's README advises guidance 6
 * and shift 8-12 for the 1.3B model, and the diffusers T2V checkpoints ship `flow_shift = 3.0` (their docstring: 5.0
 * for 720p, 3.0 for 480p).
 */
export const WAN_T2V_SAMPLING_DEFAULTS: Readonly<{
  solver: SolverName;
  steps: number;
  shift: number;
  guidance: number;
  numTrainTimesteps: number;
}> = Object.freeze({ solver: 'unipc', steps: 50, shift: 5.0, guidance: 5.0, numTrainTimesteps: 1000 });

/** The solvers `sample` accepts. */
export const SOLVER_NAMES: readonly SolverName[] = Object.freeze(['unipc', 'euler']);
