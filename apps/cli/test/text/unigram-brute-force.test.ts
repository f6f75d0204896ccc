// The Unigram segmentation (@huggingface/tokenizers' lattice and Viterbi, as the CLI runs it) against brute force: every
// segmentation of short strings into the synthetic vocabulary's pieces, SentencePiece's unknown rule (a character with
// no one-character piece may be one <unk> of score min - 10), the best total log-probability, unknown runs fused.
import { describe, expect, it } from 'vitest';
import { createRng } from '../../src/_random';
import { syntheticTokenizerJson } from '../../src/text/synthetic-tokenizer';
import { Umt5Tokenizer } from '../../src/text/umt5-tokenizer';

const json = syntheticTokenizerJson();
const vocab = new Map((json.model as { vocab: [string, number][] }).vocab.map(([p, s]) => [p, s] as const));
const minScore = Math.min(...vocab.values());
const UNK_SCORE = minScore - 10;
const tokenizer = Umt5Tokenizer.fromJson({ json, source: 'synthetic' });

interface Best {
  score: number;
  /** Every segmentation reaching the best score (pieces; null marks an unknown character). */
  segmentations: (string | null)[][];
}

/** All segmentations of `chars` (code points), the best score and the segmentations that reach it. */
function bruteForce(chars: string[]): Best {
  let best: Best = { score: -Infinity, segmentations: [] };
  const walk = (at: number, score: number, pieces: (string | null)[]) => {
    if (at === chars.length) {
      if (score > best.score) best = { score, segmentations: [pieces] };
      else if (score === best.score) best.segmentations.push(pieces);
      return;
    }
    for (let end = at + 1; end <= chars.length; end++) {
      const piece = chars.slice(at, end).join('');
      const s = vocab.get(piece);
      if (s !== undefined) walk(end, score + s, [...pieces, piece]);
    }
    if (!vocab.has(chars[at] as string)) walk(at + 1, score + UNK_SCORE, [...pieces, null]);
  };
  walk(0, 0, []);
  return best;
}

/** A segmentation as the tokenizer reports it: unknown characters as their text, consecutive ones fused. */
function fused(chars: string[], pieces: (string | null)[]): string[] {
  const out: string[] = [];
  let at = 0;
  let unknownRun = false;
  for (const p of pieces) {
    if (p === null) {
      const c = chars[at] as string;
      if (unknownRun) out[out.length - 1] += c;
      else out.push(c);
      unknownRun = true;
      at += 1;
    } else {
      out.push(p);
      unknownRun = false;
      at += Array.from(p).length;
    }
  }
  return out;
}

const scoreOf = (pieces: string[]) => pieces.reduce((sum, p) => sum + (vocab.get(p) ?? UNK_SCORE * Array.from(p).length), 0);

// Characters the charsmap leaves alone, mostly in the vocabulary, some not (an unknown Chinese character, an emoji).
const ALPHABET = ['t', 'h', 'e', 'i', 'n', 'g', 'q', 'u', 'c', 'k', 'o', 'w', 'r', 'a', 'f', 'x', 'é', 'ü', '色', '调', '质', '量', '低', '龙', '😀'];

describe('Unigram segmentation against brute force', () => {
  const rng = createRng(7);
  const words: string[] = ['the', 'thing', 'quick', '色调质量', '低质量', 'fox', 'café', '龙龙', '😀x😀', 'ingeing'];
  for (let i = 0; i < 300; i++) {
    const n = 1 + Math.floor(rng.uniform() * 9);
    words.push(Array.from({ length: n }, () => ALPHABET[Math.floor(rng.uniform() * ALPHABET.length)]).join(''));
  }

  it.each(words.map((w) => [w]))('segments ▁%s with the best score, as the only best segmentation when it is unique', (word) => {
    const chars = Array.from(`▁${word}`);
    const best = bruteForce(chars);
    const got = tokenizer.pieces(word);
    expect(got.join('')).toBe(chars.join(''));
    expect(scoreOf(got)).toBeCloseTo(best.score, 9);
    const candidates = best.segmentations.map((s) => fused(chars, s));
    if (candidates.length === 1) expect(got).toEqual(candidates[0]);
    else expect(candidates).toContainEqual(got);
  });
});
