// The shapes `fpsattn bench` runs at: Wan2.1 models at their released resolutions (81 frames), a tiny shape for dry
// runs, or an explicit token grid.
import type { Dims3 } from '@fpsattn/tiling';
import type { WanPresetName } from '@fpsattn/wan';
import { UsageError } from '../_errors';
import { parseDims3 } from '../_parse';

export interface BenchShape {
  /** The name given (`wan-1.3b-720p`, `tiny`) or the explicit grid (`21x45x80`). */
  readonly name: string;
  /** The Wan model of the DiT benchmark (its heads are the attention benchmark's). */
  readonly config: WanPresetName;
  /** Self-attention token grid (latent frames, H/16, W/16). */
  readonly grid: Dims3;
  readonly heads: number;
  /** The schedule presets' resolution for the DiT benchmark (their plans; the grid is the shape's). */
  readonly resolution: '480p' | '720p';
}

/** Named shapes: 81 frames -> 21 latent frames; 832x480 -> 30x52 tokens, 1280x720 -> 45x80 tokens. */
export const BENCH_SHAPES: Readonly<Record<string, BenchShape>> = Object.freeze({
  'wan-1.3b-480p': { name: 'wan-1.3b-480p', config: 'wan-1.3b', grid: [21, 30, 52], heads: 12, resolution: '480p' },
  'wan-1.3b-720p': { name: 'wan-1.3b-720p', config: 'wan-1.3b', grid: [21, 45, 80], heads: 12, resolution: '720p' },
  'wan-14b-720p': { name: 'wan-14b-720p', config: 'wan-14b', grid: [21, 45, 80], heads: 40, resolution: '720p' },
  // The demo's wan-tiny at 160x128, 9 frames (the --dry-run default).
  tiny: { name: 'tiny', config: 'wan-tiny', grid: [3, 8, 10], heads: 2, resolution: '480p' },
});

/** The heads of each Wan model (dim / 128). */
const MODEL_HEADS: Readonly<Record<WanPresetName, number>> = { 'wan-1.3b': 12, 'wan-14b': 40, 'wan-tiny': 2 };

/**
 * `--shape`: a name of BENCH_SHAPES or an explicit token grid `TxHxW` (with `--model`, default wan-1.3b, for the heads
 * and the DiT). An explicit grid takes the 720p presets' plans when it holds at least 720p's tokens per frame, else 480p's.
 */
export function parseBenchShape(options: { value: string; model?: string }): BenchShape {
  const { value } = options;
  const named = BENCH_SHAPES[value];
  if (named && options.model === undefined) return named;
  if (named) throw new UsageError({ message: `--model ${options.model} goes with an explicit --shape TxHxW, not the named shape ${value}`, fix: `drop --model or pass e.g. --shape ${named.grid.join('x')} --model ${options.model}` });
  if (!/^\d+\s*[x,]\s*\d+\s*[x,]\s*\d+$/i.test(value.trim())) {
    throw new UsageError({ message: `--shape ${JSON.stringify(value)} is not one of ${Object.keys(BENCH_SHAPES).join(', ')} or a token grid TxHxW`, fix: 'pass e.g. --shape wan-1.3b-720p or --shape 21x45x80' });
  }
  const grid = parseDims3({ flag: '--shape', value });
  const model = options.model ?? 'wan-1.3b';
  if (!(model in MODEL_HEADS)) throw new UsageError({ message: `--model ${JSON.stringify(model)} is not one of ${Object.keys(MODEL_HEADS).join(', ')}`, fix: 'pass e.g. --model wan-1.3b' });
  const config = model as WanPresetName;
  return { name: grid.join('x'), config, grid, heads: MODEL_HEADS[config], resolution: grid[1] * grid[2] >= 45 * 80 ? '720p' : '480p' };
}
