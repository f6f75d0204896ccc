// Where a checkpoint's tokenizer and umT5 text encoder are: the original Wan2.1 folder (`google/umt5-xxl/tokenizer.json`,
// `models_t5_umt5-xxl-enc-bf16.pth`) or the diffusers one (`tokenizer/tokenizer.json`, `text_encoder/`), given the
// checkpoint folder, a file in it, or the diffusers `transformer/` folder.
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { UMT5_PTH_FILE } from '@fpsattn/wan';
import { UsageError } from '../_errors';
import { TOKENIZER_FILE } from './umt5-tokenizer';

/** A file or folder found, and how. */
export interface FoundPath {
  readonly path: string;
  readonly found: '--tokenizer' | '--text-encoder' | 'next to the checkpoint';
}

const exists = async (path: string): Promise<boolean> => (await stat(path).catch(() => null)) !== null;
const isDirectory = async (path: string): Promise<boolean> => (await stat(path).catch(() => null))?.isDirectory() ?? false;

/** The folders a checkpoint's companions may be in: its own, and its parent (a diffusers `transformer/`). */
async function roots(checkpoint: string): Promise<string[]> {
  const dir = (await isDirectory(checkpoint)) ? resolve(checkpoint) : dirname(resolve(checkpoint));
  return [dir, dirname(dir)];
}

/** The tokenizer.json candidates next to `checkpoint`, in the order they are tried. */
export async function tokenizerCandidates(checkpoint: string): Promise<string[]> {
  const [dir, parent] = await roots(checkpoint);
  return [join(dir as string, 'google', 'umt5-xxl', TOKENIZER_FILE), join(dir as string, 'tokenizer', TOKENIZER_FILE), join(parent as string, 'tokenizer', TOKENIZER_FILE)];
}

/** The text encoder candidates next to `checkpoint`, in the order they are tried. */
export async function textEncoderCandidates(checkpoint: string): Promise<string[]> {
  const [dir, parent] = await roots(checkpoint);
  return [join(dir as string, UMT5_PTH_FILE), join(dir as string, 'text_encoder'), join(parent as string, 'text_encoder')];
}

async function find(options: { given: string | undefined; flag: '--tokenizer' | '--text-encoder'; what: string; candidates: () => Promise<string[]> }): Promise<FoundPath> {
  const { given, flag, what } = options;
  if (given !== undefined) {
    if (!(await exists(given))) throw new UsageError({ message: `${what} ${given} does not exist`, fix: `pass ${flag} with an existing path` });
    return { path: resolve(given), found: flag };
  }
  const candidates = await options.candidates();
  for (const candidate of candidates) if (await exists(candidate)) return { path: candidate, found: 'next to the checkpoint' };
  throw new UsageError({
    message: `--prompt: no ${what} next to the checkpoint (looked for ${candidates.join(', ')})`,
    fix: `pass ${flag} PATH, or --embeddings FILE with the prompts already encoded`,
  });
}

/** The tokenizer (`--tokenizer`, else next to the checkpoint); a UsageError naming every place looked at. */
export function findTokenizer(options: { checkpoint: string; tokenizer: string | undefined }): Promise<FoundPath> {
  return find({ given: options.tokenizer, flag: '--tokenizer', what: 'umT5 tokenizer', candidates: () => tokenizerCandidates(options.checkpoint) });
}

/** The text encoder (`--text-encoder`, else next to the checkpoint); a UsageError naming every place looked at. */
export function findTextEncoder(options: { checkpoint: string; textEncoder: string | undefined }): Promise<FoundPath> {
  return find({ given: options.textEncoder, flag: '--text-encoder', what: 'umT5 text encoder', candidates: () => textEncoderCandidates(options.checkpoint) });
}
