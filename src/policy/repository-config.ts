import picomatch from 'picomatch';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { ToolchainKind } from '../domain/context.js';
import { InvalidInputError } from '../domain/errors.js';
import {
  type CommandLine,
  type EngineeringRequest,
  type KnownFailingTest,
  RepositoryConfig,
  type ToolchainSelection,
} from '../domain/request.js';
import { checkCommand, checkEnvironmentPrefix } from '../gateway/command-rules.js';
import { splitShellCommands } from '../gateway/shell-words.js';
import {
  defaultEnvironmentAllowlist,
  isAllowedEnvironmentName,
  secretLikeName,
} from '../sandbox/environment.js';
import { type CapabilityContract, contractAllowsEdit } from './capabilities.js';

/**
 * The repository's own configuration file, at its root; the first is the one documented. The agent
 * may never edit either: they tell the runtime how to judge the agent's work.
 */
export const repositoryConfigFileNames = ['.gantry.yaml', '.gantry.yml'] as const;

/** Larger than any real configuration; the file is untrusted, so its size is bounded before parsing. */
const MAX_FILE_CHARS = 64 * 1024;

/** Who set a field: the operator's request file, or the repository's `.gantry.yaml`. */
export type ConfigSource = 'request' | 'repository-file';

/** One problem in a configuration: the key as a dotted path (`env.LD_PRELOAD`, `setup.1`) and what to do. */
export interface ConfigIssue {
  key: string;
  message: string;
}

/** A repository configuration (file or request field) that cannot be used; names the origin and every key at fault. */
export class RepositoryConfigError extends InvalidInputError {
  override name = 'RepositoryConfigError';
  readonly origin: string;
  readonly issues: readonly ConfigIssue[];

  constructor(origin: string, issues: readonly ConfigIssue[], options: { hint: string; cause?: unknown }) {
    super(
      `Repository configuration in ${origin} is not valid: ${issues.map((issue) => `${issue.key}: ${issue.message}`).join('; ')}`,
      { input: issues.length === 1 ? `${origin}: ${issues[0]?.key}` : origin, ...options },
    );
    this.origin = origin;
    this.issues = issues;
  }
}

/** A focused-test command: argv with one word that is the placeholder, replaced by test ids or files. */
export interface FocusedTestCommand {
  argv: string[];
  placeholder: '{tests}' | '{files}';
}

/** The toolchains a configuration names, with the versions it gives as free text. */
export interface ToolchainChoice {
  kinds: ToolchainKind[];
  versions: Partial<Record<ToolchainKind, string>>;
}

/** A configuration after its command lines are split and its names checked; every field still optional. */
export interface ResolvedRepositoryConfig {
  test?: string[];
  focusedTest?: FocusedTestCommand;
  setup?: string[][];
  env?: Record<string, string>;
  toolchains?: ToolchainChoice;
  knownFailing?: KnownFailingTest[];
  editable?: string[];
  forbidden?: string[];
  strict?: boolean;
  egress?: RepositoryConfig['egress'];
}

const repositoryFileHint = (origin: string) =>
  `Fix the keys named above in ${origin} at the repository root (see docs/repository-config.md), or delete the file to let the repository map detect the commands.`;
const requestHint =
  'Fix the keys named above under repositoryConfig in the request file (see docs/repository-config.md).';

/**
 * Parses and checks the text of a repository's `.gantry.yaml`, as read from the base commit. An empty
 * file configures nothing. Besides the schema, environment names must pass the sandbox allowlist and
 * may not change which code a command loads (PATH, NODE_OPTIONS, ...), and each command line must be
 * one command. Every problem is a {@link RepositoryConfigError} naming `origin` and the key.
 *
 * @example
 * const config = parseRepositoryConfigFile('test: npx vitest run\nforbidden: [vendor/**]\n', '.gantry.yaml@4f2c1e0');
 * config.test; // ['npx', 'vitest', 'run']
 */
export function parseRepositoryConfigFile(text: string, origin: string): ResolvedRepositoryConfig {
  const hint = repositoryFileHint(origin);
  if (text.length > MAX_FILE_CHARS) {
    throw new RepositoryConfigError(
      origin,
      [{ key: '(root)', message: `the file holds ${text.length} characters, more than ${MAX_FILE_CHARS}` }],
      { hint },
    );
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (cause) {
    if (!(cause instanceof YAMLParseError)) throw cause;
    const position = cause.linePos?.[0];
    const problem = (cause.message.split('\n', 1)[0] ?? '').replace(/ at line \d+, column \d+:?$/, '');
    const key = position === undefined ? '(root)' : `line ${position.line}, column ${position.col}`;
    throw new RepositoryConfigError(origin, [{ key, message: `not valid YAML: ${problem}` }], {
      hint,
      cause,
    });
  }
  const parsed = RepositoryConfig.safeParse(document ?? {});
  if (!parsed.success) {
    throw new RepositoryConfigError(origin, schemaIssues(parsed.error), { hint, cause: parsed.error });
  }
  return resolveRepositoryConfig(parsed.data, { origin, source: 'repository-file' });
}

/**
 * Splits the command lines of a schema-valid configuration and checks its environment names. A
 * repository file's names must also pass the command rules' environment check; an operator's need
 * only the sandbox allowlist. Intake calls this on a request file so a mistake fails at once.
 *
 * @example
 * resolveRepositoryConfig({ env: { LD_PRELOAD: 'x.so' } }, { origin: 'request.yaml', source: 'request' });
 * // throws RepositoryConfigError: … env.LD_PRELOAD: LD_PRELOAD may not be set in a sandbox …
 */
export function resolveRepositoryConfig(
  config: RepositoryConfig,
  options: { origin: string; source: ConfigSource },
): ResolvedRepositoryConfig {
  const issues: ConfigIssue[] = [];
  const resolved: ResolvedRepositoryConfig = {};
  const argvOf = (line: CommandLine, key: string): string[] | undefined => {
    const reading = commandArgv(line);
    if ('problem' in reading) issues.push({ key, message: reading.problem });
    return 'argv' in reading ? reading.argv : undefined;
  };

  if (config.test !== undefined) resolved.test = argvOf(config.test, 'test');
  if (config.focusedTest !== undefined) {
    const argv = argvOf(config.focusedTest, 'focusedTest');
    const template = argv && focusedTemplate(argv);
    if (template && 'problem' in template) issues.push({ key: 'focusedTest', message: template.problem });
    else if (template) resolved.focusedTest = template;
  }
  if (config.setup !== undefined) {
    resolved.setup = config.setup.flatMap((line, index) => {
      const argv = argvOf(line, `setup.${index}`);
      return argv ? [argv] : [];
    });
  }
  if (config.env !== undefined) {
    for (const [name, value] of Object.entries(config.env)) {
      const problem = environmentProblem(name, value, options.source);
      if (problem) issues.push({ key: `env.${name}`, message: problem });
    }
    resolved.env = { ...config.env };
  }
  if (config.toolchain !== undefined) resolved.toolchains = toolchainChoice(config.toolchain);
  if (config.knownFailing !== undefined) resolved.knownFailing = config.knownFailing;
  if (config.editable !== undefined) resolved.editable = config.editable;
  if (config.forbidden !== undefined) resolved.forbidden = config.forbidden;
  if (config.strict !== undefined) resolved.strict = config.strict;
  if (config.egress !== undefined) resolved.egress = config.egress;

  if (issues.length > 0) {
    throw new RepositoryConfigError(options.origin, issues, {
      hint: options.source === 'request' ? requestHint : repositoryFileHint(options.origin),
    });
  }
  return resolved;
}

/** A command that will run, with who asked for it. */
export interface ConfiguredCommand {
  argv: string[];
  source: ConfigSource;
}

/** A command the command rules refused: it is reported, never run. */
export interface RefusedCommand extends ConfiguredCommand {
  rule: string;
  reason: string;
}

/** Which source set a field, for the run's record. `gantry` is a rule of Gantry's own. */
export interface FieldSource {
  field: keyof RepositoryConfig;
  source: ConfigSource | 'contract' | 'gantry';
  origin: string;
}

/** The path globs behind `editable` and `forbidden`: a path is editable only if every layer allows it. */
export interface PathRules {
  editable: Array<{ source: 'contract' | ConfigSource; globs: string[] }>;
  forbidden: Array<{ source: 'gantry' | ConfigSource; globs: string[] }>;
}

/** What a run uses of the repository configuration, after precedence and narrowing. */
export interface EffectiveRepositoryConfig {
  /** From the request: run it outright. From the repository file: a candidate for the map, below the operator. */
  test?: ConfiguredCommand;
  focusedTest?: FocusedTestCommand & { source: ConfigSource };
  /** Repository-file test commands the command rules refuse; the map falls back to detection. */
  refusedTest: RefusedCommand[];
  /** Setup-phase commands that pass the command rules, in order. */
  setup: ConfiguredCommand[];
  refusedSetup: RefusedCommand[];
  /** Every name already passed the sandbox allowlist. */
  env: Record<string, string>;
  toolchains?: ToolchainChoice & { source: ConfigSource };
  /** Excuses only tests that already fail in the baseline, never a failure the change introduces. */
  knownFailing: Array<KnownFailingTest & { source: ConfigSource }>;
  /** Whether the agent may edit a workspace-relative path: the contract, every configured layer, and not forbidden. */
  editable: (path: string) => boolean;
  forbidden: (path: string) => boolean;
  pathRules: PathRules;
  strict: boolean;
  /** Each layer's narrowing of the registry allowlist; every one applies (they only take away). */
  egress: NonNullable<RepositoryConfig['egress']>[];
  sources: FieldSource[];
  /** Configuration that was not used, and why (a request that did not come from a request file). */
  ignored: string[];
}

export interface RepositoryConfigInputs {
  contract: CapabilityContract;
  /** `.gantry.yaml` (or `.gantry.yml`) as read from the base commit; `origin` names it in errors. */
  repositoryFile?: { text: string; origin: string };
  /** The run's request: its `repositoryConfig` counts only when it came from a request file. */
  request?: Pick<EngineeringRequest, 'id' | 'source' | 'repositoryConfig'>;
  /** The programs the gateway allows (the map's commands' programs); setup commands are judged against them. */
  repositoryPrograms?: ReadonlySet<string>;
}

/**
 * Merges the operator's request, the repository file and the capability contract into what a run
 * uses. Each field is the request's if it sets it, else the file's (`env` merges by name, the
 * request's value winning); unset fields are left to the repository map. Paths only narrow: a path is
 * editable when the contract and every configuration that lists `editable` allow it and no `forbidden`
 * glob matches. Setup commands (and the file's test commands) that the command rules refuse are
 * reported, not kept. Pure: the caller reads the file and the request.
 *
 * @throws RepositoryConfigError when the file or the request's configuration is not valid.
 * @example
 * const config = effectiveRepositoryConfig({
 *   contract,                                      // editablePaths: ['src/**']
 *   repositoryFile: { text: 'editable: ["**"]\nsetup: [curl -fsSL https://x.example/i.sh]\n', origin: '.gantry.yaml@4f2c1e0' },
 *   request,
 *   repositoryPrograms: new Set(['npm']),
 * });
 * config.editable('docs/readme.md'); // false: the file cannot widen the contract
 * config.refusedSetup[0]?.reason;    // 'curl is a forbidden program'
 */
export function effectiveRepositoryConfig(inputs: RepositoryConfigInputs): EffectiveRepositoryConfig {
  const { contract, repositoryFile, request } = inputs;
  const ignored: string[] = [];
  const fileConfig = repositoryFile
    ? parseRepositoryConfigFile(repositoryFile.text, repositoryFile.origin)
    : undefined;
  let requestConfig: ResolvedRepositoryConfig | undefined;
  const requestOrigin = request ? `request ${request.id}` : 'the request';
  if (request?.repositoryConfig !== undefined) {
    if (request.source === 'file') {
      requestConfig = resolveRepositoryConfig(request.repositoryConfig, {
        origin: requestOrigin,
        source: 'request',
      });
    } else {
      ignored.push(
        `The repositoryConfig of request ${request.id} was ignored: it came from ${request.source}, and only an operator's request file may configure the repository.`,
      );
    }
  }

  const layers: Array<{ source: ConfigSource; origin: string; config: ResolvedRepositoryConfig }> = [];
  if (requestConfig) layers.push({ source: 'request', origin: requestOrigin, config: requestConfig });
  if (fileConfig && repositoryFile) {
    layers.push({ source: 'repository-file', origin: repositoryFile.origin, config: fileConfig });
  }
  const sources: FieldSource[] = [];
  const pick = <K extends keyof ResolvedRepositoryConfig>(key: K, field: keyof RepositoryConfig) => {
    const layer = layers.find((candidate) => candidate.config[key] !== undefined);
    if (!layer) return undefined;
    sources.push({ field, source: layer.source, origin: layer.origin });
    return { value: layer.config[key] as NonNullable<ResolvedRepositoryConfig[K]>, source: layer.source };
  };

  const programs = inputs.repositoryPrograms ?? new Set<string>();
  const refusedTest: RefusedCommand[] = [];
  const test = pick('test', 'test');
  const focusedTest = pick('focusedTest', 'focusedTest');
  const testVerdict = (argv: string[], source: ConfigSource) => {
    if (source === 'request') return true;
    // As the gateway judges the declared test command: its program is trusted, the rest is not.
    const verdict = checkCommand(argv, new Set([...programs, argv[0] as string]));
    if (!verdict.allowed) refusedTest.push({ argv, source, rule: verdict.rule, reason: verdict.reason });
    return verdict.allowed;
  };
  const keptTest = test && testVerdict(test.value, test.source) ? test : undefined;
  const keptFocused =
    focusedTest &&
    testVerdict(
      focusedTest.value.argv.filter((word) => word !== focusedTest.value.placeholder),
      focusedTest.source,
    )
      ? focusedTest
      : undefined;

  const setup: ConfiguredCommand[] = [];
  const refusedSetup: RefusedCommand[] = [];
  const setupField = pick('setup', 'setup');
  for (const argv of setupField?.value ?? []) {
    const source = setupField?.source ?? 'request';
    // The operator's setup commands are judged too: the setup phase is the one that reaches registries.
    const verdict = checkCommand(argv, programs);
    if (verdict.allowed) setup.push({ argv, source });
    else refusedSetup.push({ argv, source, rule: verdict.rule, reason: verdict.reason });
  }

  const env: Record<string, string> = {};
  for (const layer of [...layers].reverse()) {
    if (layer.config.env === undefined) continue;
    Object.assign(env, layer.config.env);
    sources.push({ field: 'env', source: layer.source, origin: layer.origin });
  }

  const toolchains = pick('toolchains', 'toolchain');
  const knownFailing = pick('knownFailing', 'knownFailing');
  const strict = pick('strict', 'strict');
  const pathRules = pathRulesOf(contract, layers, sources);
  const forbidden = globMatcher(pathRules.forbidden.flatMap((rule) => rule.globs));
  const editableLayers = pathRules.editable
    .filter((rule) => rule.source !== 'contract')
    .map((rule) => globMatcher(rule.globs));

  // A refused candidate was not used, so the record does not say it was.
  const used = sources.filter(
    (entry) => !(entry.field === 'test' && !keptTest) && !(entry.field === 'focusedTest' && !keptFocused),
  );
  return {
    ...(keptTest ? { test: { argv: keptTest.value, source: keptTest.source } } : {}),
    ...(keptFocused ? { focusedTest: { ...keptFocused.value, source: keptFocused.source } } : {}),
    refusedTest,
    setup,
    refusedSetup,
    env,
    ...(toolchains ? { toolchains: { ...toolchains.value, source: toolchains.source } } : {}),
    knownFailing: knownFailing
      ? knownFailing.value.map((entry) => ({ ...entry, source: knownFailing.source }))
      : [],
    egress: layers.flatMap((layer) => (layer.config.egress ? [layer.config.egress] : [])),
    editable: (path) =>
      contractAllowsEdit(contract, path) &&
      editableLayers.every((matches) => matches(path)) &&
      !forbidden(path),
    forbidden,
    pathRules,
    strict: strict?.value ?? false,
    sources: used,
    ignored,
  };
}

/**
 * The focused-test command for some tests: the placeholder word becomes one argument per item.
 * An item that starts with `-` is refused, since the test runner would read it as an option.
 *
 * @example
 * focusedTestArgv({ argv: ['npx', 'vitest', 'run', '{files}'], placeholder: '{files}' }, ['src/a.test.ts']);
 * // ['npx', 'vitest', 'run', 'src/a.test.ts']
 */
export function focusedTestArgv(command: FocusedTestCommand, items: readonly string[]): string[] {
  const option = items.find((item) => item.startsWith('-'));
  if (option !== undefined) {
    throw new InvalidInputError(
      `The test "${option}" starts with "-": the test runner would read it as an option`,
      {
        input: option,
        hint: 'Name test files by a relative path such as ./-odd.test.ts.',
      },
    );
  }
  return command.argv.flatMap((word) => (word === command.placeholder ? [...items] : [word]));
}

/**
 * Which configuration file the repository has, given the names at its root; having both is an error.
 *
 * @example
 * repositoryConfigFileIn(['package.json', '.gantry.yml']); // '.gantry.yml'
 */
export function repositoryConfigFileIn(rootEntries: readonly string[]): string | undefined {
  const present = repositoryConfigFileNames.filter((name) => rootEntries.includes(name));
  if (present.length > 1) {
    throw new RepositoryConfigError(
      present.join(' and '),
      [{ key: '(file)', message: 'the repository has both; Gantry would not know which one to read' }],
      { hint: 'Keep .gantry.yaml and delete .gantry.yml.' },
    );
  }
  return present[0];
}

function pathRulesOf(
  contract: CapabilityContract,
  layers: ReadonlyArray<{ source: ConfigSource; origin: string; config: ResolvedRepositoryConfig }>,
  sources: FieldSource[],
): PathRules {
  const rules: PathRules = {
    editable: contract.editablePaths ? [{ source: 'contract', globs: contract.editablePaths }] : [],
    forbidden: [{ source: 'gantry', globs: [...repositoryConfigFileNames] }],
  };
  if (contract.editablePaths) sources.push({ field: 'editable', source: 'contract', origin: contract.id });
  sources.push({ field: 'forbidden', source: 'gantry', origin: 'repository configuration files' });
  for (const layer of layers) {
    if (layer.config.editable) {
      rules.editable.push({ source: layer.source, globs: layer.config.editable });
      sources.push({ field: 'editable', source: layer.source, origin: layer.origin });
    }
    if (layer.config.forbidden) {
      rules.forbidden.push({ source: layer.source, globs: layer.config.forbidden });
      sources.push({ field: 'forbidden', source: layer.source, origin: layer.origin });
    }
  }
  return rules;
}

function globMatcher(globs: readonly string[]): (path: string) => boolean {
  if (globs.length === 0) return () => false;
  const matches = picomatch([...globs], { dot: true });
  return (path) => matches(path.replace(/^\.\//, ''));
}

/** Characters that are operators to `sh` unless quoted; see {@link commandArgv}. */
const operatorCharacters = /[<>&|;]/g;
const standIns: Record<string, string> = {
  '<': '\uE000',
  '>': '\uE001',
  '&': '\uE002',
  '|': '\uE003',
  ';': '\uE004',
};
const fromStandIn = Object.fromEntries(
  Object.entries(standIns).map(([operator, standIn]) => [standIn, operator]),
);

/**
 * A command line as one argv, read by the gateway's own shell-words reader so that Gantry never
 * understands a line two ways. That reader drops redirections and a trailing `;` or `&` silently, so
 * the line is read a second time with those characters replaced by stand-ins it takes as letters: a
 * quoted one reads the same both times, an unquoted one (an operator) does not.
 */
function commandArgv(line: CommandLine): { argv: string[] } | { problem: string } {
  if (Array.isArray(line)) return { argv: line };
  const reading = splitShellCommands(line);
  if (!reading.ok) return { problem: `cannot be read as one command: ${reading.reason}` };
  const literal = splitShellCommands(
    line.replace(operatorCharacters, (character) => standIns[character] ?? ''),
  );
  const restored =
    literal.ok &&
    literal.commands.map((command) => ({
      env: command.env,
      argv: command.argv.map((word) => word.replace(/[\uE000-\uE004]/g, (c) => fromStandIn[c] ?? '')),
    }));
  if (reading.commands.length !== 1 || JSON.stringify(restored) !== JSON.stringify(reading.commands)) {
    return {
      problem:
        'holds more than one command or a redirection (&&, ||, ;, |, &, <, >); no shell runs it, so give one command per entry, or an argv list',
    };
  }
  const [command] = reading.commands;
  if (!command || command.argv.length === 0) return { problem: 'holds no command' };
  const assigned = Object.keys(command.env);
  if (assigned.length > 0) {
    return {
      problem: `sets ${assigned.join(', ')} in front of the command; set variables under env instead`,
    };
  }
  return { argv: command.argv };
}

const placeholders = ['{tests}', '{files}'] as const;

function focusedTemplate(argv: string[]): FocusedTestCommand | { problem: string } {
  const words = argv.filter((word) => placeholders.some((placeholder) => word.includes(placeholder)));
  const [word] = words;
  const placeholder = placeholders.find((candidate) => candidate === word);
  if (words.length !== 1 || placeholder === undefined) {
    return {
      problem:
        'needs exactly one word that is {tests} (test ids) or {files} (test files) on its own, e.g. "npx vitest run {files}" or "pytest {tests}"',
    };
  }
  return { argv, placeholder };
}

function environmentProblem(name: string, value: string, source: ConfigSource): string | undefined {
  if (!isAllowedEnvironmentName(name)) {
    if (secretLikeName.test(name))
      return `${name} looks like a credential, and credentials never enter a sandbox; remove it`;
    return `${name} may not be set in a sandbox: it is not on the environment allowlist (names such as NODE_ENV, TZ and CI, and those starting with ${defaultEnvironmentAllowlist.prefixes.join(', ')}; see src/sandbox/environment.ts); remove it`;
  }
  // The operator is trusted with the whole allowlist; a repository is not trusted to change which
  // programs and code a command loads, any more than the agent is.
  if (source === 'repository-file') {
    const verdict = checkEnvironmentPrefix({ [name]: value });
    if (!verdict.allowed)
      return `${name} changes which code every command loads; a repository file may not set it`;
  }
  if (value.includes('\0')) return 'the value holds a NUL byte';
  return undefined;
}

function toolchainChoice(selection: ToolchainSelection): ToolchainChoice {
  if (Array.isArray(selection)) return { kinds: [...new Set(selection)], versions: {} };
  const kinds = Object.keys(selection) as ToolchainKind[];
  const versions: Partial<Record<ToolchainKind, string>> = {};
  for (const kind of kinds) {
    const version = selection[kind];
    if (version) versions[kind] = version;
  }
  return { kinds, versions };
}

const settingNames = Object.keys(RepositoryConfig.shape).join(', ');

/** zod's issues as keys a person finds in the file; an unknown key is named, with the keys that exist. */
function schemaIssues(error: z.ZodError): ConfigIssue[] {
  return error.issues.flatMap((issue): ConfigIssue[] => {
    const at = issue.path.map(String);
    if (issue.code !== 'unrecognized_keys')
      return [{ key: at.join('.') || '(root)', message: issue.message }];
    const known =
      at.length === 0
        ? `the settings are ${settingNames}`
        : at[0] === 'knownFailing'
          ? 'a known-failing entry has test and reason'
          : at[0] === 'toolchain'
            ? `the toolchains are ${ToolchainKind.options.join(', ')}`
            : 'this object takes no such key';
    return issue.keys.map((key) => ({
      key: [...at, key].join('.'),
      message: `unknown key; ${known}. Fix its spelling or remove it`,
    }));
  });
}
