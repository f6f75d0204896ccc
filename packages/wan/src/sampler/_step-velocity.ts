/**
 * The velocity v_i a solver step reads: the model's own, or its cond and uncond, which the step's pass guides element by
 * element (wan21-architecture.md 4.4), so that the guided velocity is never stored: one pass over the latents instead
 * of a pass writing it and another reading it back.
 */
export type StepVelocity = { velocity: Float32Array } | { cond: Float32Array; uncond: Float32Array; guidance: number };

/** v = uncond + g (cond - uncond), formed in float64 and rounded to float32 once, as `classifierFreeGuidance` stores it. */
export function guidedValue(cond: number, uncond: number, guidance: number): number {
  return Math.fround(uncond + guidance * (cond - uncond));
}

/**
 * What a pass reads for v_i: at element k, `guidedValue(cond[k], uncond[k], guidance)`, so that each pass has one loop
 * (a branch per element on the kind costs a tenth of a pass). A velocity of the model's own is read as its own
 * guidance -1: u + (-1) (u - u) = u + (-0) = u exactly for every finite float32 u, -0 included (guidance +1 would turn
 * -0 into +0), and Math.fround(u) = u; a NaN or infinity gives NaN, still caught as non-finite (the error reports
 * the model's value, read from the array).
 */
export interface VelocityOperands {
  cond: Float32Array;
  uncond: Float32Array;
  guidance: number;
}

export function velocityOperands(velocity: StepVelocity): VelocityOperands {
  if ('velocity' in velocity) return { cond: velocity.velocity, uncond: velocity.velocity, guidance: -1 };
  return velocity;
}

/** The array a solver's length checks use: the velocity, or cond. */
export function velocityTensor(velocity: StepVelocity): Float32Array {
  return 'velocity' in velocity ? velocity.velocity : velocity.cond;
}
