import { createHash } from 'node:crypto';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';
import { RequestFile } from '../domain/request.js';
import type { CheckObservation } from './health-input.js';
import type { AttentionItem, ErrorRateStatus, HealthReport, ServiceDown } from './health-report.js';

/** Who files the health routine's requests; a person never approves their own run, nor does this name. */
export const HEALTH_REQUESTER = 'gantry-health';

/** Text from checks and probes is cut to this length in a request: enough to start from, not a log dump. */
const MAX_DETAIL_CHARS = 2_000;

const standardConstraints = ['Do not change dependencies', 'Do not modify migration files'];

export interface AttentionRequestOptions {
  /** Keys (or request ids) already filed and still open: their items are skipped. */
  alreadyFiled?: Iterable<string>;
  /** The repository that holds a service's code; the service's own name when not given. */
  repositoryFor?: (service: string) => string;
}

/**
 * Turns what needs attention into engineering requests, one per problem that a code change can fix:
 *
 * - a failing check on a default branch: `low-risk-bugfix` on its repository (the caller sets the
 *   source, `ci-failure`, at intake);
 * - a service down, or over its error rate: `service-bugfix` on the service's repository, titled as
 *   an incident with the figures, so the fix is reproduced, reviewed and rolled out with analysis.
 *   Not `rollback`: that capability reverts one known deployment, and the rollback routine files it
 *   itself when an alarm traces to a Gantry deployment.
 *
 * Stuck runs and waiting approvals get no request: no agent can resume a run or answer a gate, and no
 * code is broken. The rendered report names them for a person (`gantry continue`, `gantry approve`,
 * `gantry approvals --sweep`).
 *
 * Each request's `id` is {@link attentionRequestId} of its item's key, so filing is idempotent: an item
 * whose key or id is in `alreadyFiled` is skipped, and one key never gives two requests.
 *
 * @example
 * const filed = new Set(await openHealthRequestIds());
 * for (const request of attentionRequests(report, { alreadyFiled: filed })) await fileRequest(request);
 */
export function attentionRequests(
  report: HealthReport,
  options: AttentionRequestOptions = {},
): RequestFile[] {
  const filed = new Set(options.alreadyFiled ?? []);
  const repositoryFor = options.repositoryFor ?? ((service: string) => service);
  const requests: RequestFile[] = [];
  const done = new Set<string>();
  for (const item of report.attention) {
    const id = attentionRequestId(item.key);
    if (done.has(item.key) || filed.has(item.key) || filed.has(id)) continue;
    done.add(item.key);
    const draft = draftFor(item, report, repositoryFor);
    if (!draft) continue;
    const request = { id, requester: HEALTH_REQUESTER, constraints: standardConstraints, ...draft };
    const parsed = RequestFile.safeParse(request);
    if (!parsed.success) {
      throw new InvalidInputError(
        `the request for health item ${item.key} is invalid: ${formatZodIssues(parsed.error.issues)}`,
        {
          input: item.key,
          hint: 'a repository name holds letters, digits, dot, dash and underscore: map the service to its repository with repositoryFor',
          cause: parsed.error,
        },
      );
    }
    requests.push(request);
  }
  return requests;
}

/**
 * The request id for an attention item's key: readable, safe in a file name, and the same for the
 * same key on every run of the routine.
 *
 * @example
 * attentionRequestId('check-failing:billing-service:main:test'); // 'health-check-failing-billing-service-main-test-1a2b3c4d'
 */
export function attentionRequestId(key: string): string {
  const slug = key
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .slice(0, 80)
    .replace(/-$/, '');
  // The hash keeps two keys apart that the slug would merge ("a:b" and "a-b").
  const digest = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return `health-${slug}-${digest}`;
}

type RequestDraft = Pick<
  RequestFile,
  'title' | 'capability' | 'repository' | 'description' | 'acceptanceCriteria'
>;

function draftFor(
  item: AttentionItem,
  report: HealthReport,
  repositoryFor: (service: string) => string,
): RequestDraft | undefined {
  switch (item.kind) {
    case 'check-failing': {
      const check = report.checks.find(
        (c) => item.key === `check-failing:${c.repository}:${c.branch}:${c.name}`,
      );
      return check ? checkRequest(check, item) : undefined;
    }
    case 'error-rate': {
      const rate = report.errorRates.find(
        (r) => r.service === item.service && r.environment === item.environment,
      );
      return rate ? errorRateRequest(rate, item, repositoryFor(rate.service)) : undefined;
    }
    case 'service-down': {
      const down = report.servicesDown.find(
        (d) => d.service === item.service && d.environment === item.environment,
      );
      return down ? serviceDownRequest(down, item, repositoryFor(down.service)) : undefined;
    }
    case 'stuck-run':
    case 'approval-waiting':
      return undefined;
  }
}

function checkRequest(check: CheckObservation, item: AttentionItem): RequestDraft {
  return {
    title: clip(`Check ${check.name} fails on ${check.repository}@${check.branch}`, 300),
    capability: 'low-risk-bugfix',
    repository: { name: check.repository, defaultBranch: check.branch },
    description: [
      `Gantry's health routine found the check \`${check.name}\` failing on ${check.branch} of ${check.repository}, at commit ${check.commit} (${check.at}).`,
      check.detail
        ? `Output of the check:\n\n${clip(check.detail, MAX_DETAIL_CHARS)}`
        : 'The check gave no output.',
      `Health item: ${item.key}`,
    ].join('\n\n'),
    acceptanceCriteria: [
      `The check ${check.name} passes on ${check.branch}`,
      'The cause of the failure is shown by a test that fails before the fix',
      'The existing tests keep passing',
    ],
  };
}

function errorRateRequest(rate: ErrorRateStatus, item: AttentionItem, repository: string): RequestDraft {
  const limit = percent(rate.threshold);
  return {
    title: clip(
      `Incident: ${rate.service} ${rate.environment} answers ${percent(rate.errorRate)} errors`,
      300,
    ),
    capability: 'service-bugfix',
    repository: { name: repository },
    description: [
      `Gantry's health routine measured ${rate.service} in ${rate.environment} at ${measured(rate)}, above the limit of ${limit}.`,
      'Find which requests fail and why, reproduce it with a failing test and fix it; the rollout analysis checks the fix under the same traffic.',
      `Health item: ${item.key}`,
    ].join('\n\n'),
    acceptanceCriteria: [
      `The failing requests are reproduced by a test that fails before the fix`,
      `${rate.service} ${rate.environment} stays at or below ${limit} errors under its traffic`,
      'The existing tests keep passing',
    ],
  };
}

function serviceDownRequest(down: ServiceDown, item: AttentionItem, repository: string): RequestDraft {
  const deployed = [
    down.deploymentId && `deployment ${down.deploymentId}`,
    down.commit && `commit ${down.commit}`,
  ]
    .filter(Boolean)
    .join(', ');
  return {
    title: clip(`Incident: ${down.service} ${down.environment} is down`, 300),
    capability: 'service-bugfix',
    repository: { name: repository },
    description: [
      `Gantry's health routine found ${down.service} in ${down.environment} down: ${clip(down.detail, MAX_DETAIL_CHARS)}.`,
      deployed ? `It runs ${deployed}.` : 'Gantry does not know which deployment it runs.',
      'Find why it does not answer, reproduce the cause with a failing test where code is at fault, and fix it.',
      `Health item: ${item.key}`,
    ].join('\n\n'),
    acceptanceCriteria: [
      `${down.service} ${down.environment} answers its health check`,
      'The cause is shown by a test that fails before the fix',
      'The existing tests keep passing',
    ],
  };
}

function measured(rate: ErrorRateStatus): string {
  return (
    `an error rate of ${percent(rate.errorRate)} (${rate.errors} of ${rate.requests} requests), ` +
    `latency p50 ${rate.latencyP50Ms.toFixed(0)} ms and p95 ${rate.latencyP95Ms.toFixed(0)} ms`
  );
}

function percent(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}
