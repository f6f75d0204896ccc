// `--schedule` of `fpsattn generate`: dense, fpsattn, a scheduler preset or a JSON config, checked against the run's
// token grid and model.
import { SCHEDULE_PRESET_NAMES, parseScheduleConfig, schedulePreset, type ScheduleConfig, type SchedulePresetName } from '@fpsattn/scheduler';
import { WAN_480P_GRID, WAN_720P_GRID, type GridDims } from '@fpsattn/tiling';
import { UsageError } from '../_errors';
import { readJsonFile } from '../commands/plan';
import { fpsattnScheduleFor } from './fpsattn-schedule';

const sameGrid = (a: GridDims, b: GridDims) => a.frames === b.frames && a.height === b.height && a.width === b.width;
const gridText = (g: GridDims) => `${g.frames}x${g.height}x${g.width}`;

/** The run's steps: a JSON config without --steps brings its own steps (when it has valid ones). */
export async function stepsWithSchedule(options: { value: string; steps: number; stepsGiven: boolean }): Promise<number> {
  if (options.stepsGiven || !options.value.endsWith('.json')) return options.steps;
  const json = await readJsonFile(options.value, 'schedule config');
  const s = (json as { steps?: unknown } | null)?.steps;
  return typeof s === 'number' && Number.isInteger(s) && s >= 1 ? s : options.steps;
}

/** The schedule `--schedule` names, for this run's grid, steps and model; null = dense BF16 throughout. */
export async function resolveSchedule(options: { value: string; grid: GridDims; steps: number; stepsGiven: boolean; model: { layers: number; heads: number; headDim: number } }): Promise<{ config: ScheduleConfig | null; name: string }> {
  const { value, grid, steps, model } = options;
  if (value === 'dense') return { config: null, name: 'dense' };
  const wanResolution = sameGrid(grid, WAN_720P_GRID) ? '720p' : sameGrid(grid, WAN_480P_GRID) ? '480p' : null;
  if (value === 'fpsattn') {
    if (wanResolution) return { config: parseScheduleConfig({ ...schedulePreset({ name: `wan-${wanResolution}`, steps }), model }), name: `fpsattn (preset wan-${wanResolution})` };
    return { config: fpsattnScheduleFor({ grid, steps, model }), name: `fpsattn (grid ${gridText(grid)})` };
  }
  if ((SCHEDULE_PRESET_NAMES as readonly string[]).includes(value)) {
    const fixed = value === 'wan-480p' ? '480p' : value === 'wan-720p' ? '720p' : null;
    if (wanResolution === null || (fixed !== null && fixed !== wanResolution)) {
      throw new UsageError({
        message: `schedule preset ${value} is for the ${fixed === '480p' ? gridText(WAN_480P_GRID) : gridText(WAN_720P_GRID)} token grid (${fixed === '480p' ? '832x480' : '1280x720'}, 81 frames); this run's grid is ${gridText(grid)}`,
        fix: '--schedule fpsattn (any grid), --schedule dense, or a JSON config for this grid',
      });
    }
    return { config: parseScheduleConfig({ ...schedulePreset({ name: value as SchedulePresetName, resolution: wanResolution, steps }), model }), name: `preset ${value}` };
  }
  if (!value.endsWith('.json')) {
    throw new UsageError({ message: `--schedule ${JSON.stringify(value)} is not dense, fpsattn, a preset (${SCHEDULE_PRESET_NAMES.join(', ')}) or a .json file`, fix: 'pass --schedule fpsattn' });
  }
  const json = await readJsonFile(value, 'schedule config');
  const config = parseScheduleConfig(options.stepsGiven || typeof json !== 'object' || json === null ? { ...(json as object), steps } : json);
  if (!sameGrid(config.grid, grid)) {
    throw new UsageError({ message: `schedule ${value} is for the token grid ${gridText(config.grid)}, this run's is ${gridText(grid)}`, fix: `set "grid": { "frames": ${grid.frames}, "height": ${grid.height}, "width": ${grid.width} } in the config or change --width/--height/--frames` });
  }
  if (config.model.layers !== model.layers || config.model.heads !== model.heads || config.model.headDim !== model.headDim) {
    throw new UsageError({
      message: `schedule ${value} is for ${config.model.layers} layers x ${config.model.heads} heads x ${config.model.headDim}, the model has ${model.layers} x ${model.heads} x ${model.headDim}`,
      fix: `set "model": { "layers": ${model.layers}, "heads": ${model.heads}, "headDim": ${model.headDim} } in the config`,
    });
  }
  return { config, name: `config ${value}` };
}
