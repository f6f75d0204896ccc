/**
 * The parts of `ftfy.fix_text` (ftfy 6.3, default config) that Wan's prompt cleaning relies on, in ftfy's order, each
 * pass repeated until the text stops changing, per line (ftfy fixes each '\n'-terminated segment on its own):
 *
 * reproduced exactly
 * - `unescape_html` ("auto"): `&name;` of the HTML5 table, upper-cased Latin names (`&EACUTE;` -> `É`) and numeric
 *   `&#...;` references; switched off for that line and every later one once a line contains '<' (ftfy's own rule);
 * - `fix_c1_controls`: U+0080-U+009F read as windows-1252 ("sloppy": the five unassigned bytes stay as they are);
 * - `fix_latin_ligatures` (ﬁ -> fi, Ǆ -> DŽ, ...), `fix_character_width` (full- and half-width forms -> NFKC, U+3000
 *   -> space), `uncurl_quotes` (‘ ’ ‚ ‛ ʼ -> ', “ ” „ ‟ -> "), `fix_line_breaks` (CRLF, CR, U+2028, U+2029, U+0085 ->
 *   LF), `fix_surrogates` (a lone surrogate -> U+FFFD), `remove_terminal_escapes` (ANSI `ESC [ ... letter`),
 *   `remove_control_chars` (C0 controls but tab/LF/FF/CR, DEL, U+206A-U+206F, U+FEFF, U+FFF9-U+FFFC), then NFC.
 *
 * not reproduced
 * - `fix_encoding` (mojibake repair: text that was UTF-8 read as windows-1252/latin-1/macroman..., decided by ftfy's
 *   `badness` heuristic, with `restore_byte_a0`, `replace_lossy_sequences` and `decode_inconsistent_utf8`): such text is
 *   left as it is. A prompt typed or pasted as Unicode has no mojibake; one that has it tokenizes differently from the
 *   reference (apps/cli/oracle/tokenize_reference.py records ftfy's output for the fixture prompts).
 *
 * The NFC and NFKC tables are Node's ICU ones, ftfy's are Python's `unicodedata`: characters assigned after the older of
 * the two Unicode versions may differ.
 */
import { HTML5_ENTITIES, pythonHtmlUnescape } from './python-html-unescape';

// ----- unescape_html -----

/** ftfy's entity table: the HTML5 names that end in ';', plus upper-cased lower-case names html.unescape leaves alone. */
const FTFY_ENTITIES: ReadonlyMap<string, string> = (() => {
  const table = new Map<string, string>();
  for (const [name, value] of HTML5_ENTITIES) {
    if (!name.endsWith(';')) continue;
    table.set(`&${name}`, value);
    if (name === name.toLowerCase()) {
      const upper = `&${name.toUpperCase()}`;
      if (pythonHtmlUnescape(upper) === upper) table.set(upper, value.toUpperCase());
    }
  }
  return table;
})();

const HTML_ENTITY = /&#?[0-9A-Za-z]{1,24};/g;

function unescapeHtml(text: string): string {
  return text.replace(HTML_ENTITY, (entity) => {
    const known = FTFY_ENTITIES.get(entity);
    if (known !== undefined) return known;
    if (entity.startsWith('&#')) {
      const unescaped = pythonHtmlUnescape(entity);
      // html.unescape decoded only part of it: keep the entity (ftfy wants the semicolon consumed).
      return unescaped.includes(';') ? entity : unescaped;
    }
    return entity;
  });
}

// ----- fix_c1_controls -----

/** windows-1252's 0x80-0x9F; 0x81, 0x8D, 0x8F, 0x90 and 0x9D are unassigned and stay (ftfy's "sloppy" codec). */
const WINDOWS_1252_C1 = '\u20ac\x81\u201a\u0192\u201e\u2026\u2020\u2021\u02c6\u2030\u0160\u2039\u0152\x8d\u017d\x8f\x90\u2018\u2019\u201c\u201d\u2022\u2013\u2014\u02dc\u2122\u0161\u203a\u0153\x9d\u017e\u0178';

function fixC1Controls(text: string): string {
  return text.replace(/[\x80-\x9f]/g, (c) => WINDOWS_1252_C1[c.charCodeAt(0) - 0x80] as string);
}

// ----- fix_latin_ligatures, fix_character_width -----

const LIGATURES: Readonly<Record<string, string>> = {
  Ĳ: 'IJ', ĳ: 'ij', ŉ: 'ʼn', Ǳ: 'DZ', ǲ: 'Dz', ǳ: 'dz', Ǆ: 'DŽ', ǅ: 'Dž', ǆ: 'dž', Ǉ: 'LJ', ǈ: 'Lj', ǉ: 'lj', Ǌ: 'NJ', ǋ: 'Nj', ǌ: 'nj',
  ﬀ: 'ff', ﬁ: 'fi', ﬂ: 'fl', ﬃ: 'ffi', ﬄ: 'ffl', ﬅ: 'ſt', ﬆ: 'st',
};
const LIGATURE_RE = new RegExp(`[${Object.keys(LIGATURES).join('')}]`, 'g');

/** U+3000 -> space, and each of U+FF01-U+FFEF that NFKC changes -> its NFKC form. */
const WIDTH_MAP: ReadonlyMap<string, string> = (() => {
  const map = new Map<string, string>([['\u3000', ' ']]);
  for (let cp = 0xff01; cp < 0xfff0; cp++) {
    const c = String.fromCharCode(cp);
    const alternate = c.normalize('NFKC');
    if (alternate !== c) map.set(c, alternate);
  }
  return map;
})();

// ----- the rest -----

const ANSI_ESCAPE = /\x1b\[((?:\p{Nd}|;)*)([a-zA-Z])/gu; // Python's \d is any Unicode decimal digit
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\x00-\x08\x0b\x0e-\x1f\x7f\u206a-\u206f\ufeff\ufff9-\ufffc]/g;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function fixSegment(segment: string, unescape: boolean): string {
  let text = segment;
  for (;;) {
    const original = text;
    if (unescape) text = unescapeHtml(text);
    text = fixC1Controls(text);
    text = text.replace(LIGATURE_RE, (c) => LIGATURES[c] as string);
    text = text.replace(/[\u3000\uff01-\uffef]/g, (c) => WIDTH_MAP.get(c) ?? c);
    text = text.replace(/[\u02bc\u2018-\u201b]/g, "'").replace(/[\u201c-\u201f]/g, '"');
    text = text.replace(/\r\n/g, '\n').replace(/[\r\u2028\u2029\u0085]/g, '\n');
    text = text.replace(LONE_SURROGATE, '\ufffd');
    text = text.replace(ANSI_ESCAPE, '');
    text = text.replace(CONTROL_CHARS, '');
    text = text.normalize('NFC');
    if (text === original) return text;
  }
}

/** `ftfy.fix_text(text)` without `fix_encoding` (see the file's comment for what is and is not reproduced). */
export function ftfyFixText(text: string): string {
  let unescape = true;
  let out = '';
  let pos = 0;
  while (pos < text.length) {
    const newline = text.indexOf('\n', pos);
    const end = newline < 0 ? text.length : newline + 1;
    const segment = text.slice(pos, end);
    if (segment.includes('<')) unescape = false;
    out += fixSegment(segment, unescape);
    pos = end;
  }
  return out;
}
