// `fpsattn plan`: the step-aware schedule of a preset or JSON config, as a table (or JSON) and as pictures.
import { mkdir, readFile } from 'node:fs/promises';
import { ATTENTION_TILE_POLICY } from '@fpsattn/kernels';
import {
  SCHEDULE_PRESET_NAMES,
  describePlan,
  explain,
  formatExplainTable,
  parseScheduleConfig,
  schedulePreset,
  type AttentionPlan,
  type ExplainRow,
  type ScheduleConfig,
  type SchedulePresetName,
} from '@fpsattn/scheduler';
import { buildBlockMask, createTileLayout, tileCoords, tileIndex, type Dims3 } from '@fpsattn/tiling';
import type { Command } from 'commander';
import { withExamples } from '../_command';
import { UsageError } from '../_errors';
import { pct, printJson } from '../_format';
import { parseChoice, parseDims3, parseIntegerFlag } from '../_parse';
import { barChart } from '../render/bar-chart';
import { blockMaskImage } from '../render/block-mask-image';
import { PICTURE_COLORS } from '../render/colors';
import { gridSlice } from '../render/grid-slice';
import { writePicture, type WrittenPicture } from '../render/svg';

interface PlanFlags {
  preset?: string;
  config?: string;
  resolution?: string;
  steps?: string;
  layer?: string;
  head?: string;
  phase?: string;
  queryTile?: string;
  frame?: string;
  outDir?: string;
  json?: boolean;
}

const PHASES = ['early', 'middle', 'late'] as const;
type Phase = (typeof PHASES)[number];

/** Reads a JSON file the user named; every failure is a usage error naming the file. */
export async function readJsonFile(path: string, what: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (cause) {
    const code = (cause as NodeJS.ErrnoException).code;
    throw new UsageError({ message: `cannot read ${what} ${path} (${code ?? (cause as Error).message})`, fix: 'pass the path of an existing JSON file', cause });
  }
  try {
    return JSON.parse(text);
  } catch (cause) {
    throw new UsageError({ message: `${what} ${path} is not valid JSON (${(cause as Error).message})`, fix: 'fix the JSON syntax (see packages/scheduler/README.md "Config JSON")', cause });
  }
}

/** The schedule the flags name: `--config FILE` (with `--steps` overriding its steps) or `--preset NAME`. */
export async function loadSchedule(flags: { preset?: string; config?: string; resolution?: string; steps?: string }): Promise<{ config: ScheduleConfig; source: string }> {
  const steps = flags.steps === undefined ? undefined : parseIntegerFlag({ flag: '--steps', value: flags.steps, min: 1, max: 10_000 });
  if (flags.config !== undefined) {
    if (flags.preset !== undefined) throw new UsageError({ message: '--preset and --config both given', fix: 'pass one of them (a config can start from a preset with "extends")' });
    if (flags.resolution !== undefined) throw new UsageError({ message: '--resolution applies to presets; a config sets its own grid', fix: 'drop --resolution or set "grid" in the config' });
    const json = await readJsonFile(flags.config, 'schedule config');
    const input = steps === undefined || typeof json !== 'object' || json === null ? json : { ...json, steps };
    return { config: parseScheduleConfig(input), source: `config ${flags.config}` };
  }
  const name = parseChoice({ flag: '--preset', value: flags.preset ?? 'wan-720p', choices: SCHEDULE_PRESET_NAMES });
  const resolution = flags.resolution === undefined ? undefined : parseChoice({ flag: '--resolution', value: flags.resolution, choices: ['480p', '720p'] as const });
  if (resolution !== undefined && ((name === 'wan-480p' && resolution !== '480p') || (name === 'wan-720p' && resolution !== '720p'))) {
    throw new UsageError({ message: `preset ${name} fixes its resolution; --resolution ${resolution} does not apply`, fix: `use --preset wan-${resolution} or drop --resolution` });
  }
  const config = schedulePreset({ name: name as SchedulePresetName, ...(resolution ? { resolution } : {}), ...(steps ? { steps } : {}) });
  return { config, source: `preset ${name}${resolution ? ` ${resolution}` : ''}` };
}

const isSparse = (p: AttentionPlan): p is Extract<AttentionPlan, { sparsity: unknown }> => p.mode === 'sparse-bf16' || p.mode === 'fp8-sparse';

function mean(rows: readonly ExplainRow[], f: (r: ExplainRow) => number | null): number | null {
  if (rows.length === 0 || rows.some((r) => f(r) === null)) return null;
  return rows.reduce((s, r) => s + (f(r) as number), 0) / rows.length;
}

/** Draws the three pictures of a schedule into `outDir`. */
async function drawPictures(options: { config: ScheduleConfig; rows: readonly ExplainRow[]; flags: PlanFlags; outDir: string; source: string }) {
  const { config, rows, flags, outDir, source } = options;
  const { grid } = config;
  const phase: Phase =
    flags.phase !== undefined ? parseChoice({ flag: '--phase', value: flags.phase, choices: PHASES }) : (PHASES.find((p) => isSparse(config.phases[p])) ?? 'early');
  const plan = config.phases[phase];
  const granularity = plan.mode === 'fp8-dense' || plan.mode === 'fp8-sparse' ? plan.granularity : null;
  const layout = isSparse(plan) ? createTileLayout({ grid, tile: plan.sparsity.tile }) : null;
  const mask = layout && isSparse(plan) ? buildBlockMask({ layout, window: plan.sparsity.window }) : null;
  let queryTile = 0;
  let queryCoords: Dims3 = [0, 0, 0];
  if (layout) {
    const [nt, nh, nw] = layout.tilesPerAxis;
    queryCoords = flags.queryTile !== undefined ? parseDims3({ flag: '--query-tile', value: flags.queryTile, min: 0 }) : [Math.floor(nt / 2), Math.floor(nh / 2), Math.floor(nw / 2)];
    if (queryCoords.some((c, i) => c >= (layout.tilesPerAxis[i] as number))) {
      throw new UsageError({ message: `--query-tile ${queryCoords.join('x')} is outside the ${nt}x${nh}x${nw} tiles of the grid`, fix: `pass tile coordinates below ${nt}x${nh}x${nw}` });
    }
    queryTile = tileIndex({ layout, coords: queryCoords });
  }
  const firstFrame = layout ? (tileCoords({ layout, tile: queryTile })[0] as number) * layout.tile[0] : 0;
  const frame = flags.frame !== undefined ? parseIntegerFlag({ flag: '--frame', value: flags.frame, min: 0, max: grid.frames - 1 }) : firstFrame;
  await mkdir(outDir, { recursive: true });
  const d = describePlan(plan);
  const slice = gridSlice({
    grid,
    layout,
    mask,
    queryTile,
    granularity,
    frame,
    title: `${source}: ${phase} phase (${d.mode}), frame ${frame} of ${grid.frames}, grid ${grid.frames}x${grid.height}x${grid.width}${layout ? `, query tile ${queryCoords.join(',')}` : ''}`,
  });
  const files: WrittenPicture[] = [await writePicture(outDir, slice)];
  let maskInfo: { numTiles: number; nnz: number; cell: number; density: number } | null = null;
  if (mask && layout) {
    const image = blockMaskImage({ mask, title: `block mask, ${phase} phase: ${mask.numQueryTiles} tiles, ${mask.nnz} blocks (${pct(mask.nnz / mask.numQueryTiles ** 2)} of tiles)` });
    files.push(await writePicture(outDir, image));
    maskInfo = { numTiles: mask.numQueryTiles, nnz: mask.nnz, cell: image.cell, density: mask.nnz / mask.numQueryTiles ** 2 };
  }
  const chart = barChart({
    name: 'density',
    title: `density per step (attended token pairs / dense), mean ${pct(mean(rows, (r) => r.density) ?? 0)}`,
    labels: rows.map((r) => String(r.step)),
    values: rows.map((r) => r.density),
    colors: rows.map((r) => PICTURE_COLORS.phase[r.phase]),
    yMax: 1,
    yLabel: (v) => `${Math.round(v * 100)}%`,
    legend: (['warmup', 'early', 'middle', 'late'] as const).filter((p) => rows.some((r) => r.phase === p)).map((p) => ({ label: p, color: PICTURE_COLORS.phase[p] })),
  });
  files.push(await writePicture(outDir, chart));
  return {
    phase,
    plan,
    queryTile: layout ? { id: queryTile, coords: queryCoords } : null,
    frame,
    grid: slice.info,
    mask: maskInfo,
    files,
  };
}

export function registerPlan(program: Command): void {
  const command = program
    .command('plan')
    .description('the step-aware attention schedule of a preset or JSON config: phase, mode, granularity, window, density and FLOPs per step; pictures with --out-dir')
    .option('--preset <name>', `a schedule preset: ${SCHEDULE_PRESET_NAMES.join(', ')} (default wan-720p)`)
    .option('--config <file>', 'a schedule config JSON file (packages/scheduler/README.md "Config JSON")')
    .option('--resolution <res>', 'grid of the dense, fp8-only and sparse-only presets: 480p or 720p')
    .option('--steps <n>', 'denoising steps (default 50; overrides the config file\'s)')
    .option('--layer <l>', 'describe one layer (default: mean over all layers)')
    .option('--head <h>', 'describe one head (default: mean over all heads)')
    .option('--out-dir <dir>', 'write grid, mask and density pictures (SVG and PNG) here')
    .option('--phase <phase>', 'the phase the grid and mask pictures show: early, middle or late (default: the first sparse one)')
    .option('--query-tile <t,h,w>', 'tile coordinates of the query tile drawn with its window (default: the centre tile)')
    .option('--frame <t>', 'the frame of the grid slice (default: the query tile\'s first frame)')
    .option('--json', 'print the schedule, the table rows and the pictures written as JSON')
    .action(async (flags: PlanFlags) => {
      const { config, source } = await loadSchedule(flags);
      const layer = flags.layer === undefined ? undefined : parseIntegerFlag({ flag: '--layer', value: flags.layer, min: 0, max: config.model.layers - 1 });
      const head = flags.head === undefined ? undefined : parseIntegerFlag({ flag: '--head', value: flags.head, min: 0, max: config.model.heads - 1 });
      const blockRows = ATTENTION_TILE_POLICY.blockM;
      const rows = explain({ config, blockRows, ...(layer === undefined ? {} : { layer }), ...(head === undefined ? {} : { head }) });
      const pictures = flags.outDir === undefined ? null : await drawPictures({ config, rows, flags, outDir: flags.outDir, source });
      const summary = {
        density: mean(rows, (r) => r.density),
        flopsRelative: mean(rows, (r) => r.flopsRelative),
        executedRelative: mean(rows, (r) => r.executedRelative),
      };
      if (flags.json) {
        printJson({ source, blockRows, config, rows, mean: summary, pictures });
        return;
      }
      const { grid, model } = config;
      const out = [
        `${source}: ${config.steps} steps, alpha1 ${config.alpha1}, alpha2 ${config.alpha2}, ${config.denseSteps} dense warm-up steps, ` +
          `grid ${grid.frames}x${grid.height}x${grid.width} (${grid.frames * grid.height * grid.width} tokens), model ${model.layers} layers x ${model.heads} heads x ${model.headDim}, kernel blocks of ${blockRows} rows`,
        formatExplainTable(rows),
      ];
      if (pictures) out.push('', ...pictures.files.map((f) => `wrote ${f.svg} and ${f.png} (${f.width}x${f.height})`));
      process.stdout.write(`${out.join('\n')}\n`);
    });
  withExamples(command, [
    'fpsattn plan',
    'fpsattn plan --preset wan-480p --steps 30',
    'fpsattn plan --preset sparse-only --resolution 480p --json',
    'fpsattn plan --config my-schedule.json --out-dir pictures',
    'fpsattn plan --preset wan-720p --out-dir pictures --phase middle --query-tile 3,4,5',
  ]);
}
