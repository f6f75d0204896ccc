// The flags of `fpsattn generate` as commander hands them over, and their validation into the run's settings: every
// usage error a flag's value can raise comes from here, before any file is read.
import { resolve } from 'node:path';
import type { BackendChoice } from '@fpsattn/kernels';
import { SAMPLER_LOOPS, SOLVER_NAMES, WAN_T2V_SAMPLING_DEFAULTS, type SamplerLoop, type SolverName } from '@fpsattn/wan';
import { UsageError } from '../_errors';
import { parseChoice, parseIntegerFlag, parseNumberFlag } from '../_parse';
import { PROGRESS_MODES, resolveProgressMode, type ProgressMode } from '../_progress';
import { BUILT_IN_MODEL } from './dit-model';
import { STAGE_DEVICES, type StageDevice } from './stage-device';

export interface GenerateFlags {
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
  sampler?: string;
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

/** Video size and steps when the flags leave them out: the built-in model's, or the released checkpoints'. */
export const TINY_DEFAULTS = Object.freeze({ width: 160, height: 128, frames: 9, steps: 8 });
export const RELEASED_DEFAULTS = Object.freeze({ width: 832, height: 480, frames: 81, steps: WAN_T2V_SAMPLING_DEFAULTS.steps });

/** The flags' values, checked and with their defaults. */
export interface GenerateSettings {
  /** No --checkpoint: the built-in model. */
  builtIn: boolean;
  width: number;
  height: number;
  frames: number;
  /** --steps or the model's default; a JSON schedule config may still bring its own (stepsWithSchedule). */
  steps: number;
  shift: number;
  guidance: number;
  solver: SolverName;
  /** --sampler; undefined: the backend's default (defaultSamplerLoop: device on CUDA, host on the CPU backend). */
  sampler: SamplerLoop | undefined;
  seed: number;
  /** undefined: loadBackend reads $FPSATTN_BACKEND (then auto). */
  backendChoice: BackendChoice | undefined;
  progressMode: ProgressMode;
  textEncoderDevice: StageDevice;
  vaeDevice: StageDevice;
  /** --out, resolved. */
  out: string;
}

/** Checks every flag (conflicts, ranges, choices) in the order a user reads them; throws the first UsageError. */
export function parseGenerateFlags(flags: GenerateFlags): GenerateSettings {
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
  const steps = flags.steps === undefined ? defaults.steps : parseIntegerFlag({ flag: '--steps', value: flags.steps, min: 1, max: 1000 });
  const shift = flags.shift === undefined ? WAN_T2V_SAMPLING_DEFAULTS.shift : parseNumberFlag({ flag: '--shift', value: flags.shift, min: 0.01, max: 100 });
  const guidance = flags.guidance === undefined ? WAN_T2V_SAMPLING_DEFAULTS.guidance : parseNumberFlag({ flag: '--guidance', value: flags.guidance, min: 0, max: 100 });
  const solver = parseChoice({ flag: '--solver', value: flags.solver, choices: SOLVER_NAMES as readonly SolverName[] });
  const sampler = flags.sampler === undefined ? undefined : parseChoice({ flag: '--sampler', value: flags.sampler, choices: SAMPLER_LOOPS });
  const seed = parseIntegerFlag({ flag: '--seed', value: flags.seed, min: 0, max: 2 ** 32 - 1 });
  const backendChoice = flags.backend === undefined ? undefined : parseChoice({ flag: '--backend', value: flags.backend, choices: ['auto', 'cpu', 'cuda'] as const satisfies readonly BackendChoice[] });
  const progressMode = resolveProgressMode(parseChoice({ flag: '--progress', value: flags.progress, choices: PROGRESS_MODES }));
  const textEncoderDevice = parseChoice({ flag: '--text-encoder-device', value: flags.textEncoderDevice, choices: STAGE_DEVICES });
  const vaeDevice = parseChoice({ flag: '--vae-device', value: flags.vaeDevice, choices: STAGE_DEVICES });
  const out = resolve(flags.out);
  if (!out.endsWith('.safetensors')) throw new UsageError({ message: `--out ${flags.out} does not end in .safetensors`, fix: 'pass e.g. --out latents.safetensors' });
  return { builtIn, width, height, frames, steps, shift, guidance, solver, sampler, seed, backendChoice, progressMode, textEncoderDevice, vaeDevice, out };
}
