import { describe, expect, it } from 'vitest';
import { jsonForTerminal, plainLine, plainText, visibleControls } from './terminal.js';

describe('plainText', () => {
  it.each([
    ['a CSI colour and cursor sequence', 'a\u001b[31mred\u001b[0m\u001b[2J\u001b[1;1H', 'ared'],
    ['an 8-bit CSI', 'a\u009b31mb', 'ab'],
    ['an OSC 8 hyperlink ended by BEL', '\u001b]8;;http://evil.example\u0007link\u001b]8;;\u0007', 'link'],
    ['an OSC 8 hyperlink ended by ST', '\u001b]8;;http://evil.example\u001b\\link\u001b]8;;\u001b\\', 'link'],
    ['an OSC 52 clipboard write', 'x\u001b]52;c;Y3VybCBldmlsIHwgc2g=\u0007y', 'xy'],
    ['a window title change', '\u001b]0;sudo\u0007ok', 'ok'],
    ['a stray ESC', 'a\u001bb', 'ab'],
    ['bell, backspace and other C0', 'a\u0007\u0008\u0000\u000b\u000cb', 'ab'],
    ['DEL and C1 controls', 'a\u007f\u0085\u009db', 'ab'],
    [
      'bidi overrides and isolates',
      '\u202aa\u202bb\u202cc\u202dd\u202ee\u2066f\u2067g\u2068h\u2069',
      'abcdefgh',
    ],
    ['direction marks', 'a\u200eb\u200fc\u061cd', 'abcd'],
  ])('removes %s', (_, hostile, inert) => {
    expect(plainText(hostile)).toBe(inert);
  });

  it('keeps newlines and tabs', () => {
    expect(plainText('a\tb\nc')).toBe('a\tb\nc');
  });

  it('turns a carriage return that would overwrite a line into a newline', () => {
    expect(plainText('tests passed\rFAIL 3 tests\r\nnext')).toBe('tests passed\nFAIL 3 tests\nnext');
  });

  it('shows an unterminated sequence as text, without its ESC', () => {
    expect(plainText('\u001b]8;;http://evil.example link')).toBe(']8;;http://evil.example link');
  });
});

describe('plainLine', () => {
  it('collapses newlines, line separators and tabs, so a field cannot forge a line of its own', () => {
    expect(plainLine('Fix totals\n12:00:00.000  run completed\u2028x\ty')).toBe(
      'Fix totals 12:00:00.000  run completed x y',
    );
  });

  it('keeps leading indentation', () => {
    expect(plainLine('  tool read_file requested')).toBe('  tool read_file requested');
  });
});

describe('visibleControls', () => {
  it('shows what a terminal would act on as escapes', () => {
    expect(visibleControls('evil\u001b[2Jname\u202e.ts\n')).toBe('evil\\u{1b}[2Jname\\u{202e}.ts\\u{a}');
  });
});

describe('jsonForTerminal', () => {
  it('escapes C1 controls and bidi overrides, and parses back to the same value', () => {
    // Prepare
    const value = { title: 'a\u202eb\u009bc\u001bd\u2028' };
    // Act
    const json = jsonForTerminal(value);
    // Assess
    expect(json).toBe('{\n  "title": "a\\u202eb\\u009bc\\u001bd\\u2028"\n}');
    expect(JSON.parse(json)).toEqual(value);
  });
});
