import { readFile } from 'node:fs/promises';
import { ulid } from 'ulid';
import type { z } from 'zod';
import { sha256Hex } from '../adapters/aws/s3-artifact-store.js';
import { toolActions } from '../domain/actions.js';
import { formatZodIssues, RunHaltedError } from '../domain/errors.js';
import type { AuthorizationRequest, PolicyDecision } from '../domain/policy.js';
import type { Actor } from '../domain/run.js';
import { type ToolCall, type ToolName, type ToolResult, toolInputSchemas } from '../domain/tools.js';
import type { RunJournal } from '../evidence/run-journal.js';
import type { ArtifactStore } from '../ports/artifacts.js';
import type { PolicyEngine } from '../ports/policy.js';
import type { Sandbox, SandboxCommand, SandboxLimits, SandboxResult } from '../ports/sandbox.js';
import { checkCommandInWorkspace } from './command-expansion.js';
import { redactDeep, type SecretRedactor } from './redact.js';
import { applyEdit, editedText } from './workspace-edit.js';
import { confineToWorkspace, PathRefusedError } from './workspace-paths.js';

/** Output the model sees of one tool call; the full (redacted) output is kept as an artifact. */
const MODEL_OUTPUT_LIMIT = 16_000;

export interface GatewaySettings {
  workspace: string;
  /** Programs the repository map declared (npm, python3, go, ...). */
  repositoryPrograms: ReadonlySet<string>;
  testCommand: string[] | undefined;
  limits: Partial<SandboxLimits>;
  /** What every command's sandbox gets: the map's toolchains, the setup phase's virtualenv and variables. */
  profile?: Pick<SandboxCommand, 'toolchains' | 'virtualenv' | 'env'>;
  agent: Actor;
  /** The same call with the same arguments this many times in one phase ends the run as a loop. */
  maxIdenticalCalls: number;
  /** Cedar, asked about every call that passes the gateway's own rules. */
  policy: PolicyEngine;
  /** Who acts, in which repository, and the run's context at the moment of the call. */
  frame: {
    principal: AuthorizationRequest['principal'];
    repository: string;
    context: () => AuthorizationRequest['context'];
  };
  /** The capability contract's editable paths, when it narrows them. */
  mayEdit: (path: string) => boolean;
  /** Why a path is generated (a build output, ignored), so no edit may write it; undefined for a source. */
  generated?: (path: string) => string | undefined;
  /** Runs before every call that is not a replay: the budget guard. */
  beforeCall: () => Promise<void>;
}

type Inputs = { [K in ToolName]: z.infer<(typeof toolInputSchemas)[K]> };

/** Files whose content decides what a test command runs: scripts, recipes, runner configuration. */
const BUILD_DEFINITION =
  /(^|\/)(package\.json|[Mm]akefile|GNUmakefile|[^/]*\.mk|pyproject\.toml|setup\.cfg|setup\.py|tox\.ini|noxfile\.py|Cargo\.toml|pom\.xml|build\.gradle(\.kts)?|CMakeLists\.txt|justfile|Taskfile\.ya?ml)$/;

interface Execution {
  ok: boolean;
  output: string;
  exitCode?: number;
  truncated?: boolean;
  fileChange?: { path: string; before?: string; after: string };
  testRun?: { argv: string[]; result: SandboxResult };
  /** The sandbox limit that stopped the command, if one did. */
  limitHit?: SandboxResult['limitHit'];
}

/**
 * The only way a tool call reaches the workspace. Each call is validated against its schema, decided by
 * the policy rules, run in the sandbox, redacted, and recorded as requested → authorized|denied → executed.
 * A call already executed before a crash returns its recorded result instead of running again.
 */
export class ToolGateway {
  constructor(
    private readonly journal: RunJournal,
    private readonly artifacts: ArtifactStore,
    private readonly sandbox: Sandbox,
    private readonly redactor: SecretRedactor,
    private readonly settings: GatewaySettings,
  ) {}

  /** Handles one call; `scope` makes its event keys unique within the run (phase and turn). */
  /** Whether an edit of this run has written a file that defines scripts or recipes (package.json, a Makefile, …). */
  private editedBuildDefinition(): boolean {
    return this.journal
      .events()
      .some((event) => event.type === 'file.changed' && BUILD_DEFINITION.test(event.data.path));
  }

  async call(call: ToolCall, scope: string): Promise<ToolResult & { finish?: Inputs['finish'] }> {
    const key = `${scope}:${call.id}`;
    const argsJson = JSON.stringify(call.input ?? null);
    await this.journal.record(`${key}:requested`, 'tool.requested', this.settings.agent, {
      callId: call.id,
      tool: call.name,
      argsHash: sha256Hex(argsJson),
      phase: scope,
    });

    const executed = this.journal.find(`${key}:executed`, 'tool.executed');
    if (executed) {
      const output = await this.artifacts.getText(executed.data.output);
      return {
        callId: call.id,
        ok: executed.data.ok,
        output: clip(output),
        exitCode: executed.data.exitCode,
        truncated: executed.data.truncated,
        ...(call.name === 'finish'
          ? { finish: redactDeep(toolInputSchemas.finish.parse(call.input), this.redactor) }
          : {}),
      };
    }
    await this.detectLoop(call.name, argsJson, scope, key);
    await this.settings.beforeCall();
    const denied = this.journal.find(`${key}:denied`, 'tool.denied');
    if (denied)
      return { callId: call.id, ok: false, output: deniedMessage(denied.data.decision), truncated: false };

    const decision = await this.decide(call);
    // Reasons and resources quote the call's arguments and the workspace's scripts: redacted like any event.
    decision.verdict = redactDeep(decision.verdict, this.redactor);
    if (decision.verdict.decision === 'deny') {
      await this.journal.record(`${key}:denied`, 'tool.denied', systemActor, {
        callId: call.id,
        decision: decision.verdict,
      });
      return { callId: call.id, ok: false, output: deniedMessage(decision.verdict), truncated: false };
    }
    await this.journal.record(`${key}:authorized`, 'tool.authorized', systemActor, {
      callId: call.id,
      decision: decision.verdict,
    });

    const started = performance.now();
    const execution = await this.execute(decision.tool, decision.input, decision.paths);
    const durationMs = Math.round(performance.now() - started);
    if (execution.limitHit) {
      // The sandbox stopped it: the agent hears why, and the attempt is on the record as a violation.
      await this.journal.record(`${key}:limit`, 'guard.tripped', systemActor, {
        guard: execution.limitHit === 'disk' ? 'disk-limit' : 'sandbox-limit',
        reason: `${call.name} hit the sandbox's ${execution.limitHit} limit`,
      });
    }
    // What the model reads is what is stored: configured secrets and unmistakable token formats go,
    // code stays as it is (no guessing from names like `token =`), so the model edits what is there.
    const { text } = this.redactor.redact(execution.output);
    // The artifacts of one call do not depend on each other: store them together.
    const change = execution.fileChange;
    // File snapshots are for the audit trail and redacted like any output; replay re-applies the call.
    const [outputHash, beforeHash, afterHash] = await Promise.all([
      this.artifacts.put(text, 'text/plain; charset=utf-8'),
      change?.before === undefined ? undefined : this.artifacts.put(this.redactor.redact(change.before).text),
      change ? this.artifacts.put(this.redactor.redact(change.after).text) : undefined,
    ]);

    if (change && afterHash) {
      await this.journal.record(`${key}:file`, 'file.changed', this.settings.agent, {
        callId: call.id,
        path: change.path,
        before: beforeHash,
        after: afterHash,
      });
    }
    if (execution.testRun) {
      const { argv, result } = execution.testRun;
      await this.journal.record(`${key}:test`, 'test.run', this.settings.agent, {
        purpose: 'agent',
        argv,
        exitCode: result.exitCode,
        passed: result.exitCode === 0,
        timedOut: result.timedOut,
        output: outputHash,
        durationMs: result.durationMs,
      });
    }
    await this.journal.record(`${key}:executed`, 'tool.executed', systemActor, {
      callId: call.id,
      tool: call.name,
      ok: execution.ok,
      exitCode: execution.exitCode,
      output: outputHash,
      truncated: execution.truncated ?? false,
      durationMs,
    });
    return {
      callId: call.id,
      ok: execution.ok,
      output: clip(text),
      exitCode: execution.exitCode,
      truncated: execution.truncated ?? false,
      // The summary becomes events and a pull request: redacted like them (the call ran as written).
      ...(decision.tool === 'finish'
        ? { finish: redactDeep(decision.input as Inputs['finish'], this.redactor) }
        : {}),
    };
  }

  /** The gateway's decision on a call, without recording or running it (benchmarks, dry runs). */
  async authorize(call: ToolCall): Promise<PolicyDecision> {
    return (await this.decide(call)).verdict;
  }

  /** Ends the run when the agent keeps asking for the very same call: it is stuck, not working. */
  private async detectLoop(tool: string, argsJson: string, scope: string, key: string): Promise<void> {
    const phase = scope.replace(/:t\d+$/, '');
    const argsHash = sha256Hex(argsJson);
    const repeats = this.journal
      .events()
      .filter((e) => e.type === 'tool.requested' && e.data.tool === tool && e.data.argsHash === argsHash)
      .filter((e) => e.type === 'tool.requested' && e.data.phase.replace(/:t\d+$/, '') === phase).length;
    if (repeats > this.settings.maxIdenticalCalls) {
      const reason = `the agent asked for ${tool} with the same arguments ${repeats} times in phase ${phase}`;
      await this.journal.record(`${key}:loop`, 'guard.tripped', systemActor, { guard: 'loop', reason });
      throw new RunHaltedError(
        `loop detected: the agent asked for ${tool} with the same arguments ${repeats} times in phase ${phase}`,
        { input: key, hint: 'the agent is stuck; narrow the request or try another model' },
      );
    }
  }

  private async decide(call: ToolCall): Promise<{
    verdict: PolicyDecision;
    tool: ToolName;
    input: Inputs[ToolName];
    paths: { relative: string; host: string }[];
  }> {
    const verdict = (
      decision: 'allow' | 'deny',
      rule: string,
      reason: string,
      resource = '*',
    ): PolicyDecision => ({
      id: ulid(),
      action: call.name,
      resource,
      decision,
      reasons: [reason],
      policyVersion: this.journal.policyVersion,
      determiningPolicies: [rule],
    });
    const deny = (rule: string, reason: string, resource?: string) => ({
      verdict: verdict('deny', rule, reason, resource),
      tool: 'finish' as ToolName,
      input: {} as Inputs[ToolName],
      paths: [],
    });

    if (!(call.name in toolInputSchemas)) return deny('tool.unknown', `there is no tool named ${call.name}`);
    const tool = call.name as ToolName;
    const parsed = toolInputSchemas[tool].safeParse(call.input);
    if (!parsed.success)
      return deny('tool.schema', `invalid input for ${tool}: ${formatZodIssues(parsed.error.issues)}`);
    const input = parsed.data as Inputs[ToolName];

    const paths: { relative: string; host: string }[] = [];
    if ('path' in input && typeof input.path === 'string') {
      try {
        paths.push(await confineToWorkspace(this.settings.workspace, input.path));
      } catch (error) {
        if (error instanceof PathRefusedError) return deny('path.confined', error.message, input.path);
        throw error;
      }
    }
    const argv = tool === 'run_command' ? (input as Inputs['run_command']).argv : undefined;
    if (argv) {
      const command = await checkCommandInWorkspace(
        argv,
        this.settings.repositoryPrograms,
        this.settings.workspace,
      );
      if (!command.allowed) return deny(command.rule, command.reason, argv.join(' '));
    }
    if (tool === 'run_tests') {
      const asked = (input as Inputs['run_tests']).argv;
      const testArgv = asked ?? this.settings.testCommand;
      if (!testArgv) return deny('tests.none', 'the repository map found no test command; pass argv');
      // The declared test command is what the runtime itself runs to verify: its program is trusted,
      // but what its script or recipe runs is judged like anything else.
      const programs = this.settings.testCommand?.[0]
        ? new Set([...this.settings.repositoryPrograms, this.settings.testCommand[0]])
        : this.settings.repositoryPrograms;
      const command = await checkCommandInWorkspace(testArgv, programs, this.settings.workspace);
      // The declared test command over build files no one in this run has touched is the repository's
      // own, exactly what verification runs: a recipe Gantry cannot follow with certainty (a Makefile's
      // includes, say) does not stop it. Once the agent edits a build file, every rule applies.
      const ownTestCommand = !asked && !this.editedBuildDefinition();
      if (!command.allowed && !ownTestCommand) {
        const reason = asked
          ? command.reason
          : `the repository's test command ${testArgv.join(' ')}: ${command.reason}`;
        return deny(command.rule, reason, testArgv.join(' '));
      }
    }
    if (tool === 'edit_file' && paths[0] && !this.settings.mayEdit(paths[0].relative)) {
      return deny(
        'capability.editable-paths',
        `the ${this.settings.frame.principal.capability} capability may not edit ${paths[0].relative}`,
        paths[0].relative,
      );
    }
    const generated =
      tool === 'edit_file' && paths[0] ? this.settings.generated?.(paths[0].relative) : undefined;
    if (generated && paths[0]) return deny('edit.generated-path', generated, paths[0].relative);
    const testArgv =
      tool === 'run_tests' ? ((input as Inputs['run_tests']).argv ?? this.settings.testCommand) : undefined;
    const cedar = this.settings.policy.decide({
      principal: this.settings.frame.principal,
      action: toolActions[tool],
      resource: {
        repository: this.settings.frame.repository,
        ...(paths[0] ? { path: paths[0].relative } : {}),
        ...(argv || testArgv ? { command: (argv ?? testArgv ?? []).join(' ') } : {}),
      },
      context: this.settings.frame.context(),
    });
    if (cedar.decision === 'deny')
      return { verdict: cedar, tool: 'finish', input: {} as Inputs[ToolName], paths: [] };
    // Last, so the policy's own rules (protected paths, secret files) name the refusal when they apply.
    if (tool === 'edit_file' && paths[0]) {
      const refused = await this.checkEditContent(input as Inputs['edit_file'], paths[0]);
      if (refused) return deny(refused.rule, refused.reason, paths[0].relative);
    }
    return {
      verdict: cedar,
      tool,
      input,
      paths,
    };
  }

  /**
   * Refuses an edit that would write a configured secret (in any encoding), or a redaction
   * placeholder where the file had something else: the model only ever saw the placeholder, so
   * writing it back would destroy what it stands for. Refused, never rewritten, so what is written
   * is always exactly what the model asked for.
   */
  private async checkEditContent(
    input: Inputs['edit_file'],
    path: { relative: string; host: string },
  ): Promise<{ rule: string; reason: string } | undefined> {
    for (const [field, text] of [
      ['replacement text', input.replace],
      ['find text', input.find ?? ''],
      ['path', input.path],
    ] as const) {
      const found = this.redactor.secretsIn(text);
      if (found.count > 0) {
        return {
          rule: 'edit.secret-value',
          reason: `the ${field} of the edit to ${path.relative} holds a configured secret value (${found.encoding}); secrets are never written to the repository, so leave it out`,
        };
      }
    }
    const before = await readFile(path.host, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
      throw error;
    });
    const edited = editedText(path.relative, before, input);
    // An edit that cannot apply is reported when it runs, with the same reason.
    if (!edited.ok) return undefined;
    if (this.redactor.secretsIn(edited.after).count > this.redactor.secretsIn(before ?? '').count) {
      return {
        rule: 'edit.secret-value',
        reason: `the edit to ${path.relative} would put a configured secret value into the file, joined from the edit and the text around it; secrets are never written to the repository`,
      };
    }
    if (countMarkers(edited.after) > countMarkers(before ?? '')) {
      return {
        rule: 'edit.redaction-marker',
        reason: `the edit to ${path.relative} writes a [REDACTED:…] placeholder; the file holds a secret there that you were not shown, so edit around it with a find that leaves that text out`,
      };
    }
    return undefined;
  }

  private async execute(
    tool: ToolName,
    input: Inputs[ToolName],
    paths: { relative: string; host: string }[],
  ): Promise<Execution> {
    const path = paths[0];
    switch (tool) {
      case 'list_files': {
        // find has no `--`: a starting point written as ./x can never be read as an expression.
        const result = await this.run([
          'find',
          asOperand(path?.relative ?? '.'),
          '-maxdepth',
          '4',
          '-type',
          'f',
          '-not',
          '-path',
          '*/.git/*',
          '-not',
          '-path',
          '*/node_modules/*',
        ]);
        const files = result.stdout
          .split('\n')
          .filter(Boolean)
          .map((f) => f.replace(/^\.\//, ''))
          .sort();
        return {
          ok: result.exitCode === 0,
          output: files.join('\n') || result.stderr,
          exitCode: result.exitCode,
          truncated: result.outputTruncated,
        };
      }
      case 'read_file': {
        const result = await this.run(['cat', '--', asOperand(path?.relative ?? '')]);
        return {
          ok: result.exitCode === 0,
          output: result.exitCode === 0 ? result.stdout : result.stderr,
          exitCode: result.exitCode,
          truncated: result.outputTruncated,
        };
      }
      case 'search_code': {
        const { pattern } = input as Inputs['search_code'];
        const result = await this.run([
          'grep',
          '-rnF',
          '--exclude-dir=.git',
          '--exclude-dir=node_modules',
          // The pattern after -e and the path after --: neither is ever read as an option.
          '-e',
          pattern,
          '--',
          path?.relative ?? '.',
        ]);
        const ok = result.exitCode === 0 || result.exitCode === 1;
        return {
          ok,
          output: result.exitCode === 1 ? 'no matches' : result.stdout || result.stderr,
          exitCode: result.exitCode,
          truncated: result.outputTruncated,
        };
      }
      case 'edit_file':
        return this.edit(input as Inputs['edit_file'], path as { relative: string; host: string });
      case 'run_command': {
        const result = await this.run((input as Inputs['run_command']).argv);
        return {
          ok: result.exitCode === 0,
          output: describeResult(result),
          exitCode: result.exitCode,
          truncated: result.outputTruncated,
          limitHit: result.timedOut ? 'wall-time' : result.limitHit,
        };
      }
      case 'run_tests': {
        const argv = (input as Inputs['run_tests']).argv ?? (this.settings.testCommand as string[]);
        const result = await this.run(argv);
        return {
          ok: true,
          output: describeResult(result),
          exitCode: result.exitCode,
          truncated: result.outputTruncated,
          testRun: { argv, result },
          limitHit: result.timedOut ? 'wall-time' : result.limitHit,
        };
      }
      case 'finish':
        return { ok: true, output: 'phase finished' };
    }
  }

  private async edit(
    input: Inputs['edit_file'],
    path: { relative: string; host: string },
  ): Promise<Execution> {
    const outcome = await applyEdit((argv, stdin) => this.run(argv, stdin), path.relative, input);
    return {
      ok: outcome.ok,
      output: outcome.output,
      exitCode: outcome.exitCode,
      ...(outcome.change ? { fileChange: { path: path.relative, ...outcome.change } } : {}),
    };
  }

  private run(argv: string[], stdin?: string): Promise<SandboxResult> {
    return this.sandbox.run({
      argv,
      workspace: this.settings.workspace,
      stdin,
      limits: this.settings.limits,
      network: 'none',
      ...this.settings.profile,
    });
  }
}

const systemActor: Actor = { kind: 'system', id: 'tool-gateway' };

function deniedMessage(decision: PolicyDecision): string {
  return `DENIED by ${decision.determiningPolicies.join(', ')}: ${decision.reasons.join('; ')}`;
}

/** What a command printed, with how it ended, as the model reads it. */
export function describeResult(result: SandboxResult): string {
  const ending = result.timedOut
    ? 'killed: wall-time limit reached'
    : result.limitHit
      ? `killed: ${result.limitHit} limit reached`
      : `exit code ${result.exitCode}`;
  return `${result.stdout}${result.stderr ? `\n[stderr]\n${result.stderr}` : ''}\n[${ending}${result.outputTruncated ? ', output truncated' : ''}]`;
}

/**
 * A workspace-relative path as a program's operand: `./` in front whenever it is not `.` itself, so
 * it cannot start with `-` even for programs that take no `--`. Paths arrive confined and relative.
 */
function asOperand(relative: string): string {
  return relative === '.' || relative.startsWith('./') ? relative : `./${relative}`;
}

/** How many redaction placeholders a text holds. */
function countMarkers(text: string): number {
  return text.match(/\[REDACTED:[a-z-]+\]/g)?.length ?? 0;
}

function clip(text: string): string {
  return text.length <= MODEL_OUTPUT_LIMIT
    ? text
    : `${text.slice(0, MODEL_OUTPUT_LIMIT)}\n[… ${text.length - MODEL_OUTPUT_LIMIT} more characters kept in the artifact]`;
}
