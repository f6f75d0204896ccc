// `fpsattn generate`: Wan2.1 text-to-video latents from a prompt (umT5 tokenizer, then the umT5 encoder; embeddings
// cached) or from text embeddings, with an FPSAttention schedule, on the GPU when there is one and on the CPU otherwise;
// writes the latents (.safetensors), decodes them with the Wan-VAE to an mp4, a first-frame PNG and a contact sheet, and
// writes a run manifest (.manifest.json). On CUDA the text encoder, the DiT and the VAE run on the device one after the
// other, each stage's weights uploaded at its start and freed at its end (never two stages' weights at once); on the
// CPU backend the encoder and the VAE run their float32 host references (--text-encoder-device/--vae-device choose).
import { readdirSync, rmSync } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { defaultAttentionGeometryCache } from '@fpsattn/attention';
import { loadBackend, type Backend, type BackendChoice } from '@fpsattn/kernels';
import { SCHEDULE_PRESET_NAMES, parseScheduleConfig, schedulePreset, type ScheduleConfig, type SchedulePresetName } from '@fpsattn/scheduler';
import { WAN_480P_GRID, WAN_720P_GRID, type Dims3, type GridDims } from '@fpsattn/tiling';
import {
  SOLVER_NAMES,
  WAN_CONFIG_PRESETS,
  WAN_T2V_SAMPLING_DEFAULTS,
  WanDeviceDit,
  WanDeviceWeights,
  generateLatents,
  latentShapeFor,
  openCheckpoint,
  prepareWanCheckpoint,
  readTextEmbeddings,
  syntheticWanInputs,
  syntheticWanWeights,
  WAN_VIDEO_ERROR_CODES,
  WAN_VIDEO_FPS,
  WanVideoError,
  wanHeadDim,
  wanPresetName,
  writeVideoOutputs,
  type SolverName,
  type TextEmbeddings,
  type WanConfig,
} from '@fpsattn/wan';
import type { Command } from 'commander';
import pkg from '../../package.json';
import { globalOptions, withExamples } from '../_command';
import { writeFileAtomic } from '../_atomic-write';
import { CliError, EXIT_CODES, UsageError } from '../_errors';
import { printJson } from '../_format';
import { parseChoice, parseIntegerFlag, parseNumberFlag } from '../_parse';
import { PROGRESS_MODES, StepProgress, resolveProgressMode } from '../_progress';
import { BUILT_IN_VAE, DecodeAbortedError, decodeInWorker, decodeOnBackend, loadVae, resolveVaeSource, type LoadedVae } from '../_vae';
import { DeviceMemoryTracker, formatGiB, type StageMemory } from '../_device-memory';
import { BUILT_IN_TEXT_ENCODER, defaultCacheDir, encodePrompts, type TextEncoderSource, type TextStageReport } from '../text/encode-prompts';
import { type FoundPath, findTextEncoder, findTokenizer } from '../text/find-text-files';
import { syntheticTokenizerJson } from '../text/synthetic-tokenizer';
import { Umt5Tokenizer } from '../text/umt5-tokenizer';
import { FFMPEG_ENV } from './doctor';
import { readJsonFile } from './plan';

interface GenerateFlags {
  model?: string;
  checkpoint?: string;
  embeddings?: string;
  prompt?: string;
  negativePrompt?: string;
  tokenizer?: string;
  textEncoder?: string;
  cacheDir?: string;
  cache: boolean;
  width?: string;
  height?: string;
  frames?: string;
  steps?: string;
  shift?: string;
  guidance?: string;
  solver: string;
  seed: string;
  schedule: string;
  backend?: string;
  out: string;
  decode?: boolean;
  vae?: string;
  textEncoderDevice: string;
  vaeDevice: string;
  progress: string;
  json?: boolean;
}

/** The built-in model: wan-tiny with synthetic weights (2 layers, 2 heads of 128), sampled at 160x128, 9 frames. */
export const BUILT_IN_MODEL = 'wan-tiny';
const TINY_DEFAULTS = Object.freeze({ width: 160, height: 128, frames: 9, steps: 8 });
const RELEASED_DEFAULTS = Object.freeze({ width: 832, height: 480, frames: 81, steps: WAN_T2V_SAMPLING_DEFAULTS.steps });
/** Synthetic prompt lengths (tokens) of the built-in model's embeddings. */
const SYNTHETIC_PROMPT_TOKENS = { prompt: 12, negative: 4 } as const;

/** Largest divisor of n not above `limit` (at least 1). */
const divisorAtMost = (n: number, limit: number): number => {
  for (let d = Math.max(1, Math.min(n, limit)); d > 1; d--) if (n % d === 0) return d;
  return 1;
};

/**
 * The FPSAttention schedule for any grid (what `--schedule fpsattn` runs when the grid is not Wan's 480p or 720p
 * one): attention tiles of about half of each axis (whole divisors), alpha1 0.4, alpha2 0.8, the first steps / 10 dense;
 * early: FP8 per tile with each tile attending to itself; middle: FP8 per frame of a tile with a window of 3 tiles per
 * axis; late: FP8 per tile with a window of 1 x 3 x 3 tiles. Validated like a JSON config.
 */
export function fpsattnScheduleFor(options: { grid: GridDims; steps: number; model: { layers: number; heads: number; headDim: number } }): ScheduleConfig {
  const { grid, steps, model } = options;
  const axes = [grid.frames, grid.height, grid.width];
  const tile = axes.map((n) => divisorAtMost(n, Math.ceil(n / 2))) as unknown as Dims3;
  const tilesPer = axes.map((n, i) => n / (tile[i] as number));
  const window = (w: Dims3) => ({ kind: 'clamped', tiles: w.map((x, i) => Math.min(x, tilesPer[i] as number)) });
  const plan = (granularity: Dims3, w: Dims3) => ({ mode: 'fp8-sparse', granularity: { kind: 'tile', tile: granularity }, sparsity: { tile, window: window(w) } });
  return parseScheduleConfig({
    steps,
    alpha1: 0.4,
    alpha2: 0.8,
    denseSteps: Math.round(steps / 10),
    grid,
    model,
    phases: { early: plan(tile, [1, 1, 1]), middle: plan([1, tile[1], tile[2]], [3, 3, 3]), late: plan(tile, [1, 3, 3]) },
    overrides: [],
  });
}

const sameGrid = (a: GridDims, b: GridDims) => a.frames === b.frames && a.height === b.height && a.width === b.width;
const gridText = (g: GridDims) => `${g.frames}x${g.height}x${g.width}`;

/** The schedule `--schedule` names, for this run's grid, steps and model; null = dense BF16 throughout. */
async function resolveSchedule(options: { value: string; grid: GridDims; steps: number; stepsGiven: boolean; model: { layers: number; heads: number; headDim: number } }): Promise<{ config: ScheduleConfig | null; name: string }> {
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

/** Deterministic synthetic text embeddings for the built-in model when neither --prompt nor --embeddings is given. */
function syntheticEmbeddings(config: WanConfig, seed: number): TextEmbeddings {
  const text = (s: number, length: number) => ({ values: syntheticWanInputs({ config, seed: s, latentShape: [config.inDim, 1, 2, 2], contextLength: length }).context, length });
  return { prompt: text(seed * 2 + 2, SYNTHETIC_PROMPT_TOKENS.prompt), negative: text(seed * 2 + 3, SYNTHETIC_PROMPT_TOKENS.negative), metadata: { prompt: '(synthetic embeddings)' } };
}

function latentStats(x: Float32Array): { mean: number; std: number; min: number; max: number; nonFinite: number } {
  let sum = 0;
  let sq = 0;
  let min = Infinity;
  let max = -Infinity;
  let nonFinite = 0;
  for (const v of x) {
    if (!Number.isFinite(v)) {
      nonFinite++;
      continue;
    }
    sum += v;
    sq += v * v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const n = Math.max(1, x.length - nonFinite);
  const mean = sum / n;
  return { mean, std: Math.sqrt(Math.max(0, sq / n - mean * mean)), min, max, nonFinite };
}

/**
 * Makes each DiT forward start with a turn of the event loop. On the CPU backend a whole sampling run resolves in
 * promise microtasks only, and Node delivers signals (Ctrl-C) as macrotasks: without this turn the AbortSignal would
 * only fire once the run had finished.
 */
function yieldBeforeEachForward(dit: WanDeviceDit): void {
  const forward = dit.forward.bind(dit);
  Object.defineProperty(dit, 'forward', {
    configurable: true,
    value: async (options: Parameters<WanDeviceDit['forward']>[0]) => {
      await new Promise<void>((resolveTurn) => setImmediate(resolveTurn));
      return forward(options);
    },
  });
}

/**
 * Removes this process's temporary files of `out`: writeSafetensors' `<out>.tmp-<pid>-<random>`, and the video's
 * `<base>.first.png.<pid>-<random>.partial`, `<base>.sheet.png.<pid>-...` and `.<base>.mp4.<pid>-....partial`.
 */
function removeTemporaryFiles(out: string): void {
  const base = videoBaseFor(out);
  const prefixes = [`${basename(out)}.tmp-${process.pid}-`, `${base}.first.png.${process.pid}-`, `${base}.sheet.png.${process.pid}-`, `.${base}.mp4.${process.pid}-`];
  try {
    for (const name of readdirSync(dirname(out))) if (prefixes.some((p) => name.startsWith(p))) rmSync(join(dirname(out), name), { force: true });
  } catch {
    // the folder may not exist yet
  }
}

export function manifestPathFor(out: string): string {
  return out.replace(/\.safetensors$/, '.manifest.json');
}

/** The base name of the video outputs: `run/x.safetensors` -> `x` (`x.mp4`, `x.first.png`, `x.sheet.png` next to it). */
export function videoBaseFor(out: string): string {
  return basename(out).replace(/\.safetensors$/, '');
}

const round3 = (s: number): number => Math.round(s * 1000) / 1000;

/** Where the text encoder and the VAE run: auto (the run's backend when it is CUDA, else the host), cpu, backend. */
export const STAGE_DEVICES = ['auto', 'cpu', 'backend'] as const;
export type StageDevice = (typeof STAGE_DEVICES)[number];

/** The backend a stage runs on (its device twins; the CPU backend's with `backend`), or null for the host reference. */
export function stageBackend(choice: StageDevice, backend: Backend): Backend | null {
  if (choice === 'cpu') return null;
  if (choice === 'backend') return backend;
  return backend.name === 'cuda' ? backend : null;
}

export function registerGenerate(program: Command): void {
  const command = program
    .command('generate')
    .description(
      'Wan2.1 text-to-video from a prompt (umT5 tokenizer and encoder on the CPU, embeddings cached) or from text embeddings, with an FPSAttention schedule (built-in tiny synthetic model or a checkpoint): writes the latents, decodes them with the Wan-VAE to an mp4, a first-frame PNG and a contact sheet, and writes a run manifest. The VAE runs on the CPU for now: seconds at the tiny sizes, very slow at 480p/720p',
    )
    .option('--model <name>', `the built-in model (synthetic weights): ${BUILT_IN_MODEL}; used when no --checkpoint is given`)
    .option('--checkpoint <path>', 'a Wan2.1 DiT checkpoint: .safetensors file, index or folder with config.json')
    .option('--prompt <text>', `the prompt: cleaned as Wan does (ftfy, HTML unescaping, whitespace), tokenized with umT5's tokenizer (truncated to the model's text length, 512 for Wan), encoded by umT5 on the CPU (the built-in model: a synthetic tokenizer and ${BUILT_IN_TEXT_ENCODER}); embeddings cached per text and encoder`)
    .option('--negative-prompt <text>', "the negative prompt for classifier-free guidance (default, and when empty: Wan's default negative prompt)")
    .option('--tokenizer <path>', "umT5's tokenizer.json or its folder (default: next to the checkpoint, google/umt5-xxl/ or tokenizer/)")
    .option('--text-encoder <path>', `the umT5 encoder: ${'models_t5_umt5-xxl-enc-bf16.pth'}, a diffusers text_encoder/ folder (default: next to the checkpoint)`)
    .option('--cache-dir <dir>', 'where encoded prompts are cached (default $FPSATTN_CACHE_DIR, else $XDG_CACHE_HOME/fpsattn or ~/.cache/fpsattn, then text-embeddings/)')
    .option('--no-cache', 'encode the prompts without reading or writing the cache')
    .option('--embeddings <file>', 'text embeddings instead of --prompt (.safetensors with "prompt" and "negative_prompt" [tokens, textDim]); synthetic for the built-in model when neither is given')
    .option('--width <px>', `video width, a multiple of 16 (default ${TINY_DEFAULTS.width} built-in, ${RELEASED_DEFAULTS.width} checkpoint)`)
    .option('--height <px>', `video height, a multiple of 16 (default ${TINY_DEFAULTS.height} built-in, ${RELEASED_DEFAULTS.height} checkpoint)`)
    .option('--frames <n>', `video frames, 4k + 1 (default ${TINY_DEFAULTS.frames} built-in, ${RELEASED_DEFAULTS.frames} checkpoint)`)
    .option('--steps <n>', `denoising steps (default ${TINY_DEFAULTS.steps} built-in, ${RELEASED_DEFAULTS.steps} checkpoint, or the schedule config's)`)
    .option('--shift <x>', `flow-matching shift (default ${WAN_T2V_SAMPLING_DEFAULTS.shift})`)
    .option('--guidance <x>', `classifier-free guidance scale (default ${WAN_T2V_SAMPLING_DEFAULTS.guidance})`)
    .option('--solver <name>', `${SOLVER_NAMES.join(' or ')}`, WAN_T2V_SAMPLING_DEFAULTS.solver)
    .option('--seed <n>', 'noise seed', '42')
    .option('--schedule <s>', `attention schedule: fpsattn (for the run's grid), dense, a preset (${SCHEDULE_PRESET_NAMES.join(', ')}) or a .json config`, 'fpsattn')
    .option('--backend <b>', 'auto (CUDA when a Hopper GPU answers, else CPU), cpu or cuda (default $FPSATTN_BACKEND, else auto)')
    .option('--out <file>', 'the latents file (.safetensors); the manifest (.manifest.json) and the video (.mp4, .first.png, .sheet.png) go next to it', 'latents.safetensors')
    .option('--decode', `decode the latents to frames and an mp4 (default when a VAE is available: ${BUILT_IN_VAE} for the built-in model, --vae or the checkpoint folder's Wan2.1_VAE.pth / vae/). The VAE runs on the CPU for now: slow at real sizes`)
    .option('--no-decode', 'write the latents and the manifest only')
    .option('--vae <path>', 'the Wan-VAE: Wan2.1_VAE.pth, a diffusers vae/ folder or a folder holding either (default: next to the checkpoint)')
    .option('--text-encoder-device <d>', "where umT5 runs: auto (the device when the backend is CUDA, else the CPU's float32 reference), cpu, or backend (the run's backend, also the CPU backend's BF16 twins)", 'auto')
    .option('--vae-device <d>', "where the VAE decodes: auto (the device when the backend is CUDA, else the CPU's float32 reference in a worker), cpu, or backend (the run's backend)", 'auto')
    .option('--progress <mode>', 'auto (a bar on a terminal, quiet otherwise), bar, lines or none', 'auto')
    .option('--json', 'print the run manifest as JSON')
    .action(async (flags: GenerateFlags, cmd: Command) => {
      const started = performance.now();
      // ----- flags (every usage error before any work)
      if (flags.checkpoint !== undefined && flags.model !== undefined) throw new UsageError({ message: '--model and --checkpoint both given', fix: 'pass one: --model wan-tiny (built in) or --checkpoint PATH' });
      if (flags.model !== undefined && flags.model !== BUILT_IN_MODEL) throw new UsageError({ message: `--model ${JSON.stringify(flags.model)} is not a built-in model`, fix: `pass --model ${BUILT_IN_MODEL}, or --checkpoint PATH for real weights` });
      const builtIn = flags.checkpoint === undefined;
      if (flags.prompt !== undefined && flags.embeddings !== undefined) throw new UsageError({ message: '--prompt and --embeddings both given', fix: 'pass one: --prompt TEXT (encoded here) or --embeddings FILE (encoded elsewhere)' });
      if (flags.prompt === undefined) {
        const textOnly = (['negativePrompt', 'tokenizer', 'textEncoder', 'cacheDir'] as const).find((k) => flags[k] !== undefined);
        if (textOnly !== undefined) throw new UsageError({ message: `--${textOnly.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} needs --prompt`, fix: 'pass --prompt TEXT' });
      }
      if (!builtIn && flags.embeddings === undefined && flags.prompt === undefined) {
        throw new UsageError({ message: 'a checkpoint needs --prompt TEXT or --embeddings FILE (the umT5 output for the prompt and the negative prompt)', fix: 'pass --prompt "a red fox running through snow"' });
      }
      const defaults = builtIn ? TINY_DEFAULTS : RELEASED_DEFAULTS;
      const width = flags.width === undefined ? defaults.width : parseIntegerFlag({ flag: '--width', value: flags.width, min: 16, max: 4096 });
      const height = flags.height === undefined ? defaults.height : parseIntegerFlag({ flag: '--height', value: flags.height, min: 16, max: 4096 });
      const frames = flags.frames === undefined ? defaults.frames : parseIntegerFlag({ flag: '--frames', value: flags.frames, min: 1, max: 1001 });
      let steps = flags.steps === undefined ? defaults.steps : parseIntegerFlag({ flag: '--steps', value: flags.steps, min: 1, max: 1000 });
      const shift = flags.shift === undefined ? WAN_T2V_SAMPLING_DEFAULTS.shift : parseNumberFlag({ flag: '--shift', value: flags.shift, min: 0.01, max: 100 });
      const guidance = flags.guidance === undefined ? WAN_T2V_SAMPLING_DEFAULTS.guidance : parseNumberFlag({ flag: '--guidance', value: flags.guidance, min: 0, max: 100 });
      const solver = parseChoice({ flag: '--solver', value: flags.solver, choices: SOLVER_NAMES as readonly SolverName[] });
      const seed = parseIntegerFlag({ flag: '--seed', value: flags.seed, min: 0, max: 2 ** 32 - 1 });
      // Without --backend, loadBackend reads $FPSATTN_BACKEND (then auto).
      const backendChoice = flags.backend === undefined ? undefined : parseChoice({ flag: '--backend', value: flags.backend, choices: ['auto', 'cpu', 'cuda'] as const satisfies readonly BackendChoice[] });
      const progressMode = resolveProgressMode(parseChoice({ flag: '--progress', value: flags.progress, choices: PROGRESS_MODES }));
      const textEncoderDevice = parseChoice({ flag: '--text-encoder-device', value: flags.textEncoderDevice, choices: STAGE_DEVICES });
      const vaeDevice = parseChoice({ flag: '--vae-device', value: flags.vaeDevice, choices: STAGE_DEVICES });
      const out = resolve(flags.out);
      if (!out.endsWith('.safetensors')) throw new UsageError({ message: `--out ${flags.out} does not end in .safetensors`, fix: 'pass e.g. --out latents.safetensors' });
      if (flags.checkpoint !== undefined) {
        await stat(flags.checkpoint).catch((cause: unknown) => {
          throw new UsageError({ message: `checkpoint ${flags.checkpoint} does not exist (${(cause as NodeJS.ErrnoException).code})`, fix: 'pass a .safetensors file, an index or a folder holding one with its config.json', cause });
        });
      }
      if (flags.embeddings !== undefined) {
        await stat(flags.embeddings).catch((cause: unknown) => {
          throw new UsageError({ message: `embeddings file ${flags.embeddings} does not exist (${(cause as NodeJS.ErrnoException).code})`, fix: 'pass a .safetensors file with "prompt" and "negative_prompt" tensors', cause });
        });
      }
      // The tokenizer is read now, so a missing or corrupt one fails before any weights load.
      let text: { tokenizer: Umt5Tokenizer; tokenizerFound: string; encoder: TextEncoderSource } | null = null;
      if (flags.prompt !== undefined) {
        let tokenizer: Umt5Tokenizer;
        let tokenizerFound: string;
        if (flags.tokenizer === undefined && builtIn) {
          tokenizer = Umt5Tokenizer.fromJson({ json: syntheticTokenizerJson(), source: `built-in synthetic tokenizer (${BUILT_IN_TEXT_ENCODER})` });
          tokenizerFound = 'built-in';
        } else {
          const found = await findTokenizer({ checkpoint: flags.checkpoint ?? '.', tokenizer: flags.tokenizer });
          tokenizer = await Umt5Tokenizer.load({ path: found.path });
          tokenizerFound = found.found;
        }
        let encoder: TextEncoderSource;
        if (flags.textEncoder === undefined && builtIn) encoder = { kind: 'synthetic' };
        else {
          const found: FoundPath = await findTextEncoder({ checkpoint: flags.checkpoint ?? '.', textEncoder: flags.textEncoder });
          encoder = { kind: 'file', ...found };
        }
        text = { tokenizer, tokenizerFound, encoder };
      }
      const vaeChoice = await resolveVaeSource({ decode: flags.decode, vae: flags.vae, checkpoint: flags.checkpoint });
      const ffmpegPath = process.env[FFMPEG_ENV] || undefined;

      // ----- model, schedule, embeddings
      const { backend } = loadBackend({ backend: backendChoice });
      const controller = new AbortController();
      const onSigint = () => {
        if (controller.signal.aborted) {
          // A second Ctrl-C: stop now, leaving no temporary file behind.
          removeTemporaryFiles(out);
          process.stderr.write(`\nfpsattn generate: stopped by a second Ctrl-C; nothing was written to ${out}\n`);
          process.exit(EXIT_CODES.interrupted);
        }
        controller.abort(new Error('Ctrl-C'));
      };
      process.on('SIGINT', onSigint);
      const progress = new StepProgress({ mode: progressMode, label: 'step' });
      let weights: WanDeviceWeights | null = null;
      let dit: WanDeviceDit | null = null;
      let checkpoint: Awaited<ReturnType<typeof openCheckpoint>> | null = null;
      // Device memory per stage (text, sample, decode): each stage's weights are uploaded at its start and freed at its end.
      const memory = new DeviceMemoryTracker(backend);
      const textBackend = text === null ? null : stageBackend(textEncoderDevice, backend);
      const vaeBackend = vaeChoice.source === null ? null : stageBackend(vaeDevice, backend);
      const say = (line: string) => {
        if (progressMode !== 'none') process.stderr.write(`${line}\n`);
      };
      const loadStart = performance.now();
      try {
        // The VAE first (host weights only; uploaded for the decode): a wrong --vae fails in a second, not after the DiT has loaded.
        let vae: LoadedVae | null = null;
        if (vaeChoice.source !== null) {
          say(`loading the VAE (${vaeChoice.source.kind === 'synthetic' ? `built-in ${BUILT_IN_VAE}, synthetic` : vaeChoice.source.path})`);
          vae = await loadVae(vaeChoice.source);
        }
        // The DiT's config now (a checkpoint's names and shapes checked); its weights go up after the text stage.
        let config: WanConfig;
        if (builtIn) config = WAN_CONFIG_PRESETS[BUILT_IN_MODEL];
        else {
          checkpoint = await openCheckpoint(flags.checkpoint as string);
          config = (await prepareWanCheckpoint({ checkpoint, path: checkpoint.path })).config;
        }
        const latentShape = latentShapeFor({ width, height, frames, latentChannels: config.inDim, patch: [config.patchSize[1], config.patchSize[2]] });
        const grid: GridDims = {
          frames: (latentShape[1] as number) / config.patchSize[0],
          height: (latentShape[2] as number) / config.patchSize[1],
          width: (latentShape[3] as number) / config.patchSize[2],
        };
        const model = { layers: config.numLayers, heads: config.numHeads, headDim: wanHeadDim(config) };
        if (vae !== null && vae.config.zDim !== config.outDim) {
          throw new CliError({ message: `the VAE takes ${vae.config.zDim} latent channels, the model makes ${config.outDim}`, fix: 'pass a Wan2.1 VAE that fits the model with --vae, or --no-decode' });
        }
        // A JSON config without --steps brings its own steps.
        if (flags.steps === undefined && flags.schedule.endsWith('.json')) {
          const json = await readJsonFile(flags.schedule, 'schedule config');
          const s = (json as { steps?: unknown } | null)?.steps;
          if (typeof s === 'number' && Number.isInteger(s) && s >= 1) steps = s;
        }
        const schedule = await resolveSchedule({ value: flags.schedule, grid, steps, stepsGiven: flags.steps !== undefined, model });

        // ----- text: tokenizer, then umT5 (on the device: its weights up and freed within the stage)
        let textReport: TextStageReport | null = null;
        let textMemory: StageMemory | null = null;
        let embeddings: TextEmbeddings;
        if (text !== null) {
          memory.begin('text', textBackend?.name ?? 'cpu');
          try {
            const encoded = await encodePrompts({
              prompt: flags.prompt as string,
              negativePrompt: flags.negativePrompt,
              tokenizer: text.tokenizer,
              tokenizerFound: text.tokenizerFound,
              encoder: text.encoder,
              textDim: config.textDim,
              textLen: config.textLen,
              cacheDir: flags.cache ? resolve(flags.cacheDir ?? defaultCacheDir()) : null,
              progressMode,
              signal: controller.signal,
              backend: textBackend,
            });
            textReport = encoded.report;
            embeddings = { prompt: encoded.prompt, negative: encoded.negative, metadata: { prompt: textReport.prompt, negative_prompt: textReport.negativePrompt } };
          } finally {
            textMemory = memory.end();
          }
          if (textBackend !== null) say(`text: peak device memory ${formatGiB(textMemory.peakBytes)} on ${textBackend.name} (encoder weights and activations), ${formatGiB(textMemory.endBytes)} left after the stage`);
        } else if (flags.embeddings !== undefined) embeddings = await readTextEmbeddings({ path: flags.embeddings, textDim: config.textDim, textLen: config.textLen });
        else embeddings = syntheticEmbeddings(config, seed);
        const textS = textReport === null ? 0 : textReport.timingS.tokenize + textReport.timingS.encode;

        // ----- the DiT's weights on the backend
        memory.begin('sample');
        const ditLoadStart = performance.now();
        if (builtIn) weights = WanDeviceWeights.upload({ backend, config, weights: syntheticWanWeights({ config, seed: 1 }) });
        else {
          const loading = new StepProgress({ mode: progressMode, label: 'loading weights' });
          try {
            weights = await WanDeviceWeights.fromCheckpoint({
              backend,
              checkpoint: checkpoint as NonNullable<typeof checkpoint>,
              config,
              signal: controller.signal,
              onProgress: (done, total) => loading.update({ done, total, stepMs: [(performance.now() - ditLoadStart) / done] }),
            });
          } finally {
            loading.finish();
          }
          await checkpoint?.close();
          checkpoint = null;
        }
        dit = new WanDeviceDit(weights);
        yieldBeforeEachForward(dit);
        await mkdir(dirname(out), { recursive: true });

        // The text stage runs inside the load span; report it on its own.
        const loadS = (performance.now() - loadStart) / 1000 - textS;

        // ----- sampling
        const stepMs: number[] = [];
        const modes: string[] = [];
        const sampleStart = performance.now();
        let result;
        try {
          result = await generateLatents({
            dit,
            embeddings,
            width,
            height,
            frames,
            seed,
            steps,
            shift,
            guidance,
            solver,
            schedule: schedule.config,
            out,
            signal: controller.signal,
            onStep: (s) => {
              stepMs.push(s.ms);
              modes.push(s.modes);
              progress.update({ done: s.stepIndex + 1, total: s.steps, stepMs, note: s.modes });
            },
          });
        } catch (error) {
          if (controller.signal.aborted) {
            throw new CliError({ message: `stopped by Ctrl-C after ${stepMs.length} of ${steps} steps; nothing was written to ${out}`, exitCode: EXIT_CODES.interrupted, cause: error });
          }
          throw error;
        } finally {
          progress.finish();
        }
        const sampleS = (performance.now() - sampleStart) / 1000;
        // The DiT is done: free its (device) memory before the decode.
        dit.dispose();
        dit = null;
        weights.dispose();
        weights = null;
        // The attention block masks the sampling uploaded (the package's geometry cache) go too.
        defaultAttentionGeometryCache.clear();
        const sampleMemory = memory.end();
        say(`sample: peak device memory ${formatGiB(sampleMemory.peakBytes)} on ${backend.name} (DiT weights and activations), ${formatGiB(sampleMemory.endBytes)} left after the stage`);
        const manifestPath = manifestPathFor(out);
        const files: { kind: string; path: string; bytes: number | null }[] = [{ kind: 'latents', path: out, bytes: (await stat(out)).size }];
        const fileBytes = files[0]?.bytes as number;

        // ----- decode (VAE on the device, or the CPU's float32 reference in a worker thread) and encode (PNGs, then the mp4 through ffmpeg)
        const base = videoBaseFor(out);
        const latentFrameMs: number[] = [];
        let decodeS: number | null = null;
        let encodeS: number | null = null;
        let videoShape: readonly number[] | null = null;
        let mp4: { path: string; frames: number; bytes: number; width: number; height: number; fps: number } | null = null;
        let sheetLayout: Record<string, unknown> | null = null;
        /** Why the run ends without its mp4 (the error to report after the manifest is written), or null. */
        let failure: CliError | null = null;
        let decodeStatus = vae === null ? 'skipped' : 'done';
        let decodeMemory: StageMemory | null = null;
        const decodeWhere = vaeBackend === null ? 'the VAE runs on the CPU (float32 reference, in a worker thread), slow at real sizes' : `the VAE runs on ${vaeBackend.name} (device decoder)`;
        if (vae !== null) {
          const decodeStart = performance.now();
          const [, latentFrames, latentH, latentW] = result.latentShape as [number, number, number, number];
          say(`decoding ${latentFrames} latent frames (${latentW}x${latentH}) to ${frames} frames of ${width}x${height}: ${decodeWhere}`);
          const decoding = new StepProgress({ mode: progressMode, label: 'decode latent frame' });
          let decoded: { frames: Float32Array; shape: readonly [number, number, number, number] } | null = null;
          let last = decodeStart;
          const onFrame = (e: { latentFrame: number; latentFrames: number; frameCount: number }) => {
            const now = performance.now();
            latentFrameMs.push(now - last);
            last = now;
            decoding.update({ done: e.latentFrame + 1, total: e.latentFrames, stepMs: latentFrameMs, note: `${e.frameCount} frame${e.frameCount === 1 ? '' : 's'}` });
          };
          if (vaeBackend !== null) memory.begin('decode', vaeBackend.name);
          try {
            const decodeOptions = { vae, latents: result.latents, latentShape: result.latentShape, signal: controller.signal, onFrame };
            decoded = vaeBackend === null ? await decodeInWorker(decodeOptions) : await decodeOnBackend({ ...decodeOptions, backend: vaeBackend });
          } catch (error) {
            if (!(error instanceof DecodeAbortedError)) throw error;
            decodeStatus = 'interrupted';
            failure = new CliError({
              message: `stopped by Ctrl-C while decoding (after ${error.latentFramesDone} of ${latentFrames} latent frames); the latents and the manifest are written (${out}), no video`,
              exitCode: EXIT_CODES.interrupted,
              cause: error,
            });
          } finally {
            decoding.finish();
            decodeS = (performance.now() - decodeStart) / 1000;
            if (vaeBackend !== null) decodeMemory = memory.end();
          }
          if (decodeMemory !== null) say(`decode: peak device memory ${formatGiB(decodeMemory.peakBytes)} on ${decodeMemory.device} (VAE weights and activations), ${formatGiB(decodeMemory.endBytes)} left after the stage`);
          if (decoded !== null) {
            videoShape = decoded.shape;
            const encodeStart = performance.now();
            if (progressMode !== 'none') process.stderr.write(`encoding ${join(dirname(out), `${base}.mp4`)} with ffmpeg (H.264 yuv420p, ${WAN_VIDEO_FPS} fps) and the PNGs\n`);
            const firstPng = join(dirname(out), `${base}.first.png`);
            const sheetPng = join(dirname(out), `${base}.sheet.png`);
            try {
              const written = await writeVideoOutputs({ dir: dirname(out), name: base, frames: decoded.frames, shape: decoded.shape, signal: controller.signal, ffmpegPath });
              files.push({ kind: 'first-frame-png', path: written.firstFramePng, bytes: (await stat(written.firstFramePng)).size });
              files.push({ kind: 'contact-sheet-png', path: written.contactSheetPng, bytes: (await stat(written.contactSheetPng)).size });
              mp4 = written.mp4;
              sheetLayout = { ...written.sheet };
              files.push({ kind: 'mp4', path: written.mp4.path, bytes: written.mp4.bytes });
            } catch (error) {
              if (!(error instanceof WanVideoError)) throw error;
              // A terminal's Ctrl-C also reaches ffmpeg, which may die before writeMp4 sees the abort: FFMPEG_FAILED then.
              if (error.code === WAN_VIDEO_ERROR_CODES.ABORTED || controller.signal.aborted) {
                decodeStatus = 'done, encoding interrupted';
                failure = new CliError({ message: `stopped by Ctrl-C while encoding; the latents and the manifest are written (${out}), no video`, exitCode: EXIT_CODES.interrupted, cause: error });
              } else if (error.code === WAN_VIDEO_ERROR_CODES.FFMPEG_MISSING) {
                // writeVideoOutputs wrote the PNGs before it looked for ffmpeg.
                for (const [kind, path] of [['first-frame-png', firstPng], ['contact-sheet-png', sheetPng]] as const) {
                  const bytes = (await stat(path).catch(() => null))?.size;
                  if (bytes !== undefined) files.push({ kind, path, bytes });
                }
                const where = ffmpegPath === undefined ? 'on PATH' : `at ${FFMPEG_ENV}=${ffmpegPath}`;
                failure = new CliError({
                  message: `no mp4: ffmpeg was not found ${where} [${error.code}]; the latents, the PNGs and the manifest are written (${dirname(out)})`,
                  fix: `apt-get install -y ffmpeg (Debian/Ubuntu)${ffmpegPath === undefined ? '' : `, or point ${FFMPEG_ENV} at an ffmpeg binary`}, then run again`,
                  cause: error,
                });
              } else {
                throw error;
              }
            } finally {
              encodeS = (performance.now() - encodeStart) / 1000;
            }
          }
        }

        files.push({ kind: 'manifest', path: manifestPath, bytes: null });
        const manifest = {
          format: 'fpsattn-run-manifest',
          version: 1,
          createdAt: new Date().toISOString(),
          cli: { name: pkg.name, version: pkg.version, argv: process.argv.slice(2) },
          node: process.version,
          backend: backend.name,
          model: builtIn ? { source: 'built-in', name: BUILT_IN_MODEL, weights: 'synthetic (seed 1)', config } : { source: 'checkpoint', path: resolve(flags.checkpoint as string), name: wanPresetName(config), config },
          embeddings: textReport !== null ? textReport : flags.embeddings !== undefined ? { source: 'file', path: resolve(flags.embeddings), promptTokens: embeddings.prompt.length, negativeTokens: embeddings.negative.length } : { source: 'synthetic', promptTokens: embeddings.prompt.length, negativeTokens: embeddings.negative.length },
          video: { width, height, frames },
          latentShape: result.latentShape,
          tokenGrid: grid,
          sampling: { steps, shift, guidance, solver, seed, timesteps: result.timesteps },
          schedule: { name: schedule.name, config: schedule.config },
          vae: vae === null ? null : { ...vae.manifest, device: vaeBackend?.name ?? 'cpu', runsOn: vaeBackend === null ? 'host reference' : 'backend' },
          decode: {
            status: decodeStatus,
            reason: vaeChoice.reason,
            device: vae === null ? null : (vaeBackend?.name ?? 'cpu'),
            implementation: vae === null ? null : vaeBackend === null ? 'wanVaeDecodeCpu (float32, worker thread)' : 'WanVaeDeviceDecoder',
            frameShape: videoShape,
            latentFrameMs: latentFrameMs.map((ms) => Math.round(ms * 10) / 10),
            fps: mp4 === null ? null : mp4.fps,
            contactSheet: sheetLayout,
          },
          output: {
            latents: out,
            bytes: fileBytes,
            manifest: manifestPath,
            mp4: mp4?.path ?? null,
            firstFramePng: files.find((f) => f.kind === 'first-frame-png')?.path ?? null,
            contactSheetPng: files.find((f) => f.kind === 'contact-sheet-png')?.path ?? null,
            files,
          },
          timing: {
            totalS: (performance.now() - started) / 1000,
            samplingS: sampleS,
            stagesS: {
              tokenize: textReport === null ? null : round3(textReport.timingS.tokenize),
              textEncode: textReport === null ? null : round3(textReport.timingS.encode),
              load: round3(loadS),
              sample: round3(sampleS),
              decode: decodeS === null ? null : round3(decodeS),
              encode: encodeS === null ? null : round3(encodeS),
            },
            stepMs: stepMs.map((ms) => Math.round(ms * 10) / 10),
            modes,
          },
          // Per stage: the device it ran on and the most device memory its tensors held at once (bytes), what was left at
          // its end (0: all freed before the next stage) and, on CUDA, the allocator's bytes in use after emptyCache().
          deviceMemory: {
            text: textMemory === null || textBackend === null ? null : textMemory,
            sample: sampleMemory,
            decode: decodeMemory,
          },
          latents: latentStats(result.latents),
          error: failure === null ? null : failure.message,
        };
        await writeFileAtomic(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
        if (flags.json) printJson(manifest);
        else {
          const median = [...stepMs].sort((a, b) => a - b)[Math.floor(stepMs.length / 2)] ?? 0;
          let video = `video: none (${vaeChoice.reason})\n`;
          if (vae !== null && videoShape !== null) {
            const [, t, h, w] = videoShape as [number, number, number, number];
            const pngs = files.filter((f) => f.kind.endsWith('-png')).map((f) => f.path);
            video =
              `decoded ${t} frames of ${w}x${h} in ${(decodeS ?? 0).toFixed(2)} s (VAE on ${vaeBackend === null ? 'the CPU' : `${vaeBackend.name}, device decoder`}), encoded in ${(encodeS ?? 0).toFixed(2)} s\n` +
              (mp4 !== null ? `mp4 -> ${mp4.path}\n` : '') +
              (pngs.length > 0 ? `pngs -> ${pngs.join(', ')}\n` : '');
          } else if (vae !== null) video = '';
          process.stdout.write(
            `${builtIn ? BUILT_IN_MODEL : flags.checkpoint} on ${backend.name}: ${steps} steps (${schedule.name}) in ${sampleS.toFixed(2)} s, median ${median.toFixed(1)} ms/step; ` +
              `latents [${result.latentShape.join(', ')}] -> ${out}\n${video}manifest -> ${manifestPath}\n`,
          );
        }
        if (globalOptions(cmd).verbose) process.stderr.write(`steps: ${modes.map((m, i) => `${i}:${m}`).join(' ')}\n`);
        if (failure !== null) throw failure;
      } finally {
        process.off('SIGINT', onSigint);
        dit?.dispose();
        weights?.dispose();
        defaultAttentionGeometryCache.clear();
        await checkpoint?.close().catch(() => undefined);
        memory.uninstall();
      }
    });
  withExamples(command, [
    'fpsattn generate --prompt "a red fox running through snow"   # built-in tiny model: synthetic tokenizer and umt5-tiny',
    'fpsattn generate --checkpoint ./Wan2.1-T2V-1.3B --prompt "a red fox running through snow" --negative-prompt "blurry" --out run/fox.safetensors',
    'fpsattn generate                                   # latents.safetensors, latents.mp4, .first.png, .sheet.png, .manifest.json',
    'fpsattn generate --steps 2 --width 96 --height 64 --frames 5 --out run/clip.safetensors',
    'fpsattn generate --steps 4 --width 64 --height 64 --frames 5 --schedule dense --no-decode --out dense.safetensors',
    'fpsattn generate --checkpoint ./Wan2.1-T2V-1.3B --embeddings prompt.safetensors --steps 50 --out run/latents.safetensors   # VAE: ./Wan2.1-T2V-1.3B/Wan2.1_VAE.pth (CPU: slow)',
    'fpsattn generate --checkpoint ./diffusers/transformer --embeddings prompt.safetensors --vae ./diffusers/vae --out run/latents.safetensors',
    'fpsattn generate --schedule my-schedule.json --seed 7 --json',
  ]);
}
