/**
 * Wan's prompt cleaning before the tokenizer (`HuggingfaceTokenizer(clean='whitespace')` in `wan/modules/tokenizers.py`,
 * wan21-architecture.md 6.2):
 * ```
 * basic_clean(text)      = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
 * whitespace_clean(text) = regex.sub(r'\s+', ' ', text).strip()
 * clean(text)            = whitespace_clean(basic_clean(text))
 * ```
 * ftfy as far as ftfyFixText reproduces it (ftfy-fix-text.ts). Python's `str.strip()` and the `regex` module's `\s`
 * are not JavaScript's `\s`: both sets are spelled out below (the `regex` set has no U+001C-U+001F, `str.isspace` has
 * them; neither has U+FEFF, which JavaScript's has).
 */
import { ftfyFixText } from './ftfy-fix-text';
import { pythonHtmlUnescape } from './python-html-unescape';

/** The `regex` module's `\s` (Unicode White_Space). */
const REGEX_WHITESPACE_RUN = /[\t\n\v\f\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/g;
/** Python's `str.isspace()` characters, which `str.strip()` removes. */
const PY_SPACE = '\\t\\n\\v\\f\\r\\x1c-\\x1f \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, 'g');

/** Python's `text.strip()`. */
export function pythonStrip(text: string): string {
  return text.replace(PY_STRIP, '');
}

/** Wan's `whitespace_clean(basic_clean(text))`: what the reference tokenizes. */
export function cleanPrompt(text: string): string {
  const basic = pythonStrip(pythonHtmlUnescape(pythonHtmlUnescape(ftfyFixText(text))));
  return pythonStrip(basic.replace(REGEX_WHITESPACE_RUN, ' '));
}
