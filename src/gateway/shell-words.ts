/**
 * A deliberately small reading of POSIX shell, for the command lines Gantry checks without running:
 * package.json scripts and Makefile recipe lines. It splits a line into simple commands on `&&`, `||`,
 * `;`, `|`, `&` and newlines, with quoting and escapes as `sh` reads them. Anything whose meaning
 * depends on the shell's state (variables, substitutions, subshells, here-documents, control
 * structures) is refused rather than guessed at, since guessing wrong would let a command through.
 */

/** One simple command: its leading environment assignments and its words. */
export interface SimpleCommand {
  env: Record<string, string>;
  argv: string[];
}

export type ShellReading = { ok: true; commands: SimpleCommand[] } | { ok: false; reason: string };

const controlWords = new Set([
  'if',
  'then',
  'else',
  'elif',
  'fi',
  'for',
  'while',
  'until',
  'do',
  'done',
  'case',
  'esac',
  'function',
  'select',
  '{',
  '}',
  '!',
]);

const assignment = /^([A-Za-z_][A-Za-z0-9_]*)=([\s\S]*)$/;

/**
 * Splits a shell command line into simple commands, or says why it cannot be read with confidence.
 *
 * @example
 * splitShellCommands('tsc -p . && NODE_ENV=test vitest run 2>&1 | tee out.txt');
 * // { ok: true, commands: [{ env: {}, argv: ['tsc', '-p', '.'] },
 * //   { env: { NODE_ENV: 'test' }, argv: ['vitest', 'run'] }, { env: {}, argv: ['tee', 'out.txt'] }] }
 * splitShellCommands('curl "$URL"'); // { ok: false, reason: '… expands a variable …' }
 */
export function splitShellCommands(line: string): ShellReading {
  const commands: string[][] = [];
  let words: string[] = [];
  let word = '';
  let inWord = false;
  let dropNextWord = false;
  const endWord = () => {
    if (inWord) {
      if (dropNextWord) dropNextWord = false;
      else words.push(word);
    }
    word = '';
    inWord = false;
  };
  const endCommand = (): string | undefined => {
    endWord();
    if (dropNextWord) return 'a redirection has no target';
    if (words.length) commands.push(words);
    words = [];
    return undefined;
  };
  const refuse = (why: string): ShellReading => ({ ok: false, reason: `${why}: ${line.trim()}` });

  for (let i = 0; i < line.length; i++) {
    const c = line[i] as string;
    const next = line[i + 1];
    if (c === ' ' || c === '\t') {
      endWord();
    } else if (c === '\n' || c === ';' || c === '|' || c === '&') {
      if (c === ';' && next === ';') return refuse('it holds a case statement');
      if (c === '&' && (line[i - 1] === '>' || line[i - 1] === '<')) continue;
      if ((c === '|' || c === '&') && next === c) i++;
      const problem = endCommand();
      if (problem) return refuse(problem);
    } else if (c === '\\') {
      if (next === '\n') i++;
      else if (next !== undefined) {
        word += next;
        inWord = true;
        i++;
      }
    } else if (c === "'") {
      const close = line.indexOf("'", i + 1);
      if (close < 0) return refuse('a single quote is not closed');
      word += line.slice(i + 1, close);
      inWord = true;
      i = close;
    } else if (c === '"') {
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j++) {
        const d = line[j] as string;
        if (d === '$' || d === '`') return refuse('it expands a variable or a command substitution');
        if (d === '\\' && j + 1 < line.length && '"\\$`\n'.includes(line[j + 1] as string)) {
          if (line[j + 1] !== '\n') word += line[j + 1];
          j++;
        } else word += d;
      }
      if (j >= line.length) return refuse('a double quote is not closed');
      inWord = true;
      i = j;
    } else if (c === '$' || c === '`') {
      return refuse('it expands a variable or a command substitution');
    } else if (c === '(' || c === ')') {
      return refuse('it opens a subshell or defines a function');
    } else if (c === '<' || c === '>') {
      if (c === '<' && next === '<') return refuse('it holds a here-document');
      // A file descriptor number directly before the operator (`2>`) belongs to the redirection.
      if (inWord && /^\d+$/.test(word) && !dropNextWord) {
        word = '';
        inWord = false;
      } else endWord();
      if (next === '>' || next === '|' || next === '&' || (c === '<' && next === '>')) i++;
      dropNextWord = true;
    } else if (c === '#' && !inWord) {
      const newline = line.indexOf('\n', i);
      if (newline < 0) break;
      i = newline - 1;
    } else {
      word += c;
      inWord = true;
    }
  }
  const problem = endCommand();
  if (problem) return refuse(problem);

  const simple: SimpleCommand[] = [];
  for (const argv of commands) {
    const env: Record<string, string> = {};
    let start = 0;
    for (; start < argv.length; start++) {
      const match = assignment.exec(argv[start] as string);
      if (!match) break;
      env[match[1] as string] = match[2] as string;
    }
    const rest = argv.slice(start);
    if (rest[0] !== undefined && controlWords.has(rest[0]))
      return refuse(`it uses the shell's ${rest[0]} syntax`);
    simple.push({ env, argv: rest });
  }
  return { ok: true, commands: simple };
}
