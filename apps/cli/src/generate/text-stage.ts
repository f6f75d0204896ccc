// The text stage of `fpsattn generate`: the run's embeddings from --prompt (tokenizer, then umT5; on a device its
// weights go up and are freed within the stage), from an --embeddings file, or synthetic for the built-in model.
import { resolve } from 'node:path';
import type { Backend } from '@fpsattn/kernels';
import { readTextEmbeddings, syntheticWanInputs, type TextEmbeddings, type WanConfig } from '@fpsattn/wan';
import { type StageMemory, formatGiB } from '../_device-memory';
import { defaultCacheDir, encodePrompts, type TextStageReport } from '../text/encode-prompts';
import type { TextInputs } from './input-files';
import type { StageContext } from './stage-context';

/** Synthetic prompt lengths (tokens) of the built-in model's embeddings. */
const SYNTHETIC_PROMPT_TOKENS = { prompt: 12, negative: 4 } as const;

/** Deterministic synthetic text embeddings for the built-in model when neither --prompt nor --embeddings is given. */
function syntheticEmbeddings(config: WanConfig, seed: number): TextEmbeddings {
  const text = (s: number, length: number) => ({ values: syntheticWanInputs({ config, seed: s, latentShape: [config.inDim, 1, 2, 2], contextLength: length }).context, length });
  return { prompt: text(seed * 2 + 2, SYNTHETIC_PROMPT_TOKENS.prompt), negative: text(seed * 2 + 3, SYNTHETIC_PROMPT_TOKENS.negative), metadata: { prompt: '(synthetic embeddings)' } };
}

export interface TextStage {
  embeddings: TextEmbeddings;
  /** The prompt's tokenization and encoding (null without --prompt). */
  report: TextStageReport | null;
  /** The stage's device memory when umT5 ran on a backend, else null. */
  deviceMemory: StageMemory | null;
  /** Seconds spent tokenizing and encoding (0 without --prompt). */
  seconds: number;
}

export async function runTextStage(options: StageContext & {
  flags: { prompt?: string; negativePrompt?: string; embeddings?: string; cache: boolean; cacheDir?: string };
  /** The tokenizer and encoder of a --prompt run, else null. */
  text: TextInputs | null;
  config: WanConfig;
  seed: number;
  /** Where umT5 runs; null: the host's float32 reference. */
  backend: Backend | null;
}): Promise<TextStage> {
  const { flags, text, config, backend, memory } = options;
  if (text === null) {
    const embeddings = flags.embeddings !== undefined ? await readTextEmbeddings({ path: flags.embeddings, textDim: config.textDim, textLen: config.textLen }) : syntheticEmbeddings(config, options.seed);
    return { embeddings, report: null, deviceMemory: null, seconds: 0 };
  }
  let stageMemory: StageMemory;
  let encoded: Awaited<ReturnType<typeof encodePrompts>>;
  memory.begin('text', backend?.name ?? 'cpu');
  try {
    encoded = await encodePrompts({
      prompt: flags.prompt as string,
      negativePrompt: flags.negativePrompt,
      tokenizer: text.tokenizer,
      tokenizerFound: text.tokenizerFound,
      encoder: text.encoder,
      textDim: config.textDim,
      textLen: config.textLen,
      cacheDir: flags.cache ? resolve(flags.cacheDir ?? defaultCacheDir()) : null,
      progressMode: options.progressMode,
      signal: options.signal,
      backend,
    });
  } finally {
    stageMemory = memory.end();
  }
  if (backend !== null) options.say(`text: peak device memory ${formatGiB(stageMemory.peakBytes)} on ${backend.name} (encoder weights and activations), ${formatGiB(stageMemory.endBytes)} left after the stage`);
  const { report } = encoded;
  return {
    embeddings: { prompt: encoded.prompt, negative: encoded.negative, metadata: { prompt: report.prompt, negative_prompt: report.negativePrompt } },
    report,
    deviceMemory: backend === null ? null : stageMemory,
    seconds: report.timingS.tokenize + report.timingS.encode,
  };
}
