/**
 * Python's `html.unescape` (CPython 3.11 `Lib/html/__init__.py`), which Wan's prompt cleaning applies twice after
 * ftfy (`basic_clean` in `wan/modules/tokenizers.py`): every `&name;`, legacy `&name` (no semicolon, the longest name of
 * the HTML5 table that prefixes it), `&#123;` and `&#x7b;` (semicolon optional), with the HTML5 rules for invalid
 * numeric references (0x80-0x9F read as windows-1252, surrogates and values above U+10FFFF -> U+FFFD, controls and
 * non-characters dropped). The table is Python's `html.entities.html5` (html5-entities.json, written by
 * apps/cli/oracle/make_html5_entities.py).
 */
import HTML5 from './html5-entities.json';

/** `html.entities.html5`: name (with its ';', or without one for the legacy names) -> replacement text. */
export const HTML5_ENTITIES: ReadonlyMap<string, string> = new Map(Object.entries(HTML5 as Record<string, string>));

/** HTML5's numeric references that do not mean their code point (`_invalid_charrefs`). */
const INVALID_CHARREFS: ReadonlyMap<number, string> = new Map([
  [0x00, '\ufffd'], [0x0d, '\r'], [0x80, '\u20ac'], [0x81, '\x81'], [0x82, '\u201a'], [0x83, '\u0192'], [0x84, '\u201e'],
  [0x85, '\u2026'], [0x86, '\u2020'], [0x87, '\u2021'], [0x88, '\u02c6'], [0x89, '\u2030'], [0x8a, '\u0160'], [0x8b, '\u2039'],
  [0x8c, '\u0152'], [0x8d, '\x8d'], [0x8e, '\u017d'], [0x8f, '\x8f'], [0x90, '\x90'], [0x91, '\u2018'], [0x92, '\u2019'],
  [0x93, '\u201c'], [0x94, '\u201d'], [0x95, '\u2022'], [0x96, '\u2013'], [0x97, '\u2014'], [0x98, '\u02dc'], [0x99, '\u2122'],
  [0x9a, '\u0161'], [0x9b, '\u203a'], [0x9c, '\u0153'], [0x9d, '\x9d'], [0x9e, '\u017e'], [0x9f, '\u0178'],
]);

/** Code points a numeric reference drops (`_invalid_codepoints`): C0/C1 controls but tab, LF, FF, CR; non-characters. */
function isInvalidCodepoint(n: number): boolean {
  if ((n >= 0x1 && n <= 0x8) || n === 0xb || (n >= 0xe && n <= 0x1f) || (n >= 0x7f && n <= 0x9f)) return true;
  if (n >= 0xfdd0 && n <= 0xfdef) return true;
  return (n & 0xfffe) === 0xfffe && n <= 0x10ffff;
}

// `_charref`: Python's `re` over code points, hence the `u` flag.
const CHARREF = /&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[^\t\n\f <&#;]{1,32};?)/gu;

function replaceCharref(ref: string): string {
  if (ref.startsWith('#')) {
    const hex = ref[1] === 'x' || ref[1] === 'X';
    const digits = (hex ? ref.slice(2) : ref.slice(1)).replace(/;$/, '');
    // Python's int() is exact for any length; past 0x10FFFF only "too large" matters, which a double keeps.
    const num = Number.parseInt(digits, hex ? 16 : 10);
    const invalid = INVALID_CHARREFS.get(num);
    if (invalid !== undefined) return invalid;
    if ((num >= 0xd800 && num <= 0xdfff) || num > 0x10ffff) return '\ufffd';
    if (isInvalidCodepoint(num)) return '';
    return String.fromCodePoint(num);
  }
  const whole = HTML5_ENTITIES.get(ref);
  if (whole !== undefined) return whole;
  // The longest name that prefixes it (only the legacy names can match without their ';'); at least two characters.
  const chars = Array.from(ref);
  for (let x = chars.length - 1; x > 1; x--) {
    const name = chars.slice(0, x).join('');
    const value = HTML5_ENTITIES.get(name);
    if (value !== undefined) return value + chars.slice(x).join('');
  }
  return `&${ref}`;
}

/** `html.unescape(text)`. */
export function pythonHtmlUnescape(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(CHARREF, (_match, ref: string) => replaceCharref(ref));
}
