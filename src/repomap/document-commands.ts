import type { Candidate, Findings, Repository } from './command-candidates.js';
import { type ScriptLine, scriptCandidates } from './command-line.js';
import { readRepositoryText } from './repository-files.js';

/** Fenced blocks read as commands, and those of them where only `$ ` lines are commands (the rest is output). */
const SHELL_FENCES = new Set([
  'sh',
  'bash',
  'shell',
  'zsh',
  'console',
  'shell-session',
  'sh-session',
  'bash-session',
  'terminal',
]);
const SESSION_FENCES = new Set(['console', 'shell-session', 'sh-session', 'bash-session', 'terminal']);

const CONFIDENCE: Readonly<Record<'readme' | 'contributing' | 'agents', number>> = {
  readme: 0.55,
  contributing: 0.65,
  agents: 0.65,
};

/** The documents projects say how they build and test in, and which source each one is. */
export function documentSource(file: string): 'readme' | 'contributing' | 'agents' | undefined {
  const lower = file.toLowerCase();
  if (/^(agents|claude)\.md$/.test(lower) || lower === '.github/copilot-instructions.md') return 'agents';
  if (/^readme(\.[^/]*)?$/.test(lower)) return 'readme';
  if (/^(\.github\/)?(contributing|development|hacking)(\.[^/]*)?$/.test(lower)) return 'contributing';
  if (/^docs\/(contributing|development|developing|hacking|testing)[^/]*\.md$/.test(lower))
    return 'contributing';
  return undefined;
}

/**
 * Commands written in the repository's documents: README*, CONTRIBUTING* (also under .github/),
 * DEVELOPMENT*, docs/development*.md, AGENTS.md and CLAUDE.md. Read from fenced sh, bash, shell and
 * console blocks (`$ ` prompts stripped; in console blocks only prompted lines count), following `cd`
 * within a block; comments and output are skipped. In CONTRIBUTING and agent files, inline code that
 * is a whole build or test command (`` `pnpm test` ``) counts too, with a lower confidence. The text is
 * data: it can only name commands, which are classified like any other, never run here.
 */
export async function documentFindings(repository: Repository): Promise<Findings> {
  const findings: Findings = { candidates: [], skipped: [] };
  for (const file of repository.files) {
    const source = documentSource(file);
    if (!source || !/\.(md|markdown|mdx|txt|rst)$|^[^.]+$/i.test(file.split('/').at(-1) ?? '')) continue;
    const text = await readRepositoryText(repository.root, file, 512 * 1024);
    if (text) findings.candidates.push(...commandsInDocument(repository, file, source, text));
  }
  return findings;
}

function commandsInDocument(
  repository: Repository,
  file: string,
  source: 'readme' | 'contributing' | 'agents',
  text: string,
): Candidate[] {
  const found: Candidate[] = [];
  const lines = text.split(/\r?\n/);
  const add = (block: ScriptLine[], confidence: number, kindOfText: string) => {
    found.push(
      ...scriptCandidates(repository, block, {
        declaredIn: file,
        source,
        confidence,
        via: (line) => `${file} line ${line}${kindOfText}`,
      }),
    );
  };
  for (let index = 0; index < lines.length; index += 1) {
    const fence = /^\s*(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[index] as string);
    if (!fence) {
      if (source !== 'readme')
        add(inlineCommands(lines[index] as string, index + 1), CONFIDENCE[source] - 0.15, ' (inline)');
      continue;
    }
    const marker = fence[1] as string;
    const language = (fence[2] ?? '').toLowerCase();
    const block: ScriptLine[] = [];
    let end = index + 1;
    for (; end < lines.length; end += 1) {
      const line = lines[end] as string;
      if (line.trim().startsWith(marker[0]?.repeat(marker.length) ?? marker)) break;
      block.push({ line: end + 1, text: line });
    }
    if (SHELL_FENCES.has(language))
      add(promptedLines(block, SESSION_FENCES.has(language)), CONFIDENCE[source], '');
    index = end;
  }
  return found;
}

/** A block's command lines: `$ ` and `% ` prompts stripped; in a session block, unprompted lines are output. */
function promptedLines(block: readonly ScriptLine[], session: boolean): ScriptLine[] {
  const commands: ScriptLine[] = [];
  let continuing = false;
  for (const { line, text } of block) {
    const prompted = /^\s*[$%]\s+(.*)$/.exec(text);
    if (prompted) commands.push({ line, text: prompted[1] as string });
    else if (!session || continuing) commands.push({ line, text });
    continuing = /\\\s*$/.test(text);
  }
  return commands;
}

function inlineCommands(text: string, line: number): ScriptLine[] {
  return [...text.matchAll(/`([^`\n]+)`/g)].map((match) => ({
    line,
    text: (match[1] as string).replace(/^\$\s+/, ''),
  }));
}
