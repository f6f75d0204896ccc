import type { WanConfig } from './config';
import { WanInputError } from './errors';
import { ROPE_MAX_POSITIONS } from './rope';

/** A latent video's shape [inDim, F, H, W] and its patch grid [F', H', W'] (wan21-architecture.md 1.5, 5). */
export interface LatentGrid {
  readonly latentShape: readonly [number, number, number, number];
  readonly grid: readonly [number, number, number];
}

/**
 * Checks a latent shape against the config (four integers, inDim channels, each axis a multiple of the patch size and
 * within the reference's RoPE tables) and returns it with its patch grid; errors are WanInputErrors of `caller`.
 */
export function latentGridOf(options: { config: WanConfig; latentShape: unknown; caller: string }): LatentGrid {
  const { config, latentShape, caller } = options;
  const bad = (input: string, value: unknown, rule: string): never => {
    throw new WanInputError({ caller, input, value, rule });
  };
  if (!Array.isArray(latentShape) || latentShape.length !== 4 || !latentShape.every((d) => Number.isSafeInteger(d) && d >= 1)) {
    bad('latentShape', latentShape, 'expected four integers >= 1: [inDim, F, H, W]');
  }
  const shape = latentShape as readonly [number, number, number, number];
  if (shape[0] !== config.inDim) bad('latentShape[0]', shape[0], `expected inDim = ${config.inDim} latent channels`);
  const grid = [1, 2, 3].map((axis) => {
    const size = shape[axis] as number;
    const patch = config.patchSize[axis - 1] as number;
    const name = 'FHW'[axis - 1];
    if (size % patch !== 0) bad(`latentShape[${axis}]`, size, `expected a multiple of the patch size ${patch} (${name})`);
    if (size / patch > ROPE_MAX_POSITIONS) {
      bad(`latentShape[${axis}]`, size, `expected at most ${ROPE_MAX_POSITIONS} patches along ${name} (the reference's RoPE tables, 1.3)`);
    }
    return size / patch;
  }) as unknown as readonly [number, number, number];
  return { latentShape: shape, grid };
}
