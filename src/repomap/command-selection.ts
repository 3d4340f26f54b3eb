import type {
  CommandChoice,
  CommandKind,
  CommandOrigin,
  CommandSelection,
  CommandSource,
  RepositoryCommand,
  RepositoryContext,
  SkippedStep,
} from '../domain/context.js';
import type { Candidate } from './command-candidates.js';
import { IGNORE_SCRIPTS, PIP_BINARY_ONLY, YARN_BERRY_SCRIPTS_OFF } from './install-flags.js';

const KIND_ORDER: readonly CommandKind[] = ['install', 'build', 'test', 'lint', 'typecheck', 'format'];

/** Whose argv is kept when sources agree: what Gantry built from a manifest runs as the project declares it. */
const SOURCE_PRIORITY: readonly CommandSource[] = [
  'manifest',
  'makefile',
  'convention',
  'ci',
  'agents',
  'contributing',
  'readme',
];
const GENERATED: ReadonlySet<CommandSource> = new Set(['manifest', 'makefile', 'convention']);

/** A package directory's command counts for less than the root's: the root runs what the project runs. */
const PACKAGE_PENALTY = 0.1;

/** Flags that change how a tool reports, not what it runs, dropped when comparing commands. */
const QUIET_FLAGS: Readonly<Record<string, ReadonlySet<string>>> = {
  mvn: new Set([
    '-B',
    '--batch-mode',
    '-o',
    '--offline',
    '-q',
    '--quiet',
    '-e',
    '-V',
    '--show-version',
    '-ntp',
    '--no-transfer-progress',
  ]),
  gradle: new Set([
    '--no-daemon',
    '--info',
    '--stacktrace',
    '--scan',
    '-q',
    '--quiet',
    '--console=plain',
    '--offline',
    '--build-cache',
    '--parallel',
  ]),
  cargo: new Set(['--verbose', '-v', '--locked', '--frozen', '--color=always']),
  go: new Set(['-v']),
  pytest: new Set(['-v', '-vv', '-q', '--verbose', '-ra']),
  node: new Set([IGNORE_SCRIPTS, YARN_BERRY_SCRIPTS_OFF, '--frozen-lockfile', '--immutable', '--if-present']),
};

/** The scripts each package directory's package.json declares, so a CI `npm run test:ci` counts as declared. */
export type DeclaredScripts = ReadonlyMap<string, { manifest: string; names: ReadonlySet<string> }>;

export interface MergedCommands {
  commands: RepositoryCommand[];
  selection: CommandSelection;
  skipped: SkippedStep[];
}

interface Group {
  members: Candidate[];
  kept: Candidate;
  confidence: number;
  origins: CommandOrigin[];
  vias: Array<{ source: CommandSource; via: string }>;
}

/**
 * Merges the commands every finder saw: equivalent ones (same kind, directory and argv once
 * reporting flags, `npm run test` against `npm test`, `python -m pytest` against `pytest` and a
 * package's root form are set aside) become one, with every place it was found and a confidence that
 * grows with each independent source (1 − Π(1 − c) over the best of each source). Installs written
 * only in CI or documents are reported as skipped: the setup phase runs the manifest's. Then chooses
 * one command per kind, the most confident with the root preferred over a package directory, and
 * orders the list by kind with the chosen command first of its kind.
 *
 * @example
 * const { commands, selection } = mergeCommands(candidates, new Map());
 * selection.test?.reason; // 'package.json scripts.test, also run by CI workflow .github/workflows/ci.yml line 23 (job test) (confidence 0.995)'
 */
export function mergeCommands(candidates: readonly Candidate[], scripts: DeclaredScripts): MergedCommands {
  const groups: Group[] = [];
  const byKey = new Map<string, Group>();
  for (const found of candidates.map((each) => corroborated(each, scripts))) {
    const keys = keysOf(found.command);
    let group = keys.map((key) => byKey.get(key)).find((existing) => existing !== undefined);
    if (group) group.members.push(found);
    else {
      group = { members: [found], kept: found, confidence: 0, origins: [], vias: [] };
      groups.push(group);
    }
    for (const key of keys) if (!byKey.has(key)) byKey.set(key, group);
  }
  const skipped: SkippedStep[] = [];
  const kept: Group[] = [];
  for (const group of groups) {
    settle(group);
    if (
      group.kept.command.kind === 'install' &&
      !group.members.some((member) => GENERATED.has(member.command.source))
    ) {
      skipped.push({
        run: group.kept.command.argv.join(' '),
        kind: 'install',
        ...(group.kept.command.cwd ? { cwd: group.kept.command.cwd } : {}),
        declaredIn: group.kept.command.declaredIn,
        ...(group.kept.command.line ? { line: group.kept.command.line } : {}),
        source: group.kept.command.source,
        reason: "an install written in CI or the documents; the setup phase runs the manifest's install",
      });
      continue;
    }
    kept.push(group);
  }
  const chosen = new Map<CommandKind, Group>();
  for (const kind of KIND_ORDER) {
    const best = kept
      .filter((group) => group.kept.command.kind === kind)
      .reduce<Group | undefined>(
        (top, group) => (top && score(top) >= score(group) ? top : group),
        undefined,
      );
    if (best) chosen.set(kind, best);
  }
  const ordered: Group[] = [];
  for (const kind of KIND_ORDER) {
    const ofKind = kept.filter((group) => group.kept.command.kind === kind);
    const first = chosen.get(kind);
    // Installs keep their order: the setup phase runs them all, the root's first.
    if (first && kind !== 'install') ordered.push(first, ...ofKind.filter((group) => group !== first));
    else ordered.push(...ofKind);
  }
  const commands = ordered.map(toCommand);
  const selection: CommandSelection = {};
  for (const [kind, group] of chosen) {
    const index = ordered.indexOf(group);
    const command = commands[index] as RepositoryCommand;
    const rivals = kept.filter((other) => other !== group && other.kept.command.kind === kind).length;
    const choice: CommandChoice = {
      index,
      argv: command.argv,
      ...(command.cwd ? { cwd: command.cwd } : {}),
      ...(command.rootArgv ? { rootArgv: command.rootArgv } : {}),
      reason: reasonFor(group, rivals),
    };
    selection[kind] = choice;
  }
  return { commands, selection, skipped };
}

/** A CI or document `npm run <script>` whose script package.json declares is also the manifest's. */
function corroborated(found: Candidate, scripts: DeclaredScripts): Candidate {
  const { command } = found;
  if (GENERATED.has(command.source)) return found;
  const [program, verb, name] = command.argv;
  if (program !== 'npm' && program !== 'pnpm' && program !== 'yarn') return found;
  const script = verb === 'run' || verb === 'run-script' ? name : program !== 'npm' ? verb : undefined;
  const declared = scripts.get(command.cwd ?? '');
  if (
    !script ||
    !declared?.names.has(script) ||
    ['test', 'build', 'lint', 'typecheck', 'format'].includes(script)
  ) {
    return found;
  }
  return {
    command: { ...command, foundIn: [{ source: 'manifest', declaredIn: declared.manifest }] },
    via: `${found.via}, a script of ${declared.manifest}`,
  };
}

function settle(group: Group): void {
  const rank = (candidate: Candidate) => SOURCE_PRIORITY.indexOf(candidate.command.source);
  group.kept = group.members.reduce((best, member) => (rank(member) < rank(best) ? member : best));
  const bestBySource = new Map<CommandSource, number>();
  const origins: CommandOrigin[] = [];
  const seen = new Set<string>();
  const vias: Group['vias'] = [];
  for (const member of [group.kept, ...group.members.filter((member) => member !== group.kept)]) {
    const { command } = member;
    const extra = command.foundIn ?? [];
    for (const origin of [
      {
        source: command.source,
        declaredIn: command.declaredIn,
        ...(command.line ? { line: command.line } : {}),
      },
      ...extra,
    ]) {
      const key = `${origin.source}\0${origin.declaredIn}\0${origin.line ?? ''}`;
      if (seen.has(key)) continue;
      seen.add(key);
      origins.push(origin);
      const weight = origin === extra[0] ? 0.95 : command.confidence;
      bestBySource.set(origin.source, Math.max(bestBySource.get(origin.source) ?? 0, weight));
    }
    if (!vias.some((each) => each.via === member.via)) vias.push({ source: command.source, via: member.via });
  }
  let doubt = 1;
  for (const confidence of bestBySource.values()) doubt *= 1 - confidence;
  group.confidence = Math.round((1 - doubt) * 1000) / 1000;
  group.origins = origins;
  group.vias = vias;
}

function score(group: Group): number {
  return group.confidence - (group.kept.command.cwd ? PACKAGE_PENALTY : 0);
}

function toCommand(group: Group): RepositoryCommand {
  const { command } = group.kept;
  const { foundIn: _ignored, ...rest } = command;
  return {
    ...rest,
    confidence: group.confidence,
    ...(group.origins.length > 1 ? { foundIn: group.origins } : {}),
  };
}

function reasonFor(group: Group, rivals: number): string {
  const [first, ...others] = group.vias;
  const also = others.map(({ source, via }) =>
    source === 'ci' ? `run by ${via}` : GENERATED.has(source) ? `declared in ${via}` : `written in ${via}`,
  );
  const { command } = group.kept;
  const parts = [
    `${first?.via ?? command.declaredIn}${also.length ? `, also ${also.join(', ')}` : ''} (confidence ${group.confidence})`,
  ];
  if (command.note) parts.push(command.note);
  if (command.cwd) parts.push(`runs in ${command.cwd}`);
  if (rivals) parts.push(`chosen over ${rivals} other ${command.kind} command${rivals === 1 ? '' : 's'}`);
  return parts.join('; ');
}

/** Every key a command is known by: its own argv in its directory and, for a package, its root form. */
function keysOf(command: RepositoryCommand): string[] {
  const keys = [key(command.kind, command.cwd ?? '', command.argv)];
  if (command.rootArgv) keys.push(key(command.kind, '', command.rootArgv));
  return keys;
}

function key(kind: CommandKind, cwd: string, argv: readonly string[]): string {
  return [kind, cwd, ...comparable(argv)].join('\0');
}

/**
 * The argv as compared: `python -m pytest` and `pytest` alike, `./gradlew` as `gradle`, `npm run
 * test` as `npm test`, reporting and lockfile flags dropped.
 */
function comparable(argv: readonly string[]): string[] {
  let [program = '', ...args] = argv;
  program = program
    .replace(/^(\.\/)?(.*\/)?(gradlew|mvnw)$/, '$3')
    .replace(/^gradlew$/, 'gradle')
    .replace(/^mvnw$/, 'mvn');
  if (program === 'python' || program === 'python3') {
    if (args[0] === '-m' && args[1] && args[1] !== 'pip') [program = '', ...args] = args.slice(1);
    else program = 'python3';
  }
  if (program === 'py.test') program = 'pytest';
  const family = ['npm', 'pnpm', 'yarn'].includes(program) ? 'node' : program;
  if (family === 'node') {
    if (args[0] === 'run' && args[1] === 'test') args = ['test', ...args.slice(2)];
    if (args[0] === 't' || args[0] === 'tst') args = ['test', ...args.slice(1)];
    if (args[0] === 'i') args = ['install', ...args.slice(1)];
    if (program === 'yarn' && args.length === 0) args = ['install'];
  }
  if (program === 'cargo') {
    args = args
      .map((arg) => (arg === '--all' ? '--workspace' : arg))
      .filter((arg, index, all) => !(arg === '--' && all[index + 1] === '--check'));
  }
  const quiet = QUIET_FLAGS[family] ?? new Set<string>();
  const pipBinary = args.findIndex(
    (arg, index) => arg === PIP_BINARY_ONLY[0] && args[index + 1] === PIP_BINARY_ONLY[1],
  );
  return [
    program,
    ...args.filter(
      (arg, index) => !quiet.has(arg) && (pipBinary < 0 || (index !== pipBinary && index !== pipBinary + 1)),
    ),
  ];
}

/**
 * The test command a run uses when nothing configures another: the map's selection, from the root
 * (its `rootArgv` when the chosen command belongs to a package), else the first test command found.
 * With `available`, a command whose program this machine does not have (`uv`, `poetry`) gives way to
 * the next one that it does, in the map's order.
 *
 * @example
 * selectedTestCommand(context, (program) => program !== 'uv'); // ['python3', '-m', 'pytest']
 */
export function selectedTestCommand(
  context: Pick<RepositoryContext, 'selection' | 'commands'>,
  available: (program: string) => boolean = () => true,
): string[] | undefined {
  const selected = context.selection?.test;
  const candidates = [
    ...(selected ? [selected.rootArgv ?? selected.argv] : []),
    ...context.commands
      .filter((command) => command.kind === 'test')
      .map((command) => command.rootArgv ?? command.argv),
  ];
  return candidates.find((argv) => argv[0] !== undefined && available(argv[0])) ?? candidates[0];
}
