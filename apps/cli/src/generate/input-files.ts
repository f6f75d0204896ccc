// The files `fpsattn generate` reads besides the VAE: the checkpoint and embeddings it was given (checked to exist),
// and, for --prompt, the tokenizer and the text encoder (given, found next to the checkpoint, or built in). The
// tokenizer is read here, so a missing or corrupt one fails before any weights load.
import { stat } from 'node:fs/promises';
import { UsageError } from '../_errors';
import { BUILT_IN_TEXT_ENCODER, type TextEncoderSource } from '../text/encode-prompts';
import { type FoundPath, findTextEncoder, findTokenizer } from '../text/find-text-files';
import { syntheticTokenizerJson } from '../text/synthetic-tokenizer';
import { Umt5Tokenizer } from '../text/umt5-tokenizer';

/** Throws a UsageError for a --checkpoint or --embeddings path that does not exist. */
export async function checkGivenFilesExist(options: { checkpoint: string | undefined; embeddings: string | undefined }): Promise<void> {
  const { checkpoint, embeddings } = options;
  if (checkpoint !== undefined) {
    await stat(checkpoint).catch((cause: unknown) => {
      throw new UsageError({ message: `checkpoint ${checkpoint} does not exist (${(cause as NodeJS.ErrnoException).code})`, fix: 'pass a .safetensors file, an index or a folder holding one with its config.json', cause });
    });
  }
  if (embeddings !== undefined) {
    await stat(embeddings).catch((cause: unknown) => {
      throw new UsageError({ message: `embeddings file ${embeddings} does not exist (${(cause as NodeJS.ErrnoException).code})`, fix: 'pass a .safetensors file with "prompt" and "negative_prompt" tensors', cause });
    });
  }
}

/** What the text stage encodes a prompt with. */
export interface TextInputs {
  tokenizer: Umt5Tokenizer;
  /** How the tokenizer was found (the manifest's `tokenizer.found`). */
  tokenizerFound: string;
  encoder: TextEncoderSource;
}

/** The tokenizer (loaded) and the encoder (located) of a --prompt run; the built-in model's are synthetic. */
export async function findTextInputs(options: { builtIn: boolean; checkpoint: string | undefined; tokenizer: string | undefined; textEncoder: string | undefined }): Promise<TextInputs> {
  const { builtIn, checkpoint } = options;
  let tokenizer: Umt5Tokenizer;
  let tokenizerFound: string;
  if (options.tokenizer === undefined && builtIn) {
    tokenizer = Umt5Tokenizer.fromJson({ json: syntheticTokenizerJson(), source: `built-in synthetic tokenizer (${BUILT_IN_TEXT_ENCODER})` });
    tokenizerFound = 'built-in';
  } else {
    const found = await findTokenizer({ checkpoint: checkpoint ?? '.', tokenizer: options.tokenizer });
    tokenizer = await Umt5Tokenizer.load({ path: found.path });
    tokenizerFound = found.found;
  }
  let encoder: TextEncoderSource;
  if (options.textEncoder === undefined && builtIn) encoder = { kind: 'synthetic' };
  else {
    const found: FoundPath = await findTextEncoder({ checkpoint: checkpoint ?? '.', textEncoder: options.textEncoder });
    encoder = { kind: 'file', ...found };
  }
  return { tokenizer, tokenizerFound, encoder };
}
