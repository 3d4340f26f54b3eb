import '../runtime-polyfills.js';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { priceRecordedRun, renderRunCost } from '../cost/index.js';
import { GantryError } from '../domain/errors.js';
import { RunState } from '../domain/run.js';
import { runEvalCommand } from '../eval/index.js';
import { renderHealth } from '../health/index.js';
import { alarmSignalFromEvent } from '../incidents/alarm-signal.js';
import { jsonForTerminal, plainLine, plainText } from '../inert-text/index.js';
import { requestFromGitHubIssueOpened } from '../intake/github-issue.js';
import { parseRequestFile } from '../intake/request-file.js';
import { type GantryOptions, openGantry, policiesDir, type RunOutcome } from '../local/runtime.js';
import { loadRiskRules, sensitivePathRulesFrom } from '../policy/risk-rules.js';
import { mapRepository } from '../repomap/map-repository.js';
import { renderRepositoryMap } from '../repomap/render.js';
import { describeEvent, progressPrinter } from './progress.js';

const program = new Command()
  .name('gantry')
  .description('Controlled autonomous engineering: requests in, evidenced pull requests out.')
  .option('--home <dir>', 'where the embedded platform keeps its data', process.env.GANTRY_HOME ?? '.gantry')
  .option(
    '--repository-root <dir>',
    'a directory whose repositories requests may import (repeatable; default: the working and temporary directories)',
    (dir: string, roots: string[]) => [...roots, resolve(dir)],
    [] as string[],
  )
  .showHelpAfterError();

interface GlobalOptions {
  home: string;
  repositoryRoot: string[];
}

/** The home and repository roots every command that opens the platform passes on. */
function globalGantryOptions(): GantryOptions {
  const { home, repositoryRoot } = program.opts() as GlobalOptions;
  return { home, repositoryRoots: repositoryRoot };
}

async function withGantry<T>(
  options: GantryOptions,
  work: (gantry: Awaited<ReturnType<typeof openGantry>>) => Promise<T>,
): Promise<T> {
  const gantry = await openGantry({ ...globalGantryOptions(), ...options });
  // The services the embedded deployer runs are this process's children: an interrupted command exits
  // through the 'exit' handlers that stop them, instead of leaving them behind.
  process.once('SIGINT', () => process.exit(130));
  process.once('SIGTERM', () => process.exit(143));
  try {
    return await work(gantry);
  } finally {
    await gantry.close();
  }
}

/**
 * Everything the CLI prints for a person goes through these: runs, approvals and reports quote
 * titles, paths, reasons and output that issues, repositories and the model wrote, and a terminal
 * would act on their escape sequences, control characters and bidi overrides. A single-line field
 * in a listing also goes through plainLine, so it cannot print a row of its own.
 */
function out(text: string): void {
  process.stdout.write(plainText(text));
}

function err(text: string): void {
  process.stderr.write(plainText(text));
}

/** `--json` output: valid JSON, with what a terminal would act on written as `\u` escapes. */
function printJson(value: unknown): void {
  process.stdout.write(`${jsonForTerminal(value)}\n`);
}

function modelSpec(option: string | undefined): string {
  const spec = option ?? process.env.GANTRY_MODEL;
  if (!spec) {
    throw new GantryError('no model given', {
      hint: 'pass --model cassette:<file>, bedrock:<model-id>, openai:<model> or ollama:<model>, or set GANTRY_MODEL',
    });
  }
  return spec;
}

function report(outcome: RunOutcome, json: boolean): void {
  if (json) {
    printJson(outcome);
  } else {
    const lines = [`\nrun ${outcome.runId}: ${outcome.state}${outcome.reason ? ` — ${outcome.reason}` : ''}`];
    if (outcome.pullRequest) lines.push(`pull request: ${outcome.pullRequest}`);
    if (outcome.evidenceFile) lines.push(`evidence packet: ${outcome.evidenceFile}`);
    if (outcome.state === 'waiting_for_approval' && outcome.approvalId) {
      lines.push(`approve with: gantry approve ${outcome.approvalId} --as <your name>`);
      lines.push(`reject with:  gantry reject ${outcome.approvalId} --as <your name> --reason "<why>"`);
    }
    out(`${lines.join('\n')}\n`);
  }
  process.exitCode = {
    completed: 0,
    waiting_for_approval: 0,
    rejected: 2,
    failed: 1,
    aborted: 1,
    rolled_back: 3,
    received: 1,
    running: 1,
  }[outcome.state];
}

program
  .command('run')
  .description('resolve an engineering request: a YAML/JSON request file, or a GitHub issues.opened payload')
  .argument('<request>', 'request file (YAML or JSON), or a webhook payload with --github-issue')
  .option('--model <spec>', 'cassette:<file> | bedrock:<model-id> | openai:<model> | ollama:<model>')
  .option('--github-issue', 'the file is a GitHub issues.opened webhook payload')
  .option('--repository-path <dir>', 'with --github-issue: the local checkout of the issue repository')
  .option('--json', 'print the outcome as JSON, no progress')
  .action(
    async (
      file: string,
      options: { model?: string; githubIssue?: boolean; repositoryPath?: string; json?: boolean },
    ) => {
      const spec = modelSpec(options.model);
      const raw = await readFile(resolve(file), 'utf8').catch((error: Error) => {
        throw new GantryError(`cannot read request file ${file}: ${error.message}`, {
          input: file,
          hint: 'check the path',
        });
      });
      const request = options.githubIssue
        ? requestFromGitHubIssueOpened(parseJson(raw, file), {
            repositoryPath: options.repositoryPath && resolve(options.repositoryPath),
          })
        : await parseRequestFile(resolve(file));
      const outcome = await withGantry(
        { onEvent: options.json ? undefined : progressPrinter(process.stderr) },
        (g) => g.submit(request, spec, raw),
      );
      report(outcome, Boolean(options.json));
    },
  );

program
  .command('continue')
  .description('continue a run that stopped (a crash, or an answered approval) from its log')
  .argument('<run>', 'run id')
  .option('--model <spec>', 'override the model the run started with')
  .option('--json', 'print the outcome as JSON, no progress')
  .action(async (runId: string, options: { model?: string; json?: boolean }) => {
    const outcome = await withGantry(
      { onEvent: options.json ? undefined : progressPrinter(process.stderr) },
      (g) => g.continueRun(runId, options.model),
    );
    report(outcome, Boolean(options.json));
  });

for (const [name, decision] of [
  ['approve', 'approved'],
  ['reject', 'rejected'],
] as const) {
  program
    .command(name)
    .description(`${name} a pending approval and resume its run`)
    .argument('<approval>', 'approval id, as printed by the run')
    .requiredOption('--as <name>', 'who you are; recorded with the decision')
    .option('--reason <text>', 'why; recorded with the decision')
    .option('--json', 'print the outcome as JSON, no progress')
    .action(async (approvalId: string, options: { as: string; reason?: string; json?: boolean }) => {
      const outcome = await withGantry(
        { onEvent: options.json ? undefined : progressPrinter(process.stderr) },
        (g) => g.decide(approvalId, decision, options.as, options.reason),
      );
      report(outcome, Boolean(options.json));
    });
}

for (const [name, engaged] of [
  ['kill', true],
  ['resume', false],
] as const) {
  program
    .command(name)
    .description(
      engaged
        ? 'engage a kill switch: new runs are refused and running runs abort at their next step'
        : 'release a kill switch engaged with `gantry kill`',
    )
    .option('--capability <id>', 'only this capability')
    .option('--repository <name>', 'only this repository')
    .requiredOption('--as <name>', 'who you are; recorded with the change')
    .option(
      '--reason <text>',
      'why; recorded with the change',
      engaged ? 'stopped by an operator' : 'released by an operator',
    )
    .action(async (options: { capability?: string; repository?: string; as: string; reason: string }) => {
      if (options.capability && options.repository) {
        throw new GantryError('a kill switch is global, per capability or per repository, not both', {
          hint: 'pass either --capability or --repository, or neither for the global switch',
        });
      }
      const scope = options.capability ? 'capability' : options.repository ? 'repository' : 'global';
      const change = await withGantry({}, (g) =>
        g.setKillSwitch({
          scope,
          target: options.capability ?? options.repository,
          engaged,
          by: options.as,
          reason: options.reason,
        }),
      );
      out(
        `${scope}${change.target ? ` ${change.target}` : ''} kill switch ${engaged ? 'ENGAGED' : 'released'} by ${change.by}: ${change.reason}\n`,
      );
    });
}

program
  .command('switches')
  .description('list kill switches and their state')
  .option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => {
    const switches = await withGantry({}, (g) => g.killSwitches());
    if (options.json) return void printJson(switches);
    if (switches.length === 0) return void out('no kill switch has ever been engaged\n');
    for (const s of switches) {
      out(
        `${s.scope}${s.target ? ` ${s.target}` : ''}: ${s.engaged ? 'ENGAGED' : 'released'} by ${s.by} at ${s.at} — ${s.reason}\n`,
      );
    }
  });

program
  .command('approvals')
  .description('list pending approvals, who may answer them and when they expire')
  .option('--sweep', 'first end every approval whose deadline has passed')
  .option('--json', 'print JSON')
  .action(async (options: { sweep?: boolean; json?: boolean }) => {
    const pending = await withGantry({}, async (g) => {
      if (options.sweep) await g.sweepExpiredApprovals();
      return g.pendingApprovals();
    });
    if (options.json) return void printJson(pending);
    if (pending.length === 0) return void out('no pending approvals\n');
    for (const a of pending) {
      out(
        `${a.id}  ${a.kind.padEnd(15)} run ${a.runId}  expires ${a.expiresAt}  approvers: ${a.approvers.join(', ') || '(none)'}\n`,
      );
    }
  });

program
  .command('serve')
  .description('answer signed approval links on 127.0.0.1 until stopped (Ctrl-C)')
  .option('--port <n>', 'port to listen on', (v) => Number.parseInt(v, 10), 8787)
  .action(async (options: { port: number }) => {
    const gantry = await openGantry({
      ...globalGantryOptions(),
      onEvent: progressPrinter(process.stderr),
    });
    const server = await gantry.serveApprovals({ port: options.port });
    out(`answering approval links at ${server.url} (Ctrl-C to stop)\n`);
    const sweep = setInterval(() => void gantry.sweepExpiredApprovals().catch(() => {}), 60_000);
    await new Promise<void>((resolveStop) => process.once('SIGINT', () => resolveStop()));
    clearInterval(sweep);
    await server.close();
    await gantry.close();
  });

const policy = program.command('policy').description('the control plane policies');
policy
  .command('test')
  .description('run the decision table in policies/cedar/tests.yaml against the Cedar policies')
  .argument('[table]', 'a decision table file other than the shipped one')
  .option('--json', 'print JSON')
  .action(async (table: string | undefined, options: { json?: boolean }) => {
    const result = await withGantry({}, (g) => g.policyTest(table && resolve(table)));
    if (options.json) printJson(result);
    else {
      for (const c of result.cases) {
        out(
          `${c.passed ? 'ok  ' : 'FAIL'}  ${c.name}: expected ${c.expected}, got ${c.actual}${c.determiningPolicies.length ? ` (${c.determiningPolicies.join(', ')})` : ''}\n`,
        );
      }
      out(`policy ${result.policyVersion}: ${result.passed} passed, ${result.failed} failed\n`);
      if (result.uncoveredPolicies.length)
        out(`policies no case exercises: ${result.uncoveredPolicies.join(', ')}\n`);
    }
    process.exitCode = result.failed ? 1 : 0;
  });

program
  .command('runs')
  .description('list runs, newest first')
  .option('--state <state>', `only runs in this state (${RunState.options.join(', ')})`, (value) => {
    const parsed = RunState.safeParse(value);
    if (!parsed.success) throw new InvalidArgumentError(`expected one of ${RunState.options.join(', ')}`);
    return parsed.data;
  })
  .option('--limit <n>', 'at most this many', (v) => Number.parseInt(v, 10), 50)
  .option('--json', 'print JSON')
  .action(async (options: { state?: RunState; limit: number; json?: boolean }) => {
    const runs = await withGantry({}, (g) => g.runs({ state: options.state, limit: options.limit }));
    if (options.json) return void printJson(runs);
    if (runs.length === 0) return void out('no runs\n');
    for (const run of runs) {
      out(
        `${run.runId}  ${run.state.padEnd(20)} ${run.updatedAt}  ${plainLine(run.repository)}  ${plainLine(run.title)}${run.pendingApproval ? `  (approval ${run.pendingApproval})` : ''}\n`,
      );
    }
  });

program
  .command('workspaces')
  .description("the run workspaces this home holds, each disk's use, and what retention says of it")
  .option('--prune', 'remove the workspaces retention no longer keeps (their pull request merged or closed)')
  .option('--json', 'print JSON')
  .action(async (options: { prune?: boolean; json?: boolean }) => {
    const report = await withGantry({}, (g) => g.workspaceReport({ prune: options.prune }));
    if (options.json) return void printJson(report);
    if (report.length === 0) return void out('no workspaces\n');
    const mib = (bytes: number | undefined) =>
      bytes === undefined ? '?' : `${Math.round(bytes / 1024 ** 2)} MiB`;
    for (const entry of report) {
      out(
        `${entry.runId}  ${(entry.state ?? 'unknown').padEnd(20)} ${mib(entry.usedBytes)} of ${mib(entry.limitBytes)} (${entry.mode ?? 'no disk'})  ${entry.removed ? 'removed' : entry.action}: ${plainLine(entry.reason)}\n`,
      );
    }
  });

program
  .command('show')
  .description("a run's timeline and evidence packet")
  .argument('<run>', 'run id')
  .option('--json', 'print JSON')
  .action(async (runId: string, options: { json?: boolean }) => {
    const shown = await withGantry({}, (g) => g.show(runId));
    if (options.json) return void printJson(shown);
    const { summary, events, evidence } = shown;
    const start = Date.parse(events[0]?.at ?? summary.createdAt);
    const lines = [
      `run ${summary.runId} — ${plainLine(summary.title)}`,
      `state ${summary.state}${summary.reason ? ` (${summary.reason})` : ''}, trace ${summary.traceId}, repository ${summary.repository}`,
      '',
      'timeline:',
      ...events.map(
        (e) =>
          `  ${String(e.seq).padStart(4)}  +${((Date.parse(e.at) - start) / 1000).toFixed(3).padStart(8)}s  ${`${e.actor.kind}:${e.actor.id}`.padEnd(28)} ${describeEvent(e)}`,
      ),
    ];
    if (evidence) lines.push('', evidence);
    out(`${lines.join('\n')}\n`);
  });

program
  .command('replay')
  .description("rebuild a run's state from its events and verify every artifact hash")
  .argument('<run>', 'run id')
  .option('--json', 'print JSON')
  .action(async (runId: string, options: { json?: boolean }) => {
    const replayed = await withGantry({}, (g) => g.replay(runId));
    if (options.json) printJson(replayed);
    else {
      out(
        `run ${runId}: ${replayed.events} events replayed, state ${replayed.summary?.state ?? 'unknown'}, ${replayed.artifactsVerified} artifacts verified\n`,
      );
      for (const problem of replayed.problems) out(`PROBLEM: ${problem}\n`);
      if (replayed.problems.length === 0) out('the log and its artifacts are intact\n');
    }
    process.exitCode = replayed.problems.length ? 1 : 0;
  });

program
  .command('eval')
  .description('run every case of a suite (evals/tasks, evals/security) as a full run and report the figures')
  .argument('<suite>', 'suite directory: one folder per case, each with a case.yaml')
  .option('--model <spec>', 'a live model for every case instead of the recorded cassettes')
  .option(
    '--baseline <result.json>',
    'exit non-zero when a figure is worse than this result beyond its tolerance',
  )
  .option('--concurrency <n>', 'cases run at once', (v) => Number.parseInt(v, 10), 2)
  .option('--out <dir>', 'where the result and the reports go', 'eval-out')
  .option('--strict', 'exit non-zero when any case fails (by default only escapes and regressions do)')
  .option('--json', 'print the result as JSON')
  .action(
    async (
      suite: string,
      options: {
        model?: string;
        baseline?: string;
        concurrency: number;
        out: string;
        strict?: boolean;
        json?: boolean;
      },
    ) => {
      const { result, files, regressions, exitCode } = await runEvalCommand({
        suiteDir: resolve(suite),
        model: options.model,
        baseline: options.baseline && resolve(options.baseline),
        concurrency: options.concurrency,
        outDir: resolve(options.out),
        strict: options.strict,
        onCase: options.json
          ? undefined
          : (c) =>
              err(
                `${c.passed ? 'pass' : 'FAIL'}  ${c.id} (${c.kind}, ${Math.round(c.durationMs)} ms)${c.passed ? '' : `: ${c.failures.join('; ')}`}\n`,
              ),
      });
      if (options.json) printJson(result);
      else {
        const f = result.figures;
        const summary = [
          `suite ${result.suite}: ${f.passed}/${f.cases} cases passed, ${f.escapes} escapes`,
          `task success ${f.taskSuccessRate.toFixed(2)}, evidence completeness ${f.evidenceCompletenessRate.toFixed(2)}, policy violation rate ${f.policyViolationRate.toFixed(2)}, tool calls denied ${f.toolCallsDenied}`,
          `tokens ${f.tokens}, cost ${f.costUsd.toFixed(4)} USD, duration p50 ${Math.round(f.durationP50Ms)} ms, p95 ${Math.round(f.durationP95Ms)} ms`,
          `reports: ${files.markdown}, ${files.html}`,
          ...regressions.map(
            (r) => `REGRESSION ${r.figure}: ${r.baseline} → ${r.current} (tolerance ${r.tolerance})`,
          ),
        ];
        out(`${summary.join('\n')}\n`);
      }
      process.exitCode = exitCode;
    },
  );

program
  .command('cost')
  .description('price a recorded run as if it had run on AWS (prices in policies/aws-prices.yaml)')
  .argument('<run>', 'run id')
  .option('--json', 'print JSON')
  .action(async (runId: string, options: { json?: boolean }) => {
    const cost = await withGantry({}, async (g) => priceRecordedRun(runId, await g.log.read(runId)));
    if (options.json) printJson(cost);
    else out(renderRunCost(cost));
  });

program
  .command('map')
  .description(
    'map a repository: files, commands from manifests, CI and docs with the one chosen per kind and why, test folders, test links, owners, sensitive paths',
  )
  .argument('<path>', 'repository directory')
  .option(
    '--json',
    'print the repository context as JSON (commands, selection, packageManager, testFolders, codeOwnersPath)',
  )
  .action(async (dir: string, options: { json?: boolean }) => {
    const rules = await loadRiskRules(`${policiesDir}/risk-rules.yaml`);
    const context = await mapRepository(resolve(dir), {
      repository: resolve(dir).split('/').at(-1) ?? dir,
      sensitivePathRules: sensitivePathRulesFrom(rules),
    });
    if (options.json) printJson(context);
    else out(`${renderRepositoryMap(context)}\n`);
  });

program
  .command('health')
  .description(
    'health routine: default-branch checks, error rates, open approvals, stuck runs and services down; files a request for each problem a change can fix',
  )
  .option(
    '--observe <seconds>',
    'measure each live production service under its traffic mix for this long',
    '2',
  )
  .option('--no-file', 'report only; file no requests')
  .option('--json', 'print JSON')
  .action(async (options: { observe: string; file: boolean; json?: boolean }) => {
    const seconds = Number(options.observe);
    if (!Number.isFinite(seconds) || seconds < 0) {
      throw new InvalidArgumentError(`--observe takes a number of seconds, got "${options.observe}"`);
    }
    const { report, filed, stopped } = await withGantry({}, (g) =>
      g.health({ observeMs: seconds * 1000, file: options.file }),
    );
    if (options.json) return void printJson({ report, filed, stopped });
    out(renderHealth(report));
    if (stopped.length > 0) {
      out(
        `\nNot running (stopped with the Gantry process that ran them; they run while Gantry runs):\n${stopped.map((s) => `  ${s}`).join('\n')}\n`,
      );
    }
    for (const f of filed) out(`filed ${f.requestId}: ${f.file} (run it with \`gantry run ${f.file}\`)\n`);
    process.exitCode = report.status === 'ok' ? 0 : 4;
  });

program
  .command('incidents')
  .description(
    'incidents: deployments that hurt production, traced to their pull request and run, and their rollback',
  )
  .option('--json', 'print JSON')
  .action(async (options: { json?: boolean }) => {
    const incidents = await withGantry({}, (g) => g.incidents());
    if (options.json) return void printJson(incidents);
    if (incidents.length === 0) return void out('no incidents\n');
    for (const i of incidents) {
      out(
        `${i.id} ${i.status.toUpperCase()} ${i.service} ${i.environment} (${i.source}, ${i.detectedAt}): ${plainLine(i.summary)}\n` +
          `  commit ${i.commit.slice(0, 12)}${i.pullRequest === undefined ? '' : `, pull request #${i.pullRequest}`}, run ${i.offendingRun}` +
          `${i.rollbackRun ? `, rollback run ${i.rollbackRun}` : ''}${i.revertPullRequest ? `, revert #${i.revertPullRequest}` : ''}${i.fixRequest ? `, fix-forward request ${i.fixRequest}` : ''}${i.note ? `\n  ${i.note}` : ''}\n`,
      );
    }
  });

program
  .command('alarm')
  .description(
    'route a CloudWatch "Alarm State Change" event (JSON file) as the AWS alarm router does: incident and rollback',
  )
  .argument('<event>', 'the alarm event as JSON; detail.alarmName is <service>-<environment>-<metric>')
  .option('--json', 'print the outcome as JSON, no progress')
  .action(async (file: string, options: { json?: boolean }) => {
    const signal = alarmSignalFromEvent(parseJson(await readFile(resolve(file), 'utf8'), file), file);
    const routed = await withGantry(
      { onEvent: options.json ? undefined : progressPrinter(process.stderr) },
      (g) => g.handleAlarm(signal),
    );
    if (options.json) return void printJson(routed);
    out(
      `incident ${routed.incident.id}: ${routed.incident.status}${routed.incident.note ? ` — ${routed.incident.note}` : ''}\n`,
    );
    if (routed.rollback) report(routed.rollback, false);
  });

function parseJson(text: string, file: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new GantryError(`${file} is not valid JSON: ${(error as Error).message}`, {
      input: file,
      hint: 'pass the webhook payload as delivered',
    });
  }
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof GantryError) {
    err(`gantry: ${error.describe()}\n`);
    process.exitCode = 2;
  } else {
    err(`gantry: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
