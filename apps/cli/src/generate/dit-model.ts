// The DiT of a `fpsattn generate` run: the built-in wan-tiny or a checkpoint's config (names and shapes checked, no
// weights read), and the token grid it makes of the requested video.
import type { GridDims } from '@fpsattn/tiling';
import { WAN_CONFIG_PRESETS, latentShapeFor, openCheckpoint, prepareWanCheckpoint, wanHeadDim, type Checkpoint, type WanConfig } from '@fpsattn/wan';

/** The built-in model: wan-tiny with synthetic weights (2 layers, 2 heads of 128), sampled at 160x128, 9 frames. */
export const BUILT_IN_MODEL = 'wan-tiny';

/** The built-in model's config (checkpoint null), or a checkpoint's, left open for the weights to load from later. */
export async function openDitModel(checkpointPath: string | undefined): Promise<{ config: WanConfig; checkpoint: Checkpoint | null }> {
  if (checkpointPath === undefined) return { config: WAN_CONFIG_PRESETS[BUILT_IN_MODEL], checkpoint: null };
  const checkpoint = await openCheckpoint(checkpointPath);
  try {
    return { config: (await prepareWanCheckpoint({ checkpoint, path: checkpoint.path })).config, checkpoint };
  } catch (error) {
    await checkpoint.close().catch(() => undefined);
    throw error;
  }
}

/** The token grid a width x height x frames video makes for `config`, and the attention shape the schedule must fit. */
export function attentionGeometry(options: { config: WanConfig; width: number; height: number; frames: number }): {
  grid: GridDims;
  model: { layers: number; heads: number; headDim: number };
} {
  const { config, width, height, frames } = options;
  const latentShape = latentShapeFor({ width, height, frames, latentChannels: config.inDim, patch: [config.patchSize[1], config.patchSize[2]] });
  const grid: GridDims = {
    frames: (latentShape[1] as number) / config.patchSize[0],
    height: (latentShape[2] as number) / config.patchSize[1],
    width: (latentShape[3] as number) / config.patchSize[2],
  };
  return { grid, model: { layers: config.numLayers, heads: config.numHeads, headDim: wanHeadDim(config) } };
}
