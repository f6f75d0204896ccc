// Wan's prompt cleaning, case by case, against the outputs ftfy's and Python's documentation give (the golden
// reference-tokens test compares many more prompts with the Python functions themselves).
import { describe, expect, it } from 'vitest';
import { cleanPrompt, pythonStrip } from '../../src/text/clean-prompt';
import { ftfyFixText } from '../../src/text/ftfy-fix-text';
import { pythonHtmlUnescape } from '../../src/text/python-html-unescape';

describe('ftfyFixText', () => {
  it.each([
    // ftfy's docstrings (fix_text, unescape_html, fix_line_breaks)
    ['Broken text&hellip; it&#x2019;s ﬂubberiﬁc!', "Broken text… it's flubberific!"],
    ['ＬＯＵＤ　ＮＯＩＳＥＳ', 'LOUD NOISES'],
    ['&lt;tag&gt;', '<tag>'],
    ['&Jscr;ohn &HilbertSpace;ancock', '𝒥ohn ℋancock'],
    ['P&EACUTE;REZ', 'PÉREZ'],
    ['BUNDESSTRA&SZLIG;E', 'BUNDESSTRASSE'],
    ['&ntilde; &Ntilde; &NTILDE; &nTILDE;', 'ñ Ñ Ñ &nTILDE;'],
    ['Content-type: text/plain\r\n\r\nHi.', 'Content-type: text/plain\n\nHi.'],
    ['This string is made of two things:\u20291. Unicode\u20282. Spite', 'This string is made of two things:\n1. Unicode\n2. Spite'],
  ])('fixes %j to %j', (input, expected) => {
    expect(ftfyFixText(input)).toBe(expected);
  });

  it("leaves entities alone on a line holding '<' and on every line after it", () => {
    expect(ftfyFixText('a &amp; b\n<p> &amp;\nc &amp; d')).toBe('a & b\n<p> &amp;\nc &amp; d');
  });

  it('removes terminal escapes and control characters, keeps tab and newline, composes to NFC', () => {
    expect(ftfyFixText('\x1b[31mred\x1b[0m\x00\x07\ufeff\tx\ne\u0301')).toBe('red\tx\né');
  });
});

describe('pythonHtmlUnescape', () => {
  it.each([
    ['&amp;amp;', '&amp;'],
    ['&ampxyz', '&xyz'],
    ['&notit;', '¬it;'],
    ['&#128512;', '😀'],
    ['&#x110000;', '\ufffd'],
    ['&#0;', '\ufffd'],
    ['&#150;', '\u2013'],
    ['&#1;', ''],
    ['&nosuch;', '&nosuch;'],
  ])('unescapes %j to %j', (input, expected) => {
    expect(pythonHtmlUnescape(input)).toBe(expected);
  });
});

describe('cleanPrompt', () => {
  it('collapses whitespace as the regex module does and strips as str.strip does', () => {
    expect(cleanPrompt('  a\u00a0\u2003 b\u3000c \t\n ')).toBe('a b c');
    // U+FEFF is whitespace to JavaScript, not to Python (and ftfy removes it); U+001C-U+001F are isspace() but not \s.
    expect(pythonStrip('\x1c x \x1f')).toBe('x');
    expect(cleanPrompt('x\u200by')).toBe('x\u200by');
  });

  it('unescapes twice after ftfy (double-escaped entities and entities on lines with tags)', () => {
    expect(cleanPrompt('Tom &amp;amp; Jerry')).toBe('Tom & Jerry');
    expect(cleanPrompt('<b>bold</b> &amp;amp;')).toBe('<b>bold</b> &');
  });
});
