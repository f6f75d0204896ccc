/**
 * The built-in model's tokenizer: a tokenizer.json laid out as umT5's (Hugging Face tokenizers format, as the T5
 * converter of transformers writes it) with a small vocabulary whose size is `umt5-tiny`'s embedding rows (512):
 *
 *   ids 0-2        <pad>, </s>, <unk> (added special tokens, as umT5's)
 *   ids 3-258      the 256 byte pieces <0x00>..<0xFF> (umT5's SentencePiece model has them; `byte_fallback` says whether
 *                  they are used: false here, as transformers' T5 converter writes it)
 *   ids 259-507    "▁", ASCII letters, digits and punctuation, some accented letters, Chinese characters of Wan's default
 *                  negative prompt, and multi-character pieces (English subwords, "▁"-words, Chinese pairs, and "▁of▁the",
 *                  which Metaspace's split keeps from ever matching); scores are
 *                  seeded draws with 4 decimals (parsed exactly by every JSON reader)
 *   ids 508-511    <extra_id_3>..<extra_id_0> (added special tokens, reversed as in umT5)
 *
 * Normalizer: a real `Precompiled` charsmap (charsmap-builder.ts) with NFKC-like rules over selected blocks (Latin-1,
 * Latin Extended-A, general punctuation, super/subscripts, letterlike and number forms, enclosed alphanumerics, CJK
 * symbols and compatibility forms, ligatures, full/half-width forms but U+FF5E, bold math letters), letter + combining
 * accent sequences composed, and SentencePiece's `nmt_nfkc` rules (controls removed; tab, newline, no-break and other
 * spaces, U+2581, U+FEFF and U+FFFD -> space). Pre-tokenizer Metaspace (▁, prepend always, split); post-processor
 * TemplateProcessing `$A </s>`; decoder Metaspace.
 */
import { createRng } from '../_random';
import { buildPrecompiledCharsmap } from './charsmap-builder';

/** The vocabulary size: `umt5-tiny`'s `vocabSize`. */
export const SYNTHETIC_TOKENIZER_VOCAB_SIZE = 512;
const SEED = 20250601;
const EXTRA_IDS = 4;

const SPECIALS = ['<pad>', '</s>', '<unk>'] as const;
const ASCII = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?\'"-:;()&/';
const ACCENTED = 'éèêàçñüöäßÉ';
const CHINESE = '色调艳丽过曝静态细节模糊不清字幕风格作品画面止整体发灰最差质量低压缩残留丑陋的多余手指';
const WORDS = [
  'th', 'he', 'in', 'er', 'an', 're', 'on', 'at', 'en', 'ing', 'ed', 'es', 'st', 'ou', 'qu', 'ck', 'ow', 'mp', 'ly', 'or', 'ar', 'le', 'ch', 'sh',
  '▁a', '▁the', '▁of', '▁and', '▁in', '▁on', '▁to', '▁is', '▁s', '▁c', '▁b', '▁f', '▁r', '▁w', '▁d', '▁m', '▁p', '▁t', '▁l', '▁h', '▁g',
  '▁fox', '▁cat', '▁dog', '▁red', '▁blue', '▁qu', '▁br', '▁ju', '▁over', '▁lazy', '▁quick', '▁brown', '▁jump', '▁jumps', '▁video',
  '▁A', '▁T', '▁I', '▁The', '▁caf', '▁café', '▁na', '▁ï', '▁über', '▁street', '▁night', '▁rain', '▁city', '▁light', '▁slow', '▁motion',
  'ight', 'tion', 'ness', 'ful', 'ation', '▁sun', '▁sky', '▁sea', '▁tree', '▁walk', '▁run', '▁old', '▁new', '▁of▁the', '▁1', '▁2', '▁19', '▁20', '▁"', '▁(', '▁-', '▁&',
  '▁色调', '艳丽', '过曝', '静态', '细节', '模糊', '不清', '字幕', '风格', '作品', '画面', '静止', '整体', '发灰', '最差', '质量', '低质量', '压缩', '残留', '丑陋', '手指',
];

/** SentencePiece's nmt_nfkc: removed controls, and the characters it maps to a space. */
const NMT_REMOVED = [[0x01, 0x08], [0x0b, 0x0b], [0x0e, 0x1f], [0x7f, 0x7f], [0x8f, 0x8f], [0x9f, 0x9f]] as const;
const NMT_SPACE = [[0x09, 0x0a], [0x0c, 0x0d], [0xa0, 0xa0], [0x1680, 0x1680], [0x2000, 0x200f], [0x2028, 0x2029], [0x202f, 0x202f], [0x205f, 0x205f], [0x2581, 0x2581], [0x3000, 0x3000], [0xfeff, 0xfeff], [0xfffd, 0xfffd]] as const;
/** Blocks whose NFKC changes are in the table. */
const NFKC_BLOCKS: readonly (readonly [number, number])[] = [
  [0x00a0, 0x017f], [0x2000, 0x209f], [0x2100, 0x218f], [0x2460, 0x24ff], [0x3000, 0x303f], [0x3200, 0x33ff], [0xf900, 0xf92f], [0xfb00, 0xfb06],
  [0xff00, 0xffef], [0x1d400, 0x1d433],
];
const COMBINING_BASES = 'aeiouyncAEIOUYNC';
const COMBINING_MARKS = [0x300, 0x301, 0x302, 0x303, 0x308, 0x30a, 0x30c, 0x327];

/** The synthetic charsmap's table: key -> replacement. */
export function syntheticCharsmapTable(): Map<string, string> {
  const table = new Map<string, string>();
  for (const [lo, hi] of NFKC_BLOCKS) {
    for (let cp = lo; cp <= hi; cp++) {
      if (cp === 0xff5e) continue; // nmt_nfkc keeps the full-width tilde
      const c = String.fromCodePoint(cp);
      const n = c.normalize('NFKC');
      if (n !== c) table.set(c, n);
    }
  }
  for (const base of COMBINING_BASES) {
    for (const mark of COMBINING_MARKS) {
      const seq = base + String.fromCharCode(mark);
      const composed = seq.normalize('NFKC');
      if (Array.from(composed).length === 1) table.set(seq, composed);
    }
  }
  for (const [lo, hi] of NMT_REMOVED) for (let cp = lo; cp <= hi; cp++) table.set(String.fromCodePoint(cp), '');
  for (const [lo, hi] of NMT_SPACE) for (let cp = lo; cp <= hi; cp++) table.set(String.fromCodePoint(cp), ' ');
  return table;
}

/** The vocabulary pieces with their scores, in id order (without the extra ids). */
function vocabulary(): [string, number][] {
  const rng = createRng(SEED);
  const score = (lo: number, hi: number) => -Math.round((lo + (hi - lo) * rng.uniform()) * 10000) / 10000;
  const vocab: [string, number][] = SPECIALS.map((s) => [s, 0]);
  for (let b = 0; b < 256; b++) vocab.push([`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`, 0]);
  const pieces: [string, number][] = [['▁', score(2, 3)]];
  for (const c of ASCII) pieces.push([c, score(4, 9)]);
  for (const c of ACCENTED) pieces.push([c, score(7, 10)]);
  for (const c of CHINESE) pieces.push([c, score(6, 10)]);
  for (const w of WORDS) pieces.push([w, score(3, 14)]);
  const seen = new Set<string>();
  for (const [piece] of pieces) {
    if (seen.has(piece)) throw new Error(`syntheticTokenizerJson: duplicate piece ${piece}`);
    seen.add(piece);
  }
  // SentencePiece orders the normal pieces by score, best first.
  pieces.sort((a, b) => b[1] - a[1]);
  vocab.push(...pieces);
  const room = SYNTHETIC_TOKENIZER_VOCAB_SIZE - EXTRA_IDS;
  if (vocab.length !== room) throw new Error(`syntheticTokenizerJson: ${vocab.length} pieces, expected ${room} before the extra ids`);
  return vocab;
}

const added = (id: number, content: string) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });

/** The synthetic tokenizer.json (an object; `JSON.stringify` it to write the file). */
export function syntheticTokenizerJson(): Record<string, unknown> {
  const vocab = vocabulary();
  const extra = Array.from({ length: EXTRA_IDS }, (_, i) => `<extra_id_${EXTRA_IDS - 1 - i}>`);
  const base = vocab.length;
  const charsmap = Buffer.from(buildPrecompiledCharsmap(syntheticCharsmapTable())).toString('base64');
  return {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: [...SPECIALS.map((s, i) => added(i, s)), ...extra.map((s, i) => added(base + i, s))],
    normalizer: { type: 'Precompiled', precompiled_charsmap: charsmap },
    pre_tokenizer: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    post_processor: {
      type: 'TemplateProcessing',
      single: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      pair: [{ Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }, { Sequence: { id: 'B', type_id: 0 } }, { SpecialToken: { id: '</s>', type_id: 0 } }],
      special_tokens: { '</s>': { id: '</s>', ids: [1], tokens: ['</s>'] } },
    },
    decoder: { type: 'Metaspace', replacement: '▁', prepend_scheme: 'always', split: true },
    model: { type: 'Unigram', unk_id: 2, vocab: [...vocab, ...extra.map((s) => [s, 0])], byte_fallback: false },
  };
}
