/**
 * umT5's tokenizer from its tokenizer.json (Hugging Face tokenizers format), as Wan's `AutoTokenizer` (T5TokenizerFast,
 * i.e. HF tokenizers in Rust) runs it, then truncated and padded as Wan asks (`padding='max_length', truncation=True,
 * max_length=text_len, add_special_tokens=True`, wan21-architecture.md 6.2).
 *
 * @huggingface/tokenizers does the added-token split, the Unigram lattice and Viterbi (SentencePiece's, unknown
 * characters fused into one <unk>) and the vocabulary. Three parts are ours because the library's differ from the Rust
 * reference (checked in its 0.2.0 source):
 * - the `Precompiled` normalizer: the library ignores `precompiled_charsmap` and applies NFKC and a few regexes; ours
 *   reads the charsmap (precompiled-charsmap.ts); `Strip` uses Unicode White_Space as Rust does;
 * - the `Metaspace` pre-tokenizer: the library never splits on ▁ (Rust does when `split`, the default) and reads no
 *   `add_prefix_space: false`;
 * - Unigram `byte_fallback`: the library ignores it; with it, a piece not in the vocabulary becomes its UTF-8 bytes'
 *   <0xXX> pieces when all exist (else <unk>), as in `tokenizers/src/models/unigram/model.rs`.
 * The `TemplateProcessing` post-processor (umT5: `$A </s>`) is applied after truncation, as HF truncates: the text's
 * tokens to `maxLength` minus the template's special tokens, so `</s>` is always kept.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Normalizer, PreTokenizer, ReplaceNormalizer, Tokenizer } from '@huggingface/tokenizers';
import { CliError, UsageError } from '../_errors';
import { PrecompiledCharsmap, PrecompiledCharsmapError } from './precompiled-charsmap';

/** The file name, in a tokenizer folder (`google/umt5-xxl/`, diffusers `tokenizer/`). */
export const TOKENIZER_FILE = 'tokenizer.json';

/** A prompt as the text encoder takes it. */
export interface TokenizedPrompt {
  /** Token ids, `maxLength` of them: the real ones (ending in </s>), then the pad id. */
  readonly ids: Int32Array;
  /** 1 for the real tokens, 0 for the padding. */
  readonly attentionMask: Uint8Array;
  /** Real tokens (the mask's sum), </s> included. */
  readonly length: number;
  /** Tokens cut off by the truncation (0 when the prompt fits). */
  readonly truncated: number;
}

type Json = Record<string, unknown>;

// ----- our parts of the pipeline -----

/** Unicode White_Space, what Rust's `char::is_whitespace` tests (Strip). */
const WS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';

class StripStep extends Normalizer {
  override normalize(text: string): string {
    const cfg = this.config as { strip_left?: boolean; strip_right?: boolean };
    let out = text;
    if (cfg.strip_left) out = out.replace(new RegExp(`^[${WS}]+`), '');
    if (cfg.strip_right) out = out.replace(new RegExp(`[${WS}]+$`), '');
    return out;
  }
}

class PrecompiledStep extends Normalizer {
  charsmap: PrecompiledCharsmap | null = null;
  override normalize(text: string): string {
    return (this.charsmap as PrecompiledCharsmap).normalize(text);
  }
}

class SequenceStep extends Normalizer {
  steps: Normalizer[] = [];
  override normalize(text: string): string {
    return this.steps.reduce((t, step) => step.normalize(t), text);
  }
}

/** Metaspace as HF tokenizers (Rust) runs it: spaces -> replacement, prefix per scheme, split before each replacement. */
class MetaspaceStep extends PreTokenizer {
  replacement = '▁';
  scheme: 'always' | 'first' | 'never' = 'always';
  split = true;
  override pre_tokenize_text(text: string, options?: { section_index?: number }): string[] {
    const rep = this.replacement;
    let s = text.replaceAll(' ', rep);
    if (!s.startsWith(rep) && (this.scheme === 'always' || (this.scheme === 'first' && (options?.section_index ?? 0) === 0))) s = rep + s;
    if (!this.split) return [s];
    const pieces: string[] = [];
    let start = 0;
    for (let i = s.indexOf(rep, 1); i > 0; i = s.indexOf(rep, i + rep.length)) {
      if (i > start) pieces.push(s.slice(start, i));
      start = i;
    }
    if (start < s.length) pieces.push(s.slice(start));
    return pieces;
  }
}

// ----- tokenizer.json checks -----

function fail(source: string, rule: string, cause?: unknown): never {
  throw new CliError({
    message: `tokenizer ${source}: ${rule}`,
    fix: 'pass the umT5 tokenizer.json (google/umt5-xxl/tokenizer.json in the Wan2.1 folder, tokenizer/tokenizer.json in the diffusers one) with --tokenizer',
    ...(cause === undefined ? {} : { cause }),
  });
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function buildNormalizer(config: unknown, source: string, where: string): Normalizer {
  if (!isObject(config)) return fail(source, `${where} is not an object`);
  switch (config.type) {
    case 'Precompiled': {
      const step = new PrecompiledStep(config as never);
      if (typeof config.precompiled_charsmap !== 'string') return fail(source, `${where}.precompiled_charsmap is not a base64 string`);
      try {
        step.charsmap = PrecompiledCharsmap.fromBase64(config.precompiled_charsmap);
      } catch (error) {
        if (error instanceof PrecompiledCharsmapError) fail(source, `${where}.precompiled_charsmap: ${error.message}`, error);
        throw error;
      }
      return step;
    }
    case 'Sequence': {
      if (!Array.isArray(config.normalizers)) return fail(source, `${where}.normalizers is not a list`);
      const step = new SequenceStep(config as never);
      step.steps = config.normalizers.map((n, i) => buildNormalizer(n, source, `${where}.normalizers[${i}]`));
      return step;
    }
    case 'Strip':
      return new StripStep(config as never);
    case 'Replace': {
      const pattern = config.pattern;
      if (!isObject(pattern) || (typeof pattern.String !== 'string' && typeof pattern.Regex !== 'string') || typeof config.content !== 'string') {
        return fail(source, `${where} (Replace) needs a pattern { String | Regex } and a content string`);
      }
      return new ReplaceNormalizer(config as never);
    }
    default:
      return fail(source, `${where} has type ${JSON.stringify(config.type)}; umT5's tokenizer uses Precompiled (optionally in a Sequence with Strip and Replace)`);
  }
}

function buildPreTokenizer(config: unknown, source: string): MetaspaceStep {
  if (!isObject(config) || config.type !== 'Metaspace') return fail(source, `pre_tokenizer is ${isObject(config) ? `of type ${JSON.stringify(config.type)}` : JSON.stringify(config)}; umT5's tokenizer uses Metaspace`);
  const step = new MetaspaceStep();
  if (config.replacement !== undefined) {
    if (typeof config.replacement !== 'string' || Array.from(config.replacement).length !== 1) return fail(source, 'pre_tokenizer.replacement is not one character');
    step.replacement = config.replacement;
  }
  const scheme = config.prepend_scheme ?? 'always';
  if (scheme !== 'always' && scheme !== 'first' && scheme !== 'never') return fail(source, `pre_tokenizer.prepend_scheme ${JSON.stringify(scheme)} is not always, first or never`);
  step.scheme = config.add_prefix_space === false ? 'never' : scheme;
  step.split = config.split !== false;
  return step;
}

interface Template {
  /** Special-token ids before and after the text's. */
  readonly before: readonly number[];
  readonly after: readonly number[];
}

function parseTemplate(config: unknown, source: string): Template {
  if (config === null || config === undefined) return { before: [], after: [] };
  if (!isObject(config) || config.type !== 'TemplateProcessing' || !Array.isArray(config.single) || !isObject(config.special_tokens)) {
    return fail(source, 'post_processor is not a TemplateProcessing with "single" and "special_tokens" (umT5: $A </s>)');
  }
  const specials = config.special_tokens;
  const before: number[] = [];
  const after: number[] = [];
  let seenA = false;
  for (const item of config.single as unknown[]) {
    if (isObject(item) && isObject(item.Sequence) && item.Sequence.id === 'A') {
      if (seenA) return fail(source, 'post_processor.single holds $A twice');
      seenA = true;
    } else if (isObject(item) && isObject(item.SpecialToken) && typeof item.SpecialToken.id === 'string') {
      const special = specials[item.SpecialToken.id];
      if (!isObject(special) || !Array.isArray(special.ids) || !special.ids.every((id) => Number.isSafeInteger(id) && (id as number) >= 0)) {
        return fail(source, `post_processor.special_tokens has no ids for ${JSON.stringify(item.SpecialToken.id)}`);
      }
      (seenA ? after : before).push(...(special.ids as number[]));
    } else {
      return fail(source, `post_processor.single holds ${JSON.stringify(item)}, expected { Sequence: { id: "A" } } or { SpecialToken: { id } }`);
    }
  }
  if (!seenA) return fail(source, 'post_processor.single has no $A');
  return { before, after };
}

// ----- the tokenizer -----

export class Umt5Tokenizer {
  /** Where it came from (a path, or `built-in ...`). */
  readonly source: string;
  /** sha256 of the tokenizer.json text (the embeddings cache's key includes it). */
  readonly sha256: string;
  /** Vocabulary size including the added tokens (the encoder's embedding needs at least as many rows). */
  readonly vocabSize: number;
  readonly padId: number;
  readonly unkId: number;
  readonly byteFallback: boolean;
  readonly #tokenizer: Tokenizer;
  readonly #template: Template;
  readonly #vocab: ReadonlyMap<string, number>;

  private constructor(options: { source: string; sha256: string; tokenizer: Tokenizer; template: Template; byteFallback: boolean; unkId: number }) {
    this.source = options.source;
    this.sha256 = options.sha256;
    this.#tokenizer = options.tokenizer;
    this.#template = options.template;
    this.byteFallback = options.byteFallback;
    this.unkId = options.unkId;
    this.#vocab = options.tokenizer.get_vocab(true);
    this.vocabSize = Math.max(...this.#vocab.values()) + 1;
    this.padId = this.#vocab.get('<pad>') ?? 0;
  }

  /** Reads `path`: a tokenizer.json, or a folder holding one. A missing path is a UsageError, a bad file a CliError. */
  static async load(options: { path: string }): Promise<Umt5Tokenizer> {
    let file = options.path;
    const info = await stat(file).catch((cause: unknown) => {
      throw new UsageError({ message: `tokenizer ${file} does not exist (${(cause as NodeJS.ErrnoException).code})`, fix: `pass --tokenizer with umT5's ${TOKENIZER_FILE} or the folder holding it`, cause });
    });
    if (info.isDirectory()) {
      file = join(file, TOKENIZER_FILE);
      await stat(file).catch((cause: unknown) => {
        throw new UsageError({ message: `tokenizer folder ${options.path} has no ${TOKENIZER_FILE}`, fix: `pass --tokenizer with umT5's ${TOKENIZER_FILE} (fpsattn reads the Hugging Face tokenizers format, not spiece.model)`, cause });
      });
    }
    const text = await readFile(file, 'utf8');
    return Umt5Tokenizer.fromText({ text, source: file });
  }

  /** Parses a tokenizer.json's text; every problem is one CliError naming `source`. */
  static fromText(options: { text: string; source: string }): Umt5Tokenizer {
    const { text, source } = options;
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch (cause) {
      return fail(source, `is not valid JSON (${(cause as Error).message})`, cause);
    }
    return Umt5Tokenizer.fromJson({ json, source, sha256: createHash('sha256').update(text).digest('hex') });
  }

  static fromJson(options: { json: unknown; source: string; sha256?: string }): Umt5Tokenizer {
    const { json, source } = options;
    if (!isObject(json)) return fail(source, 'is not a JSON object');
    const model = json.model;
    if (!isObject(model) || model.type !== 'Unigram') return fail(source, `model is ${isObject(model) ? `of type ${JSON.stringify(model.type)}` : 'missing'}; umT5's tokenizer is a Unigram model`);
    const vocab = model.vocab;
    if (!Array.isArray(vocab) || vocab.length === 0) return fail(source, 'model.vocab is not a non-empty list of [piece, score]');
    for (let i = 0; i < vocab.length; i++) {
      const entry = vocab[i] as unknown;
      if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== 'string' || typeof entry[1] !== 'number' || !Number.isFinite(entry[1])) {
        return fail(source, `model.vocab[${i}] is ${JSON.stringify(entry)?.slice(0, 60)}, expected [piece, finite score]`);
      }
    }
    const unkId = model.unk_id;
    if (!Number.isSafeInteger(unkId) || (unkId as number) < 0 || (unkId as number) >= vocab.length) return fail(source, `model.unk_id ${JSON.stringify(unkId)} is not an index of model.vocab (${vocab.length} pieces)`);
    const addedTokens = json.added_tokens ?? [];
    if (!Array.isArray(addedTokens) || !addedTokens.every((t) => isObject(t) && typeof t.content === 'string' && Number.isSafeInteger(t.id))) {
      return fail(source, 'added_tokens is not a list of { id, content, ... }');
    }
    const normalizer = json.normalizer === null || json.normalizer === undefined ? null : buildNormalizer(json.normalizer, source, 'normalizer');
    const preTokenizer = buildPreTokenizer(json.pre_tokenizer, source);
    const template = parseTemplate(json.post_processor, source);
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer({ ...json, added_tokens: addedTokens, decoder: json.decoder ?? null, post_processor: null }, {});
    } catch (cause) {
      return fail(source, `cannot be read by @huggingface/tokenizers (${(cause as Error).message})`, cause);
    }
    tokenizer.normalizer = normalizer;
    tokenizer.pre_tokenizer = preTokenizer;
    return new Umt5Tokenizer({
      source,
      sha256: options.sha256 ?? createHash('sha256').update(JSON.stringify(json)).digest('hex'),
      tokenizer,
      template,
      byteFallback: model.byte_fallback === true,
      unkId: unkId as number,
    });
  }

  /** The text's pieces (normalized, pre-tokenized, Viterbi), before the ids; unknown runs as their text. */
  pieces(text: string): string[] {
    return this.#tokenizer.tokenize(text, { add_special_tokens: false });
  }

  /** The text's token ids, without the template's special tokens and without truncation. */
  encodeText(text: string): number[] {
    const ids: number[] = [];
    for (const piece of this.pieces(text)) {
      const id = this.#vocab.get(piece);
      if (id !== undefined) {
        ids.push(id);
        continue;
      }
      if (this.byteFallback) {
        const bytes = [...Buffer.from(piece, 'utf8')].map((b) => this.#vocab.get(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`));
        if (bytes.every((b) => b !== undefined)) {
          ids.push(...(bytes as number[]));
          continue;
        }
      }
      ids.push(this.unkId);
    }
    return ids;
  }

  /** The ids with the template's special tokens (umT5: the text's then </s>), untruncated. */
  encode(text: string): number[] {
    return [...this.#template.before, ...this.encodeText(text), ...this.#template.after];
  }

  /** Tokenized, truncated to `maxLength` (the special tokens kept) and padded to it with the pad id. */
  tokenize(options: { text: string; maxLength: number }): TokenizedPrompt {
    const { text, maxLength } = options;
    const specials = this.#template.before.length + this.#template.after.length;
    if (!Number.isSafeInteger(maxLength) || maxLength <= specials) throw new Error(`Umt5Tokenizer.tokenize: maxLength ${maxLength} leaves no room for the text next to ${specials} special tokens`);
    const body = this.encodeText(text);
    const room = maxLength - specials;
    const kept = body.length > room ? body.slice(0, room) : body;
    const real = [...this.#template.before, ...kept, ...this.#template.after];
    const ids = new Int32Array(maxLength).fill(this.padId);
    ids.set(real);
    const attentionMask = new Uint8Array(maxLength);
    attentionMask.fill(1, 0, real.length);
    return { ids, attentionMask, length: real.length, truncated: body.length - kept.length };
  }
}
