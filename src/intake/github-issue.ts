import { ulid } from 'ulid';
import { z } from 'zod';
import { formatZodIssues, InvalidInputError } from '../domain/errors.js';
import { EngineeringRequest } from '../domain/request.js';
import { listItemsUnderHeading } from './markdown-sections.js';

/**
 * The fields of a GitHub `issues` webhook payload that intake reads. The rest of the payload is
 * left alone (GitHub adds fields over time), so this schema is deliberately not strict.
 */
export const GitHubIssueOpenedPayload = z.object({
  action: z.literal('opened'),
  issue: z.object({
    title: z.string().min(1),
    body: z.string().nullable().optional(),
    html_url: z.url(),
    user: z.object({ login: z.string().min(1) }),
    labels: z.array(z.object({ name: z.string() })).optional(),
  }),
  repository: z.object({
    name: z.string().min(1),
    owner: z.object({ login: z.string().min(1) }),
    default_branch: z.string().min(1),
  }),
});
export type GitHubIssueOpenedPayload = z.infer<typeof GitHubIssueOpenedPayload>;

export interface GitHubIssueOptions {
  /** The moment the webhook is received; defaults to the current time. */
  now?: Date;
  /** A local checkout of the repository, for the embedded forge. */
  repositoryPath?: string;
  /** The `X-GitHub-Event` header, when known: anything but `issues` is refused. */
  eventName?: string;
}

const capabilityLabelPrefix = 'gantry:';
const payloadHint =
  'Send the payload of a GitHub `issues` webhook with action `opened` (header X-GitHub-Event: issues).';

/**
 * Turns a GitHub `issues` webhook (action `opened`) into an {@link EngineeringRequest}.
 * The issue body becomes the description; its "Acceptance criteria" and "Constraints" sections
 * (any heading level) give one criterion or constraint per list item; a `gantry:<capability>`
 * label picks the capability.
 *
 * @example
 * const request = requestFromGitHubIssueOpened(webhookBody, { repositoryPath: '/srv/checkouts/hello' });
 * request.source; // 'github-issue'
 */
export function requestFromGitHubIssueOpened(
  payload: unknown,
  options: GitHubIssueOptions = {},
): EngineeringRequest {
  if (options.eventName !== undefined && options.eventName !== 'issues') {
    throw new InvalidInputError(
      `GitHub webhook event "${options.eventName}" cannot start a request: only "issues" events with action "opened" do.`,
      { input: `X-GitHub-Event: ${options.eventName}`, hint: payloadHint },
    );
  }
  refuseOtherEvents(payload);

  const parsed = GitHubIssueOpenedPayload.safeParse(payload);
  if (!parsed.success) {
    throw new InvalidInputError(
      `GitHub issues webhook payload is missing fields intake needs: ${formatZodIssues(parsed.error.issues)}`,
      { input: 'GitHub issues webhook payload', hint: payloadHint, cause: parsed.error },
    );
  }
  const { issue, repository } = parsed.data;
  const body = issue.body ?? '';
  const capability = capabilityFromLabels(issue.labels ?? [], issue.html_url);

  // Built field by field, never from the body's structure: a YAML block in an issue configures
  // nothing, and `repositoryConfig` is left unset because only an operator's request file sets it.
  const candidate = {
    id: issueRequestId(repository.owner.login, repository.name, issue.html_url),
    source: 'github-issue',
    sourceRef: issue.html_url,
    repository: {
      name: repository.name,
      owner: repository.owner.login,
      defaultBranch: repository.default_branch,
      ...(options.repositoryPath === undefined ? {} : { path: options.repositoryPath }),
    },
    requester: issue.user.login,
    ...(capability === undefined ? {} : { capability }),
    title: issue.title,
    description: body,
    acceptanceCriteria: listItemsUnderHeading(body, 'Acceptance criteria'),
    constraints: listItemsUnderHeading(body, 'Constraints'),
    receivedAt: (options.now ?? new Date()).toISOString(),
  };
  const request = EngineeringRequest.safeParse(candidate);
  if (!request.success) {
    throw new InvalidInputError(
      `GitHub issue ${issue.html_url} does not make a valid request: ${formatZodIssues(request.error.issues)}`,
      { input: issue.html_url, hint: 'Edit the issue so its title and labels meet the request schema.' },
    );
  }
  return request.data;
}

/** Names the event or action a payload carries when it is not an opened issue, so the error says so. */
function refuseOtherEvents(payload: unknown): void {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new InvalidInputError('GitHub webhook payload is not a JSON object.', {
      input: 'GitHub webhook payload',
      hint: payloadHint,
    });
  }
  const record = payload as Record<string, unknown>;
  if (!('issue' in record)) {
    const looksLike = ['pull_request', 'comment', 'check_run', 'workflow_run', 'release', 'pusher'].find(
      (key) => key in record,
    );
    throw new InvalidInputError(
      `GitHub webhook payload is not an issues event: it has no "issue" object${
        looksLike ? ` (it has "${looksLike}")` : ''
      }.`,
      { input: 'GitHub webhook payload', hint: payloadHint },
    );
  }
  if ('comment' in record) {
    throw new InvalidInputError(
      'GitHub webhook payload is an issue_comment event, not an issues event: comments do not start requests.',
      { input: 'GitHub webhook payload', hint: payloadHint },
    );
  }
  if (record.action !== 'opened') {
    throw new InvalidInputError(
      `GitHub issues event has action "${String(record.action)}": only "opened" starts a request.`,
      { input: 'GitHub webhook payload', hint: `${payloadHint} Other actions are ignored.` },
    );
  }
}

function capabilityFromLabels(labels: ReadonlyArray<{ name: string }>, issueUrl: string): string | undefined {
  const capabilities = [
    ...new Set(
      labels
        .filter((label) => label.name.toLowerCase().startsWith(capabilityLabelPrefix))
        .map((label) => label.name.slice(capabilityLabelPrefix.length).trim()),
    ),
  ];
  if (capabilities.length > 1) {
    throw new InvalidInputError(
      `GitHub issue ${issueUrl} has more than one capability label: ${capabilities
        .map((capability) => `gantry:${capability}`)
        .join(', ')}.`,
      { input: issueUrl, hint: 'Keep exactly one `gantry:<capability>` label on the issue.' },
    );
  }
  return capabilities[0] || undefined;
}

/**
 * The same issue always gives the same request id, so a redelivered webhook is recognised as a
 * duplicate instead of starting a second run. A URL without an issue number (never sent by GitHub)
 * falls back to a fresh ULID.
 */
function issueRequestId(owner: string, repository: string, issueUrl: string): string {
  const issueNumber = /\/issues\/(\d+)(?:$|[?#])/.exec(issueUrl)?.[1];
  return issueNumber === undefined ? ulid() : `gh-${owner}-${repository}-issue-${issueNumber}`;
}
