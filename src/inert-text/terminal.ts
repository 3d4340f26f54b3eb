import stripAnsi from 'strip-ansi';

/**
 * Bidirectional overrides, embeddings and isolates, and the three invisible direction marks: each
 * can make a name read differently from what it is ("Trojan Source").
 */
const BIDI_CONTROLS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

/**
 * C0 controls except tab and newline, DEL, and C1 controls. strip-ansi removes whole escape
 * sequences first; what is left here is a stray ESC, a backspace, a bell, or an 8-bit
 * introducer that no sequence followed.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: removing control characters is the point.
const OTHER_CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** What JSON.stringify leaves raw although a terminal acts on it: DEL, C1, bidi and line separators. */
const RAW_IN_JSON = /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

/**
 * Makes untrusted text (titles, file names, test output, model summaries) safe to print on a
 * terminal: removes ANSI CSI and OSC sequences (colours, cursor moves, OSC 8 hyperlinks, OSC 52
 * clipboard writes), every other C0 and C1 control except newline and tab, and bidirectional
 * overrides. A carriage return becomes a newline, so text that would overwrite a line is shown
 * after it instead of hiding it.
 *
 * @example
 * plainText('ok\rFAIL \u001b]8;;http://evil.example\u0007docs\u001b]8;;\u0007'); // 'ok\nFAIL docs'
 */
export function plainText(text: string): string {
  return stripAnsi(text).replace(/\r\n?/g, '\n').replace(OTHER_CONTROLS, '').replace(BIDI_CONTROLS, '');
}

/**
 * {@link plainText} on one line: newlines, line separators and tabs become single spaces, so a
 * title or a file name cannot start a line of its own (a forged progress line, a mail header).
 *
 * @example
 * plainLine('Fix totals\n12:00:00.000  pull request #1 opened'); // 'Fix totals 12:00:00.000  pull request #1 opened'
 */
export function plainLine(text: string): string {
  return plainText(text).replace(/[ \t]*[\n\u2028\u2029]\s*|\t/g, ' ');
}

/**
 * Shows control and bidirectional characters as `\u{…}` escapes instead of removing them: for
 * names (file paths, owners) where a reader should see that the name holds them.
 *
 * @example
 * visibleControls('evil\u001b[2Jname\u202e.ts'); // 'evil\\u{1b}[2Jname\\u{202e}.ts'
 */
export function visibleControls(text: string): string {
  return text.replace(
    /[\p{Cc}\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/gu,
    (character) => `\\u{${(character.codePointAt(0) ?? 0).toString(16)}}`,
  );
}

/**
 * JSON for a terminal: what JSON.stringify leaves raw and a terminal would act on (C1 controls,
 * bidi overrides) is written as `\uXXXX`, which parses back to the same value.
 *
 * @example
 * jsonForTerminal({ title: 'a\u202eb' }); // '{\n  "title": "a\\u202eb"\n}'
 */
export function jsonForTerminal(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    RAW_IN_JSON,
    (character) => `\\u${character.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
