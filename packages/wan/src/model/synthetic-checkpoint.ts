import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeSafetensors } from '../safetensors/writer';
import { type WanConfig, validateWanConfig } from './config';
import { wanConfigToJson } from './config-json';
import { type WanNaming, wanNameFromOriginal } from './key-naming';
import { wanTensorSpecs } from './keys';
import { type SyntheticSeed, syntheticWanWeights } from './synthetic-weights';
import type { WanWeights } from './types';

/** The file name of a single-file checkpoint, as in `Wan-AI/Wan2.1-T2V-1.3B` (wan21-architecture.md 3.1). */
export const WAN_CHECKPOINT_FILE = 'diffusion_pytorch_model.safetensors';

export interface SyntheticWanCheckpoint {
  readonly directory: string;
  readonly configFile: string;
  readonly checkpointFile: string;
  /** What the file holds, under the original names. */
  readonly weights: WanWeights;
}

/**
 * Writes a synthetic checkpoint folder for `config` and `seed` (synthetic-weights.ts): `config.json` and one
 * `diffusion_pytorch_model.safetensors` of F32 tensors, `__metadata__ { format: 'pt' }`. By default the names and the
 * config fields are the original ones (3.2, 2); `naming: 'diffusers'` writes diffusers names and fields, `'comfyui'`
 * the prefixed original names (with an original config.json). `directory` is created when absent.
 */
export async function writeSyntheticWanCheckpoint(options: {
  directory: string;
  config: WanConfig;
  seed: SyntheticSeed;
  naming?: WanNaming;
}): Promise<SyntheticWanCheckpoint> {
  const { directory, seed } = options;
  const config = validateWanConfig({ config: options.config });
  const naming = options.naming ?? 'original';
  const weights = syntheticWanWeights({ config, seed });
  const tensors = new Map(
    wanTensorSpecs(config).map(({ name, shape }) => [
      wanNameFromOriginal({ name, naming }) as string,
      { dtype: 'F32' as const, shape, data: weights.get(name) as Float32Array },
    ]),
  );
  await mkdir(directory, { recursive: true });
  const configFile = join(directory, 'config.json');
  await writeFile(configFile, wanConfigToJson({ config, naming: naming === 'diffusers' ? 'diffusers' : 'original' }));
  const checkpointFile = join(directory, WAN_CHECKPOINT_FILE);
  await writeSafetensors({ path: checkpointFile, tensors, metadata: { format: 'pt' } });
  return { directory, configFile, checkpointFile, weights };
}
