import { readFile, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunEvent } from '../src/domain/events.js';
import { exampleCassette, exampleDir, runGantry, tempHome } from './support/gantry-cli.js';

const require = createRequire(import.meta.url);

interface WebhookExample {
  name: string;
  examples: Array<{ action?: string; issue?: Record<string, unknown> } & Record<string, unknown>>;
}

describe('a GitHub issues.opened webhook becomes a resolved run', () => {
  let home: { home: string; cleanup: () => Promise<void> };
  beforeAll(async () => {
    home = await tempHome('gantry-github-');
  });
  afterAll(async () => {
    await home.cleanup();
  });

  it('resolves the issue from a real webhook payload, keeping the issue as the request source', async () => {
    // Prepare: a real payload from @octokit/webhooks-examples, with the billing bug as its issue
    const index = JSON.parse(
      await readFile(require.resolve('@octokit/webhooks-examples/api.github.com/index.json'), 'utf8'),
    ) as WebhookExample[];
    const opened = index.find((e) => e.name === 'issues')?.examples.find((e) => e.action === 'opened');
    if (!opened?.issue) throw new Error('no issues.opened example in @octokit/webhooks-examples');
    const payload = structuredClone(opened);
    Object.assign(payload.issue as Record<string, unknown>, {
      title: 'Invoice total is wrong when the discount is zero',
      body: [
        'Customers with a negotiated 0% discount are billed with the 5% loyalty discount (src/invoice.js).',
        '',
        '## Acceptance criteria',
        '- [ ] An invoice with discountPercent 0 gets no discount',
        '- [ ] An invoice without discountPercent still gets the 5% loyalty discount',
      ].join('\r\n'),
    });
    const file = join(home.home, 'issues-opened.json');
    await writeFile(file, JSON.stringify(payload));
    // Act
    const run = await runGantry([
      '--home',
      home.home,
      'run',
      file,
      '--github-issue',
      '--repository-path',
      exampleDir,
      '--model',
      exampleCassette,
      '--json',
    ]);
    // Assess
    expect(run.code, run.stderr).toBe(0);
    const outcome = JSON.parse(run.stdout) as { runId: string; state: string; pullRequest: string };
    expect(outcome.state).toBe('completed');
    const shown = await runGantry(['--home', home.home, 'show', outcome.runId, '--json']);
    const events = (JSON.parse(shown.stdout) as { events: RunEvent[] }).events;
    const received = events[0];
    expect(received?.type).toBe('request.received');
    if (received?.type !== 'request.received') return;
    const issue = payload.issue as { html_url: string; user: { login: string } };
    expect(received.data.request).toMatchObject({
      source: 'github-issue',
      sourceRef: issue.html_url,
      requester: issue.user.login,
      acceptanceCriteria: [
        'An invoice with discountPercent 0 gets no discount',
        'An invoice without discountPercent still gets the 5% loyalty discount',
      ],
    });
    expect(outcome.pullRequest).toMatch(/^gantry:\/\/.+\/pull\/1$/);
  });

  it('refuses a payload that is not an opened issue, without starting a run', async () => {
    // Prepare
    const file = join(home.home, 'closed.json');
    await writeFile(file, JSON.stringify({ action: 'closed', issue: { number: 1 } }));
    // Act
    const run = await runGantry([
      '--home',
      join(home.home, 'other'),
      'run',
      file,
      '--github-issue',
      '--model',
      exampleCassette,
    ]);
    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/closed/);
  });
});
