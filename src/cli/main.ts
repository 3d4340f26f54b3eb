import '../runtime-polyfills.js';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command, InvalidArgumentError } from 'commander';
import { GantryError } from '../domain/errors.js';
import { RunState } from '../domain/run.js';
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
  .showHelpAfterError();

interface GlobalOptions {
  home: string;
}

async function withGantry<T>(
  options: GantryOptions,
  work: (gantry: Awaited<ReturnType<typeof openGantry>>) => Promise<T>,
): Promise<T> {
  const gantry = await openGantry({ home: (program.opts() as GlobalOptions).home, ...options });
  try {
    return await work(gantry);
  } finally {
    await gantry.close();
  }
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
    process.stdout.write(`${JSON.stringify(outcome, null, 2)}\n`);
  } else {
    const lines = [`\nrun ${outcome.runId}: ${outcome.state}${outcome.reason ? ` — ${outcome.reason}` : ''}`];
    if (outcome.pullRequest) lines.push(`pull request: ${outcome.pullRequest}`);
    if (outcome.evidenceFile) lines.push(`evidence packet: ${outcome.evidenceFile}`);
    if (outcome.state === 'waiting_for_approval' && outcome.approvalId) {
      lines.push(`approve with: gantry approve ${outcome.approvalId} --as <your name>`);
      lines.push(`reject with:  gantry reject ${outcome.approvalId} --as <your name> --reason "<why>"`);
    }
    process.stdout.write(`${lines.join('\n')}\n`);
  }
  process.exitCode = {
    completed: 0,
    waiting_for_approval: 0,
    rejected: 2,
    failed: 1,
    aborted: 1,
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
  .command('resume')
  .description('continue a run that stopped (a crash, or an answered approval)')
  .argument('<run>', 'run id')
  .option('--model <spec>', 'override the model the run started with')
  .option('--json', 'print the outcome as JSON, no progress')
  .action(async (runId: string, options: { model?: string; json?: boolean }) => {
    const outcome = await withGantry(
      { onEvent: options.json ? undefined : progressPrinter(process.stderr) },
      (g) => g.resume(runId, options.model),
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
    if (options.json) return void process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
    if (runs.length === 0) return void process.stdout.write('no runs\n');
    for (const run of runs) {
      process.stdout.write(
        `${run.runId}  ${run.state.padEnd(20)} ${run.updatedAt}  ${run.repository}  ${run.title}${run.pendingApproval ? `  (approval ${run.pendingApproval})` : ''}\n`,
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
    if (options.json) return void process.stdout.write(`${JSON.stringify(shown, null, 2)}\n`);
    const { summary, events, evidence } = shown;
    const start = Date.parse(events[0]?.at ?? summary.createdAt);
    const lines = [
      `run ${summary.runId} — ${summary.title}`,
      `state ${summary.state}${summary.reason ? ` (${summary.reason})` : ''}, trace ${summary.traceId}, repository ${summary.repository}`,
      '',
      'timeline:',
      ...events.map(
        (e) =>
          `  ${String(e.seq).padStart(4)}  +${((Date.parse(e.at) - start) / 1000).toFixed(3).padStart(8)}s  ${`${e.actor.kind}:${e.actor.id}`.padEnd(28)} ${describeEvent(e)}`,
      ),
    ];
    if (evidence) lines.push('', evidence);
    process.stdout.write(`${lines.join('\n')}\n`);
  });

program
  .command('replay')
  .description("rebuild a run's state from its events and verify every artifact hash")
  .argument('<run>', 'run id')
  .option('--json', 'print JSON')
  .action(async (runId: string, options: { json?: boolean }) => {
    const replayed = await withGantry({}, (g) => g.replay(runId));
    if (options.json) process.stdout.write(`${JSON.stringify(replayed, null, 2)}\n`);
    else {
      process.stdout.write(
        `run ${runId}: ${replayed.events} events replayed, state ${replayed.summary?.state ?? 'unknown'}, ${replayed.artifactsVerified} artifacts verified\n`,
      );
      for (const problem of replayed.problems) process.stdout.write(`PROBLEM: ${problem}\n`);
      if (replayed.problems.length === 0) process.stdout.write('the log and its artifacts are intact\n');
    }
    process.exitCode = replayed.problems.length ? 1 : 0;
  });

program
  .command('map')
  .description('map a repository: files, build and test commands, test links, owners, sensitive paths')
  .argument('<path>', 'repository directory')
  .option('--json', 'print the repository context as JSON')
  .action(async (dir: string, options: { json?: boolean }) => {
    const rules = await loadRiskRules(`${policiesDir}/risk-rules.yaml`);
    const context = await mapRepository(resolve(dir), {
      repository: resolve(dir).split('/').at(-1) ?? dir,
      sensitivePathRules: sensitivePathRulesFrom(rules),
    });
    process.stdout.write(
      options.json ? `${JSON.stringify(context, null, 2)}\n` : `${renderRepositoryMap(context)}\n`,
    );
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
    process.stderr.write(`gantry: ${error.describe()}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`gantry: unexpected error: ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 1;
  }
}
