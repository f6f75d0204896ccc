/**
 * The sampler's view of the device DiT: one batch-2 forward per step (conditional and unconditional prompt on the same
 * latents, wan21-architecture.md 4.4), self-attention planned per (step, layer, head) by a @fpsattn/scheduler
 * schedule, the plan of each layer resolved once per step.
 */
import { type AttentionPlan, type ScheduleConfig, resolvePlan } from '@fpsattn/scheduler';
import { WanInputError } from '../model/errors';
import type { VelocityModel, VelocityModelInput } from '../sampler/types';
import type { LayerAttention, WanDeviceDit, WanDeviceText } from './device-forward';
import type { DeviceVelocityModel } from './device-sample';

export interface WanDeviceVelocityModelOptions {
  dit: WanDeviceDit;
  /** Two prompts, encoded once for the whole sample: [conditional, unconditional] (encodeText with 2 contexts). */
  text: WanDeviceText;
  latentShape: readonly number[];
  /** The attention schedule (its `steps` must be the sampler's); absent: dense BF16 at every step. */
  schedule?: ScheduleConfig;
  /** Called after each step's forward with the plans it used (layer 0, head 0 first), for progress reports. */
  onPlans?: (step: number, plans: readonly LayerAttention[]) => void;
}

/** The plans of every layer at `step`: one plan when every head shares it, else one per head. */
export function layerPlansAt(schedule: ScheduleConfig, step: number): LayerAttention[] {
  const { layers, heads } = schedule.model;
  return Array.from({ length: layers }, (_, layer) => {
    const perHead: AttentionPlan[] = Array.from({ length: heads }, (_, head) => resolvePlan({ config: schedule, step, layer, head }).plan);
    const first = JSON.stringify(perHead[0]);
    return perHead.every((p) => JSON.stringify(p) === first) ? (perHead[0] as AttentionPlan) : perHead;
  });
}

export function wanDeviceVelocityModel(options: WanDeviceVelocityModelOptions): VelocityModel {
  const { dit, text, latentShape, onPlans } = options;
  const plansAt = stepPlans(options, 'wanDeviceVelocityModel');
  return async (input: VelocityModelInput) => {
    const plans = plansAt(input);
    const [cond, uncond] = (await dit.forward({
      latents: [input.latents, input.latents],
      latentShape,
      timestep: input.timestep,
      text,
      ...(plans ? { attention: (layer: number) => plans[layer] as LayerAttention } : {}),
    })) as [Float32Array, Float32Array];
    if (plans) onPlans?.(input.stepIndex, plans);
    return { cond, uncond };
  };
}

/**
 * `wanDeviceVelocityModel` for `sampleOnDevice`: the same batch-2 forward and plans on the device latents
 * (`forwardDevice`, patchified once with repeat 2), returning cond and uncond as views of the velocity tensor (the
 * sampler disposes them); nothing is uploaded or downloaded.
 */
export function wanDeviceTensorModel(options: WanDeviceVelocityModelOptions): DeviceVelocityModel {
  const { dit, text, latentShape, onPlans } = options;
  const plansAt = stepPlans(options, 'wanDeviceTensorModel');
  return async (input) => {
    const plans = plansAt(input);
    const latents = input.latents.reshape([1, ...latentShape]);
    let velocity;
    try {
      velocity = await dit.forwardDevice({
        latents,
        repeat: 2,
        latentShape,
        timestep: input.timestep,
        text,
        ...(plans ? { attention: (layer: number) => plans[layer] as LayerAttention } : {}),
      });
    } finally {
      latents.dispose();
    }
    try {
      if (plans) onPlans?.(input.stepIndex, plans);
      return { cond: velocity.sliceRows(0, 1, 'velocity cond'), uncond: velocity.sliceRows(1, 1, 'velocity uncond') };
    } finally {
      velocity.dispose(); // the views keep the storage until the sampler disposes them
    }
  };
}

/** The checks both models share, and the plans of a step (null without a schedule). */
function stepPlans(options: WanDeviceVelocityModelOptions, caller: string): (input: { steps: number; stepIndex: number }) => LayerAttention[] | null {
  const { dit, text, schedule } = options;
  if (text.batch !== 2) throw new WanInputError({ caller, input: 'text', value: text.batch, rule: 'expected 2 encoded prompts: [conditional, unconditional]' });
  const { numLayers, numHeads } = dit.config;
  if (schedule && (schedule.model.layers !== numLayers || schedule.model.heads !== numHeads)) {
    throw new WanInputError({
      caller,
      input: 'schedule.model',
      value: `${schedule.model.layers} layers x ${schedule.model.heads} heads`,
      rule: `expected the DiT's ${numLayers} layers x ${numHeads} heads`,
    });
  }
  return (input) => {
    if (schedule && input.steps !== schedule.steps) {
      throw new WanInputError({ caller, input: 'steps', value: input.steps, rule: `expected the schedule's ${schedule.steps} steps` });
    }
    return schedule ? layerPlansAt(schedule, input.stepIndex) : null;
  };
}
