import { isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, Scalar, type YAMLMap } from 'yaml';
import type { CommandKind, SkippedStep } from '../domain/context.js';
import { candidate, type Findings, normalizeScope, type Repository } from './command-candidates.js';
import { classifyCommand, isClassified, readScript, type ScriptLine } from './command-line.js';
import { readRepositoryText } from './repository-files.js';

/** GitLab CI keys that are settings, not jobs. */
const GITLAB_RESERVED = new Set([
  'stages',
  'variables',
  'default',
  'include',
  'workflow',
  'image',
  'services',
  'cache',
  'before_script',
  'after_script',
  'pages',
]);

/** Shells whose lines are not POSIX shell. */
const OTHER_SHELLS = /^(pwsh|powershell|cmd)\b/;

/**
 * Commands the repository's CI runs: every `run:` step of every job of `.github/workflows/*.yml`
 * (multi-line scripts split into commands, `cd` followed, in the step's `working-directory` or the
 * job's or workflow's `defaults.run.working-directory`), and the `before_script` and `script` lines
 * of `.gitlab-ci.yml` jobs. Steps that are actions (`uses:`), programs Gantry does not run, and lines
 * that need the shell's state (`${{ matrix.node }}`, `$HOME`) are returned as skipped steps.
 * Windows-only jobs and PowerShell steps are left out.
 */
export async function workflowFindings(repository: Repository): Promise<Findings> {
  const findings: Findings = { candidates: [], skipped: [] };
  const workflows = repository.files.filter((file) => /^\.github\/workflows\/[^/]+\.ya?ml$/.test(file));
  for (const file of workflows) await readGithubWorkflow(repository, file, findings);
  if (repository.has.has('.gitlab-ci.yml')) await readGitlabCi(repository, '.gitlab-ci.yml', findings);
  return findings;
}

interface Loaded {
  root: Node;
  lineOf: (node: Node) => number;
  text: string;
}

async function load(repository: Repository, file: string): Promise<Loaded | undefined> {
  const text = await readRepositoryText(repository.root, file);
  if (!text) return undefined;
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, uniqueKeys: false });
  if (document.errors.length || !document.contents) return undefined;
  return {
    root: document.contents as Node,
    lineOf: (node) => lineCounter.linePos(node.range?.[0] ?? 0).line,
    text,
  };
}

function child(map: unknown, ...keys: string[]): unknown {
  let node = map;
  for (const key of keys) {
    if (!isMap(node)) return undefined;
    node = (node as YAMLMap).get(key, true);
  }
  return node;
}

function stringOf(node: unknown): string | undefined {
  return isScalar(node) && (typeof node.value === 'string' || typeof node.value === 'number')
    ? String(node.value)
    : undefined;
}

/** A `run:` scalar as lines with their line numbers in the file. */
function scriptLines(node: unknown, lineOf: (node: Node) => number): ScriptLine[] {
  if (!isScalar(node) || typeof node.value !== 'string') return [];
  const start = lineOf(node);
  const block = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
  return node.value.split('\n').map((text, index) => ({
    line: block ? start + 1 + (node.type === Scalar.BLOCK_LITERAL ? index : 0) : start,
    text,
  }));
}

async function readGithubWorkflow(repository: Repository, file: string, findings: Findings): Promise<void> {
  const loaded = await load(repository, file);
  if (!loaded || !isMap(loaded.root)) return;
  const workflowDirectory = stringOf(child(loaded.root, 'defaults', 'run', 'working-directory'));
  const jobs = child(loaded.root, 'jobs');
  if (!isMap(jobs)) return;
  for (const pair of jobs.items) {
    const jobName = stringOf(pair.key) ?? 'job';
    const job = pair.value;
    const runsOn = JSON.stringify(isMap(job) ? (job.get('runs-on') ?? '') : '');
    if (/windows|macos/i.test(runsOn) && !/ubuntu|linux/i.test(runsOn)) continue;
    const jobDirectory = stringOf(child(job, 'defaults', 'run', 'working-directory')) ?? workflowDirectory;
    const steps = child(job, 'steps');
    if (!isSeq(steps)) continue;
    for (const step of steps.items) {
      if (!isMap(step)) continue;
      const uses = stringOf(step.get('uses', true));
      const stepLine = loaded.lineOf(step as Node);
      if (uses) {
        findings.skipped.push({
          uses,
          declaredIn: file,
          line: stepLine,
          source: 'ci',
          reason: 'a GitHub Action: it runs on the CI runner, not in the sandbox',
        });
        continue;
      }
      const shell = stringOf(step.get('shell', true));
      if (shell && OTHER_SHELLS.test(shell)) continue;
      const directory = stringOf(step.get('working-directory', true)) ?? jobDirectory;
      const lines = scriptLines(step.get('run', true), loaded.lineOf);
      if (lines.length === 0) continue;
      addScript(repository, findings, lines, directory, {
        file,
        via: (line) => `CI workflow ${file} line ${line} (job ${jobName})`,
      });
    }
  }
}

async function readGitlabCi(repository: Repository, file: string, findings: Findings): Promise<void> {
  const loaded = await load(repository, file);
  if (!loaded || !isMap(loaded.root)) return;
  for (const pair of loaded.root.items) {
    const name = stringOf(pair.key);
    if (!name || name.startsWith('.') || GITLAB_RESERVED.has(name) || !isMap(pair.value)) continue;
    const lines: ScriptLine[] = [];
    for (const key of ['before_script', 'script']) {
      const script = pair.value.get(key, true);
      const items = isSeq(script) ? script.items : [script];
      for (const item of items) lines.push(...scriptLines(item, loaded.lineOf));
    }
    addScript(repository, findings, lines, undefined, {
      file,
      via: (line) => `GitLab CI ${file} line ${line} (job ${name})`,
    });
  }
}

function addScript(
  repository: Repository,
  findings: Findings,
  lines: readonly ScriptLine[],
  directory: string | undefined,
  at: { file: string; via: (line: number) => string },
): void {
  const start =
    directory === undefined ? '' : directory.includes('${{') ? undefined : normalizeScope(directory);
  const skip = (
    line: number,
    run: string,
    reason: string,
    kind?: CommandKind,
    cwd?: string,
  ): SkippedStep => ({
    run,
    ...(kind ? { kind } : {}),
    ...(cwd ? { cwd } : {}),
    declaredIn: at.file,
    line,
    source: 'ci',
    reason,
  });
  const { commands, refused } = readScript(repository, lines, start);
  for (const line of refused) {
    // Only lines that look like a build or test command are worth reporting as unread.
    if (classifyCommand(line.text.split(/\s+/)) === undefined) continue;
    findings.skipped.push(skip(line.line, line.text, `not read: ${line.reason}`));
  }
  for (const command of commands) {
    const reading = classifyCommand(command.argv);
    if (reading === undefined) continue;
    const run = command.argv.join(' ');
    if (!isClassified(reading)) {
      findings.skipped.push(skip(command.line, run, reading.refused, reading.kind, command.cwd));
      continue;
    }
    if (command.cwd === undefined) {
      findings.skipped.push(
        skip(command.line, run, 'runs in a directory the map cannot follow', reading.kind),
      );
      continue;
    }
    findings.candidates.push(
      candidate(
        {
          ecosystem: reading.ecosystem,
          kind: reading.kind,
          argv: reading.argv,
          cwd: command.cwd,
          declaredIn: at.file,
          line: command.line,
          source: 'ci',
          confidence: reading.kind === 'test' ? 0.9 : 0.85,
        },
        at.via(command.line),
      ),
    );
  }
}
