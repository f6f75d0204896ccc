// The built-in model's tokenizer.json: its committed copy (read by apps/cli/oracle/tokenize_reference.py), its size,
// and its charsmap read back against the table it was built from.
import { UMT5_CONFIG_PRESETS } from '@fpsattn/wan';
import { describe, expect, it } from 'vitest';
import { PrecompiledCharsmap } from '../../src/text/precompiled-charsmap';
import { syntheticCharsmapTable, syntheticTokenizerJson, SYNTHETIC_TOKENIZER_VOCAB_SIZE } from '../../src/text/synthetic-tokenizer';
import { Umt5Tokenizer } from '../../src/text/umt5-tokenizer';

const json = syntheticTokenizerJson();
const charsmap = PrecompiledCharsmap.fromBase64((json.normalizer as { precompiled_charsmap: string }).precompiled_charsmap);
const table = syntheticCharsmapTable();
const encoder = new TextEncoder();

/** The shortest key of the table that is a byte prefix of `text`: what a trie's first common-prefix match must be. */
function shortestPrefixKey(text: string): string | null {
  const bytes = encoder.encode(text);
  let best: string | null = null;
  let bestLength = Infinity;
  for (const key of table.keys()) {
    const k = encoder.encode(key);
    if (k.length <= bytes.length && k.length < bestLength && k.every((b, i) => b === bytes[i])) {
      best = key;
      bestLength = k.length;
    }
  }
  return best;
}

describe('syntheticTokenizerJson', () => {
  it('is the committed test/fixtures/tokenizer/synthetic-tokenizer.json (the Python reference reads that file; update with vitest -u, then rerun the oracle)', async () => {
    await expect(`${JSON.stringify(json, null, 1)}\n`).toMatchFileSnapshot('../fixtures/tokenizer/synthetic-tokenizer.json');
  });

  it("has umt5-tiny's vocabulary size, with <pad> 0, </s> 1, <unk> 2 and the byte pieces 3-258", () => {
    const tokenizer = Umt5Tokenizer.fromJson({ json, source: 'synthetic' });
    expect(SYNTHETIC_TOKENIZER_VOCAB_SIZE).toBe(UMT5_CONFIG_PRESETS['umt5-tiny'].vocabSize);
    expect(tokenizer.vocabSize).toBe(SYNTHETIC_TOKENIZER_VOCAB_SIZE);
    const vocab = (json.model as { vocab: [string, number][] }).vocab;
    expect(vocab.slice(0, 3).map(([p]) => p)).toEqual(['<pad>', '</s>', '<unk>']);
    expect(vocab[3]?.[0]).toBe('<0x00>');
    expect(vocab[258]?.[0]).toBe('<0xFF>');
    expect(new Set(vocab.map(([p]) => p)).size).toBe(vocab.length);
  });

  it('charsmap: every key of the table reads back as its replacement', () => {
    expect(table.size).toBeGreaterThan(1000);
    for (const [key, value] of table) expect(charsmap.transform(key), JSON.stringify(key)).toBe(value);
  });

  it('charsmap: any string matches the shortest key that prefixes it, or nothing (brute force over the table)', () => {
    const keys = [...table.keys()];
    const samples = ['a', 'é', 'e\u0301x', 'e', '\u0301', 'ﬁ\u0301', '漢字', '😀', '\u2003', 'Ａb', 'x'.repeat(9), ...keys.map((k) => `${k}z`), ...keys.filter((_, i) => i % 7 === 0).map((k) => `${k}${k}`)];
    for (const s of samples) {
      const key = shortestPrefixKey(s);
      expect(charsmap.transform(s), JSON.stringify(s)).toBe(key === null ? null : (table.get(key) as string));
    }
  });
});
