/**
 * The text half of `fpsattn generate --prompt`: Wan's cleaning, the umT5 tokenizer (truncated to the model's text
 * length, </s> kept, padded with the pad id), the umT5 encoder (on the CPU in float32, `umt5EncodeCpu`, or on a kernels
 * backend, `WanUmt5DeviceEncoder`: BF16 GEMMs, weights uploaded for the stage and freed right after it), and an
 * on-disk cache of each encoded text.
 *
 * Cache: one safetensors file per text and encoder, `<dir>/<sha256>.safetensors`, the hash over the encoder's identity
 * (built-in name, or the weight files' paths, sizes and modification times), the precision and the token ids; tensor
 * `embedding` [tokens, dim] F32, metadata { text, ids, encoder }. Written through a temporary name and a rename
 * (writeSafetensors); a file that cannot be read or does not hold these ids is a miss and is written again. The
 * negative prompt is usually Wan's default, so it is encoded once per encoder.
 */
import { createHash } from 'node:crypto';
import { mkdir, readFile, readdir, stat } from 'node:fs/promises';
import { homedir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Backend } from '@fpsattn/kernels';
import {
  UMT5_CONFIG_PRESETS,
  WanUmt5DeviceEncoder,
  WanUmt5DeviceWeights,
  loadUmt5Weights,
  openSafetensors,
  syntheticUmt5Weights,
  umt5ConfigFromTransformers,
  umt5EncodeCpu,
  umt5PresetName,
  umt5TensorSpecs,
  writeSafetensors,
  type TextEmbedding,
  type Umt5Config,
  type Umt5Weights,
} from '@fpsattn/wan';
import { CliError, EXIT_CODES, UsageError } from '../_errors';
import { type ProgressMode, StepProgress } from '../_progress';
import { cleanPrompt } from './clean-prompt';
import type { FoundPath } from './find-text-files';
import type { TokenizedPrompt, Umt5Tokenizer } from './umt5-tokenizer';

/** Wan's `sample_neg_prompt` (wan/configs/shared_config.py), used when no negative prompt is given or it is empty. */
export const WAN_NEGATIVE_PROMPT =
  '色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走';

/** The built-in model's text encoder: `umt5-tiny` with synthetic weights. */
export const BUILT_IN_TEXT_ENCODER = 'umt5-tiny';
const BUILT_IN_SEED = 1;
/** The CPU encoder's precision (the cache key's `precision`); the device encoder's is {@link DEVICE_PRECISION}. */
const PRECISION = 'float32';
/** BF16 GEMM operands and a BF16 output, as the reference's bf16 run: cached apart from the float32 embeddings. */
const DEVICE_PRECISION = 'bf16 (device encoder)';

/** Where the encoder comes from. */
export type TextEncoderSource = { readonly kind: 'synthetic' } | ({ readonly kind: 'file' } & FoundPath);

/** The default cache folder: $FPSATTN_CACHE_DIR, else $XDG_CACHE_HOME/fpsattn, else ~/.cache/fpsattn; then text-embeddings/. */
export function defaultCacheDir(): string {
  const base = process.env.FPSATTN_CACHE_DIR || join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'fpsattn');
  return join(base, 'text-embeddings');
}

/** What the encoder is, for the cache key: the built-in name, or the weight files with their sizes and times. */
async function encoderIdentity(source: TextEncoderSource): Promise<Record<string, unknown>> {
  if (source.kind === 'synthetic') return { kind: 'built-in', name: BUILT_IN_TEXT_ENCODER, weights: `synthetic (seed ${BUILT_IN_SEED})` };
  const info = await stat(source.path);
  const files: [string, number, number][] = [];
  if (info.isDirectory()) {
    for (const name of (await readdir(source.path)).sort()) {
      const s = await stat(join(source.path, name)).catch(() => null);
      if (s?.isFile()) files.push([name, s.size, Math.round(s.mtimeMs)]);
    }
  } else files.push([source.path, info.size, Math.round(info.mtimeMs)]);
  return { kind: 'file', path: resolve(source.path), files };
}

/** The encoder's config without reading its weights: a text_encoder/ folder's config.json, else umT5-XXL (Wan's .pth). */
async function peekConfig(source: TextEncoderSource): Promise<Umt5Config> {
  if (source.kind === 'synthetic') return UMT5_CONFIG_PRESETS[BUILT_IN_TEXT_ENCODER];
  for (const file of [join(source.path, 'config.json'), join(source.path, 'text_encoder', 'config.json')]) {
    const text = await readFile(file, 'utf8').catch(() => null);
    if (text !== null) {
      try {
        return umt5ConfigFromTransformers({ json: JSON.parse(text) as Record<string, unknown>, source: file });
      } catch {
        break; // the loader reports it properly
      }
    }
  }
  return UMT5_CONFIG_PRESETS['umt5-xxl'];
}

/** Host bytes the encoder's float32 weights take. */
export function encoderHostBytes(config: Umt5Config): number {
  return umt5TensorSpecs(config).reduce((sum, { shape }) => sum + shape.reduce((a, b) => a * b, 1) * 4, 0);
}

const gb = (bytes: number) => `${(bytes / 1e9).toFixed(1)} GB`;

async function loadEncoder(source: TextEncoderSource): Promise<{ config: Umt5Config; weights: Umt5Weights; label: string }> {
  if (source.kind === 'synthetic') {
    const config = UMT5_CONFIG_PRESETS[BUILT_IN_TEXT_ENCODER];
    return { config, weights: syntheticUmt5Weights({ config, seed: BUILT_IN_SEED }), label: `built-in ${BUILT_IN_TEXT_ENCODER} (synthetic)` };
  }
  const expected = await peekConfig(source);
  const need = encoderHostBytes(expected);
  // Weights, activations and the Node heap: the weights alone must fit with a margin.
  if (need * 1.15 > totalmem()) {
    throw new CliError({
      message: `the text encoder ${source.path} (${umt5PresetName(expected) ?? 'umT5'}, ${gb(need)} as float32) does not fit this machine's ${gb(totalmem())} of memory: the umT5 encoder runs on the CPU for now and needs about ${gb(need * 1.15)}`,
      fix: 'run on a machine with more memory, or encode the prompts elsewhere and pass --embeddings FILE',
    });
  }
  const loaded = await loadUmt5Weights({ path: source.path });
  return { config: loaded.config, weights: loaded.weights, label: loaded.path };
}

/** One text's cache entry, or null. */
async function readCached(path: string, ids: readonly number[], dim: number): Promise<Float32Array | null> {
  try {
    const file = await openSafetensors(path);
    try {
      const info = file.tensors.get('embedding');
      if (info === undefined || file.metadata.ids !== JSON.stringify(ids) || info.shape[0] !== ids.length || info.shape[1] !== dim) return null;
      return await file.readAsFloat32('embedding');
    } finally {
      await file.close();
    }
  } catch {
    return null;
  }
}

/** What the manifest records of the text stage. */
export interface TextStageReport {
  readonly source: 'prompt';
  readonly prompt: string;
  readonly negativePrompt: string;
  readonly negativeSource: '--negative-prompt' | 'default (Wan)';
  readonly cleaned: { readonly prompt: string; readonly negative: string };
  readonly promptTokens: number;
  readonly negativeTokens: number;
  readonly truncated: { readonly prompt: number; readonly negative: number };
  readonly maxLength: number;
  readonly tokenizer: { readonly path: string; readonly found: string; readonly sha256: string; readonly vocabSize: number };
  readonly encoder: Record<string, unknown>;
  readonly cache: { readonly dir: string | null; readonly prompt: 'hit' | 'miss' | 'off'; readonly negative: 'hit' | 'miss' | 'off' };
  readonly timingS: { readonly tokenize: number; readonly encode: number };
}

/**
 * Cleans, tokenizes and encodes the prompt and the negative prompt (Wan's default when absent or empty) for a DiT of
 * `textDim` x `textLen`. The prompt empty after cleaning is a UsageError; an encoder that does not fit the tokenizer or
 * the DiT a CliError.
 */
export async function encodePrompts(options: {
  prompt: string;
  negativePrompt: string | undefined;
  tokenizer: Umt5Tokenizer;
  tokenizerFound: string;
  encoder: TextEncoderSource;
  textDim: number;
  textLen: number;
  cacheDir: string | null;
  progressMode: ProgressMode;
  signal: AbortSignal;
  /** Runs the encoder on this backend (WanUmt5DeviceEncoder); null: umt5EncodeCpu on the host in float32. */
  backend?: Backend | null;
}): Promise<{ prompt: TextEmbedding; negative: TextEmbedding; report: TextStageReport }> {
  const { tokenizer, encoder, textDim, textLen, cacheDir, progressMode, signal } = options;
  const backend = options.backend ?? null;
  const precision = backend === null ? PRECISION : DEVICE_PRECISION;
  const deviceName = backend === null ? 'cpu' : backend.name;
  const onDevice = backend === null ? 'on the CPU' : `on ${backend.name} (device encoder)`;
  const say = (line: string) => {
    if (progressMode !== 'none') process.stderr.write(`text: ${line}\n`);
  };
  const tokenizeStart = performance.now();
  const cleanedPrompt = cleanPrompt(options.prompt);
  if (cleanedPrompt === '') throw new UsageError({ message: `--prompt ${JSON.stringify(options.prompt)} is empty after Wan's cleaning (ftfy, HTML unescaping, whitespace)`, fix: 'pass a prompt with some text, e.g. --prompt "a red fox running through snow"' });
  const negativeGiven = options.negativePrompt !== undefined && cleanPrompt(options.negativePrompt) !== '';
  const negativePrompt = negativeGiven ? (options.negativePrompt as string) : WAN_NEGATIVE_PROMPT;
  const cleanedNegative = cleanPrompt(negativePrompt);
  const maxLength = textLen;
  const tokenized: Record<'prompt' | 'negative', TokenizedPrompt> = {
    prompt: tokenizer.tokenize({ text: cleanedPrompt, maxLength }),
    negative: tokenizer.tokenize({ text: cleanedNegative, maxLength }),
  };
  const tokenizeS = (performance.now() - tokenizeStart) / 1000;
  say(`tokenized the prompt (${tokenized.prompt.length} tokens) and the ${negativeGiven ? 'negative prompt' : "default negative prompt (Wan's)"} (${tokenized.negative.length} tokens) with ${tokenizer.source} in ${tokenizeS.toFixed(3)} s`);
  for (const which of ['prompt', 'negative'] as const) {
    const t = tokenized[which];
    if (t.truncated > 0) say(`the ${which === 'prompt' ? 'prompt' : 'negative prompt'} is ${t.truncated} tokens past the model's ${maxLength}: truncated to ${maxLength} (</s> kept), as the reference does`);
  }

  // ----- cache look-up, then the encoder for the misses
  const encodeStart = performance.now();
  const identity = await encoderIdentity(encoder);
  const config0 = await peekConfig(encoder);
  const keyOf = (t: TokenizedPrompt) =>
    createHash('sha256')
      .update(JSON.stringify({ format: 'fpsattn-text-embedding', version: 1, encoder: identity, precision, ids: [...t.ids.subarray(0, t.length)] }))
      .digest('hex');
  const results: Partial<Record<'prompt' | 'negative', Float32Array>> = {};
  const cacheState: Record<'prompt' | 'negative', 'hit' | 'miss' | 'off'> = { prompt: 'off', negative: 'off' };
  if (cacheDir !== null) {
    for (const which of ['prompt', 'negative'] as const) {
      const t = tokenized[which];
      const path = join(cacheDir, `${keyOf(t)}.safetensors`);
      const hit = await readCached(path, [...t.ids.subarray(0, t.length)], config0.dim);
      cacheState[which] = hit === null ? 'miss' : 'hit';
      if (hit !== null) {
        results[which] = hit;
        say(`${which === 'prompt' ? 'prompt' : 'negative prompt'}: embeddings from the cache (${path})`);
      }
    }
  }
  let encoderLabel = encoder.kind === 'synthetic' ? `built-in ${BUILT_IN_TEXT_ENCODER} (synthetic)` : encoder.path;
  let config = config0;
  const misses = (['prompt', 'negative'] as const).filter((w) => results[w] === undefined);
  if (misses.length > 0) {
    say(`loading the text encoder (${encoderLabel})${encoder.kind === 'file' && backend === null ? ': umT5 on the CPU, minutes for umT5-XXL' : ''}`);
    const loaded = await loadEncoder(encoder);
    config = loaded.config;
    encoderLabel = loaded.label;
    if (tokenizer.vocabSize > config.vocabSize) {
      throw new CliError({
        message: `the tokenizer ${tokenizer.source} has ${tokenizer.vocabSize} tokens, the text encoder ${encoderLabel} embeds only ${config.vocabSize}`,
        fix: "pass the tokenizer that belongs to the encoder (umT5's tokenizer.json with umT5-XXL)",
      });
    }
    // The device encoder's weights live for this loop only; freed on return, error or Ctrl-C.
    const device = backend === null ? null : WanUmt5DeviceWeights.upload({ backend, config, weights: loaded.weights, source: encoderLabel });
    try {
    for (const which of misses) {
      if (signal.aborted) throw new CliError({ message: 'stopped by Ctrl-C while encoding the prompts; nothing was written', exitCode: EXIT_CODES.interrupted });
      const t = tokenized[which];
      const start = performance.now();
      if (device !== null) {
        results[which] = await new WanUmt5DeviceEncoder({ weights: device }).encode({ ids: t.ids, length: t.length });
      } else {
      const progress = new StepProgress({ mode: progressMode, label: `text encoder block (${which})` });
      const blockMs: number[] = [];
      let last = start;
      try {
        results[which] = umt5EncodeCpu({
          weights: loaded.weights,
          config,
          tokenIds: t.ids,
          length: t.length,
          precision: PRECISION,
          onStage: ({ stage }) => {
            const m = /^blocks\.(\d+)$/.exec(stage);
            if (m === null) return;
            const now = performance.now();
            blockMs.push(now - last);
            last = now;
            progress.update({ done: Number(m[1]) + 1, total: config.numLayers, stepMs: blockMs });
          },
        });
      } finally {
        progress.finish();
      }
      }
      say(`encoded the ${which === 'prompt' ? 'prompt' : 'negative prompt'} (${t.length} tokens) with ${encoderLabel} ${onDevice} in ${((performance.now() - start) / 1000).toFixed(2)} s`);
      if (cacheDir !== null) {
        await mkdir(cacheDir, { recursive: true });
        const ids = [...t.ids.subarray(0, t.length)];
        await writeSafetensors({
          path: join(cacheDir, `${keyOf(t)}.safetensors`),
          tensors: { embedding: { dtype: 'F32', shape: [t.length, config.dim], data: results[which] as Float32Array } },
          metadata: { format: 'fpsattn-text-embedding', text: which === 'prompt' ? cleanedPrompt : cleanedNegative, ids: JSON.stringify(ids), encoder: JSON.stringify(identity), precision },
        });
      }
    }
    } finally {
      device?.dispose();
    }
  }
  if (config.dim !== textDim) {
    throw new CliError({
      message: `the text encoder ${encoderLabel} makes ${config.dim}-wide embeddings, the model takes ${textDim}`,
      fix: encoder.kind === 'synthetic' ? 'pass --text-encoder with the encoder of this model' : 'pass the umT5 encoder of this model with --text-encoder',
    });
  }
  const encodeS = (performance.now() - encodeStart) / 1000;
  const embedding = (which: 'prompt' | 'negative'): TextEmbedding => ({ values: results[which] as Float32Array, length: tokenized[which].length });
  return {
    prompt: embedding('prompt'),
    negative: embedding('negative'),
    report: {
      source: 'prompt',
      prompt: options.prompt,
      negativePrompt,
      negativeSource: negativeGiven ? '--negative-prompt' : 'default (Wan)',
      cleaned: { prompt: cleanedPrompt, negative: cleanedNegative },
      promptTokens: tokenized.prompt.length,
      negativeTokens: tokenized.negative.length,
      truncated: { prompt: tokenized.prompt.truncated, negative: tokenized.negative.truncated },
      maxLength,
      tokenizer: { path: tokenizer.source, found: options.tokenizerFound, sha256: tokenizer.sha256, vocabSize: tokenizer.vocabSize },
      encoder: { ...identity, label: encoderLabel, config: umt5PresetName(config) ?? config, device: deviceName, precision },
      cache: { dir: cacheDir, prompt: cacheState.prompt, negative: cacheState.negative },
      timingS: { tokenize: tokenizeS, encode: encodeS },
    },
  };
}
