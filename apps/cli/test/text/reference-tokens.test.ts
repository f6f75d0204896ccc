// The CLI's prompt cleaning and tokenizer against the Python reference: Wan's cleaning (ftfy, html.unescape, regex) and
// Hugging Face tokenizers (Rust) over the synthetic tokenizer.json and two variants of it, recorded by
// apps/cli/oracle/tokenize_reference.py in test/fixtures/tokenizer/reference-token-ids.json.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cleanPrompt } from '../../src/text/clean-prompt';
import { Umt5Tokenizer } from '../../src/text/umt5-tokenizer';

const dir = fileURLToPath(new URL('../fixtures/tokenizer/', import.meta.url));
const fixturePath = `${dir}reference-token-ids.json`;
const tokenizerPath = `${dir}synthetic-tokenizer.json`;
const present = existsSync(fixturePath);
if (!present) {
  console.warn(
    `reference-tokens.test.ts: ${fixturePath} is absent: the tokenizer's golden test is skipped. Make it with \`python3 apps/cli/oracle/tokenize_reference.py\` (needs tokenizers, ftfy, regex) and commit it.`,
  );
}

interface Variant {
  ids: number[];
  pieces: string[];
  ids_16: number[];
  ids_512: number[];
}
interface Case {
  prompt: string;
  cleaned: string;
  cleaned_without_fix_encoding: string;
  variants: Record<string, Variant>;
}
const fixture = present ? (JSON.parse(readFileSync(fixturePath, 'utf8')) as { tokenizer_sha256: string; cases: Case[] }) : { tokenizer_sha256: '', cases: [] };
const tokenizerText = readFileSync(tokenizerPath, 'utf8');

/** The variants the oracle makes of the synthetic tokenizer.json (the same edits as its `variants`). */
function variant(name: string): Umt5Tokenizer {
  const json = JSON.parse(tokenizerText);
  if (name === 'byte-fallback') json.model.byte_fallback = true;
  else if (name === 'sequence') {
    json.normalizer = {
      type: 'Sequence',
      normalizers: [json.normalizer, { type: 'Strip', strip_left: false, strip_right: true }, { type: 'Replace', pattern: { Regex: ' {2,}' }, content: '\u2581' }],
    };
  } else if (name !== 'base') throw new Error(`unknown variant ${name}`);
  return Umt5Tokenizer.fromJson({ json, source: `synthetic (${name})` });
}

describe.skipIf(!present)('the tokenizer against the Python reference (reference-token-ids.json)', () => {
  it('was recorded over the committed synthetic-tokenizer.json', () => {
    expect(createHash('sha256').update(readFileSync(tokenizerPath)).digest('hex')).toBe(fixture.tokenizer_sha256);
    expect(fixture.cases.length).toBeGreaterThan(20);
  });

  it.each(fixture.cases.map((c) => [JSON.stringify(c.prompt).slice(0, 60), c] as const))('cleans %s as Wan does (ftfy without its mojibake repair)', (_name, c) => {
    expect(cleanPrompt(c.prompt)).toBe(c.cleaned_without_fix_encoding);
    if (c.cleaned === c.cleaned_without_fix_encoding) expect(cleanPrompt(c.prompt)).toBe(c.cleaned);
  });

  for (const name of ['base', 'byte-fallback', 'sequence']) {
    const tokenizer = variant(name);
    it.each(fixture.cases.map((c) => [JSON.stringify(c.cleaned).slice(0, 60), c] as const))(`${name}: tokenizes %s to the reference ids, truncated and padded to 16 and 512`, (_name, c) => {
      const ref = c.variants[name] as Variant;
      expect(tokenizer.encode(c.cleaned)).toEqual(ref.ids);
      for (const [maxLength, ids] of [[16, ref.ids_16], [512, ref.ids_512]] as const) {
        const t = tokenizer.tokenize({ text: c.cleaned, maxLength });
        expect(t.length).toBe(ids.length);
        expect([...t.ids.subarray(0, t.length)]).toEqual(ids);
        expect(t.ids.subarray(t.length).every((id) => id === 0)).toBe(true);
        expect([...t.attentionMask]).toEqual([...Array(t.length).fill(1), ...Array(maxLength - t.length).fill(0)]);
        expect(t.truncated).toBe(Math.max(0, ref.ids.length - maxLength));
      }
    });
  }
});
