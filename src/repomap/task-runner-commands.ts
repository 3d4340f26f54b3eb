import type { CommandKind } from '../domain/context.js';
import {
  type Candidate,
  candidate,
  type Findings,
  firstLevelDirectories,
  inScope,
  lineOf,
  type Repository,
  where,
} from './command-candidates.js';
import { makeTargetKind, scriptCandidates } from './command-line.js';
import { readRepositoryText } from './repository-files.js';

/** Make targets by kind, in the order one is preferred. */
const MAKE_TARGETS: ReadonlyArray<[CommandKind, readonly string[]]> = [
  ['build', ['build']],
  ['test', ['test', 'check', 'tests']],
  ['lint', ['lint']],
  ['typecheck', ['typecheck', 'type-check']],
  ['format', ['fmt', 'format', 'fmt-check', 'format-check']],
];

/**
 * Commands of task runners. Make (GNUmakefile, makefile or Makefile, in make's own order, at the root
 * and in first-level directories): `make test` (or `check`), `make lint`, `make fmt`, `make build`
 * for the targets defined. A justfile's recipes of those names are read for the commands they run
 * (`just` itself is no toolchain of the sandbox): each recipe line that is a build or test command.
 */
export async function taskRunnerFindings(repository: Repository): Promise<Findings> {
  const findings: Findings = { candidates: [], skipped: [] };
  for (const scope of ['', ...firstLevelDirectories(repository)]) {
    findings.candidates.push(...(await makeCandidates(repository, scope)));
  }
  const justfile = ['justfile', 'Justfile', '.justfile'].find((name) => repository.has.has(name));
  if (justfile) findings.candidates.push(...(await justCandidates(repository, justfile)));
  return findings;
}

async function makeCandidates(repository: Repository, scope: string): Promise<Candidate[]> {
  const makefile = ['GNUmakefile', 'makefile', 'Makefile']
    .map((name) => inScope(scope, name))
    .find((file) => repository.has.has(file));
  if (!makefile) return [];
  const text = await readRepositoryText(repository.root, makefile);
  if (!text) return [];
  const targets = makeTargets(text);
  const found: Candidate[] = [];
  for (const [kind, names] of MAKE_TARGETS) {
    const target = names.find((name) => targets.has(name));
    if (!target) continue;
    const line = lineOf(text, new RegExp(`^${target.replace(/[-]/g, '\\-')}\\s*::?(?![=])`, 'm'));
    found.push(
      candidate(
        {
          ecosystem: 'make',
          kind,
          argv: ['make', target],
          cwd: scope,
          ...(scope ? { rootArgv: ['make', '-C', scope, target] } : {}),
          declaredIn: makefile,
          ...(line ? { line } : {}),
          source: 'makefile',
          confidence: 0.85,
        },
        `${where(makefile, line)} target ${target}`,
      ),
    );
  }
  return found;
}

/**
 * Explicit rule targets: `name:` or `name::` at the start of a line, not `name := value`.
 *
 * @example
 * makeTargets('test: build\n\tnode --test\nCC := gcc\n'); // Set { 'test' }
 */
export function makeTargets(makefile: string): Set<string> {
  const targets = new Set<string>();
  for (const line of makefile.split(/\r?\n/)) {
    const match = /^([^\t#:=][^#:=]*?)\s*::?(?![:=])/.exec(line);
    if (!match?.[1]) continue;
    for (const target of match[1].trim().split(/\s+/)) targets.add(target);
  }
  return targets;
}

async function justCandidates(repository: Repository, justfile: string): Promise<Candidate[]> {
  const text = await readRepositoryText(repository.root, justfile);
  if (!text) return [];
  const found: Candidate[] = [];
  const lines = text.split(/\r?\n/);
  for (let index = 0; index < lines.length; index += 1) {
    const header = /^@?([A-Za-z][\w-]*)(?:\s+[^:=]*)?:(?!=)/.exec(lines[index] as string);
    const kind = header ? makeTargetKind(header[1] as string) : undefined;
    if (!header || !kind) continue;
    const body: Array<{ line: number; text: string }> = [];
    for (let next = index + 1; next < lines.length && /^\s+\S/.test(lines[next] as string); next += 1) {
      const raw = (lines[next] as string).trim();
      // A shebang recipe is a script, and `{{…}}` is just's own interpolation: neither is read.
      if (raw.startsWith('#!') || raw.includes('{{')) {
        body.length = 0;
        break;
      }
      body.push({ line: next + 1, text: raw.replace(/^[@-]+/, '') });
    }
    found.push(
      ...scriptCandidates(repository, body, {
        declaredIn: justfile,
        source: 'makefile',
        confidence: 0.8,
        via: (line) => `${justfile} recipe ${header[1]} line ${line}`,
      }),
    );
  }
  return found;
}
